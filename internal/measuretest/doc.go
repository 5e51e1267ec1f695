// Package measuretest holds what the measurement tests share: the tests
// that print memory and CPU figures (internal/engine's TestMeasure and
// TestMeasureDeflate, the root package's TestMeasureContextTakeover). They
// run only with WSGATE_MEASURE=1 (Require) and are tuned by environment
// variables:
//
//	WSGATE_MEASURE=1             run the measurements at all
//	WSGATE_MEASURE_N             connection count, where a test takes one (N)
//	WSGATE_MEASURE_SIZE          message size in bytes, where a test takes one (Size)
//	WSGATE_MEASURE_GCS           collections before RSS is read (RSSAfterGC), default 1
//	WSGATE_MEASURE_CPUPROFILE    file for a CPU profile of the echo runs (StartCPUProfile)
//
// It starts no goroutine of its own beyond the servers Server runs, which
// its stop function ends.
package measuretest
