// Package e2e tests wsgate across library and process boundaries, through
// WebSocket clients written elsewhere.
//
// TestInterop runs one matrix of cases (see cases_test.go) against a server
// started in this process by each client: gorilla/websocket and
// coder/websocket in the test binary, Node's ws (node/interop.mjs) and
// Python's websockets (python/interop.py, for Debian's python3-websockets
// and /usr/bin/python3) as child processes. A script prints one JSON line
// per case and the test turns each line into a subtest, so a failure reads
// TestInterop/<client>/<case>.
//
// TestContextTakeover runs node/takeover.mjs and python/takeover.py against
// a server with compression context takeover and against one without: a
// stream of similar JSON documents echoed compressed both ways, the peer
// inflating with the window of earlier messages, and far fewer compressed
// bytes sent with the context kept.
//
// A missing Node, ws module or python3-websockets skips that client, unless
// WSGATE_REQUIRE_PEERS=1, which makes it fail instead; `make test` sets it
// after installing them. WSGATE_E2E_URL=ws://HOST:PORT runs the matrix
// against a server in another process instead, which must register the
// call methods test.echo and test.publish as server_test.go does.
//
// TestNATSClusterProcesses runs a nats-server binary (with JetStream) and
// two wsgate processes started with --nats, and checks that a publication
// made on one reaches a client of the other. A missing nats-server skips
// it under the same rule; `make deps` installs it with go install.
//
// TestFailoverProcesses runs a nats-server and three wsgate processes
// behind delay proxies (0, 100 and 300 ms each way) with 50 Go clients of
// package client subscribed to one channel while publications go through
// /api/publish on the farthest node: the nearest node is killed with
// SIGKILL, then the next sent SIGTERM (it drains), and every client ends
// on the last node with every publication once, in order, having left
// the draining node on its 1012. It skips or fails as
// TestNATSClusterProcesses does.
//
// TestNginxEdge runs Debian's nginx as a caching edge (the configuration
// in testdata/nginx.conf, which README quotes) in front of two wsgate
// processes: a fingerprinted file is a HIT on its second request, the
// page is revalidated with the node's ETag, each encoding is cached apart
// under Vary, /edge/ping is never cached, and a WebSocket through nginx
// negotiates permessage-deflate on both nodes. A missing nginx skips it,
// or fails it under WSGATE_REQUIRE_PEERS=1.
//
// The package holds no code outside its tests.
package e2e
