//go:build !linux

package backend

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
