// Package delayproxy is a TCP proxy that adds latency, for tests and for
// wsgate delayproxy (many regions tried on one machine): every
// chunk of bytes it forwards, in either direction, is held for the
// proxy's delay before it is written on. A proxy in front of a server
// makes that server look far away (a round trip costs twice the delay
// more), and cutting the proxy's connections looks like a network
// failure to both ends.
//
// Delay is latency, not a bandwidth limit: chunks are read as they
// arrive and each waits its own delay, so a stream keeps its throughput.
//
// A Proxy owns its goroutines (one accepting, one dialling the target
// for each connection accepted, two per direction of each connection);
// Close stops and waits for all of them.
package delayproxy
