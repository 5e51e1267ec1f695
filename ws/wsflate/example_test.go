package wsflate_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// A server negotiates compression for each handshake with its Codec and
// keeps the settled Params for the connection.
func ExampleCodec_Negotiate() {
	codec, err := wsflate.New(wsflate.Options{}) // or: var codec wsflate.Codec
	if err != nil {
		panic(err)
	}
	var params wsflate.Params
	u := &ws.Upgrader{NegotiateExtensions: func(offers []string) (string, error) {
		resp, p := codec.Negotiate(offers)
		params = p
		return resp, nil // a declined offer does not fail the handshake
	}}

	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")

	header, _, err := u.Accept(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(header.Get("Sec-WebSocket-Extensions"))
	fmt.Println(params.ServerNoContextTakeover, params.ServerWindow())
	// Output:
	// permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// true Full
}

// Deflate gives the payload of a frame with RSV1 set; Inflate reverses
// it, never producing more than the limit.
func ExampleCodec_Deflate() {
	var codec wsflate.Codec
	msg := bytes.Repeat([]byte(`{"symbol":"ACME","price":101.5},`), 32)

	z, ok := codec.Deflate(nil, msg, wsflate.WindowFull)
	fmt.Println(ok, len(msg), "bytes ->", len(z) < len(msg)/4)

	back, err := codec.Inflate(nil, z, 1<<20)
	fmt.Println(bytes.Equal(back, msg), err)

	_, err = codec.Inflate(nil, z, 100)
	fmt.Println(err)

	_, ok = codec.Deflate(nil, []byte(`{"short":true}`), wsflate.WindowFull)
	fmt.Println("short message compressed:", ok)
	// Output:
	// true 1024 bytes -> true
	// true <nil>
	// wsflate: inflated message too large
	// short message compressed: false
}

// A client offers ClientOffer and checks the server's answer.
func ExampleAcceptResponse() {
	fmt.Println(wsflate.ClientOffer)
	p, ok, err := wsflate.AcceptResponse([]string{"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"})
	fmt.Println(ok, err, p.ClientWindow())
	_, _, err = wsflate.AcceptResponse([]string{"permessage-deflate; client_no_context_takeover"})
	fmt.Println(err)
	// Output:
	// permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits
	// true <nil> Small
	// wsflate: invalid permessage-deflate response: server_no_context_takeover missing, it was offered
}

// In ModeContextTakeover a server negotiates per handshake, then settles
// the answer: a Stream for a connection it serves (its Close frees the
// slot), Release for one whose handshake failed. A repeated message costs
// a few bytes once the Stream has seen it.
func ExampleCodec_NewStream() {
	codec, err := wsflate.New(wsflate.Options{Mode: wsflate.ModeContextTakeover, MaxContexts: 1})
	if err != nil {
		panic(err)
	}
	offers := []string{"permessage-deflate; client_max_window_bits"}

	resp, p := codec.Negotiate(offers)
	fmt.Println(resp)
	fmt.Println("slots held:", codec.Stats().Contexts)
	resp2, p2 := codec.Negotiate(offers) // past the cap: stateless
	fmt.Println(resp2)
	codec.Release(p2) // nothing reserved: does nothing

	s := codec.NewStream(p)
	msg := bytes.Repeat([]byte(`{"symbol":"ACME","price":101.5,"volume":1200},`), 20)
	first, _ := s.Deflate(nil, msg)
	second, _ := s.Deflate(nil, msg)
	fmt.Println(len(msg), "bytes:", len(first) < len(msg)/4, len(second) < 16)
	s.Close()
	fmt.Println("slots held:", codec.Stats().Contexts)
	// Output:
	// permessage-deflate; client_no_context_takeover
	// slots held: 1
	// permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// 920 bytes: true true
	// slots held: 0
}
