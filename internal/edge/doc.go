// Package edge is the node registry of a wsgate cluster: each node
// announces itself on a Bus at a steady heartbeat (its id, region,
// public URL, connections, load and whether it is draining), every node
// keeps the list of the live ones, and a node that stops is forgotten:
// at once when it says it is leaving, after its heartbeat's time to live
// when it crashed. The list is served as GET /edge/nodes, and GET
// /edge/ping answers latency probes, so clients can measure each node
// and connect to the nearest.
//
// Files: node.go holds the Node record and the checks of its fields,
// heartbeat.go the wire form of a heartbeat (a parser of untrusted bytes,
// fuzzed), registry.go the Registry and its one goroutine, http.go the
// two endpoints.
//
// # Concurrency
//
// A Registry is safe for concurrent use. It runs one goroutine, the
// heartbeat loop, from New until Leave or Close, which stop and wait for
// it; with no Bus it runs none. Heartbeats from peers arrive on the Bus's
// goroutine, are applied under a mutex and never block.
package edge
