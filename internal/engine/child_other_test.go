//go:build !linux

package engine_test

// Off Linux no test runs a child process.
const childEnv = "ENGINE_TEST_CHILD_URL"

func childMain(string) int { return 1 }
