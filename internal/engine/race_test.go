//go:build race

package engine_test

// raceEnabled: the race detector allows at most 8128 live goroutines, so
// goroutine-engine tests at tens of thousands of connections skip.
const raceEnabled = true
