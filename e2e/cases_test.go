package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// interopCase is one row of the interop matrix. The Node and Python
// scripts implement every case under the same name; run is the Go
// implementation, shared by the Go clients.
type interopCase struct {
	name string
	run  func(ctx context.Context, cl goClient, base string) (detail string, err error)
}

// closeCodes are the codes a client closes /echo with: normal, going away,
// and the first and last codes open to applications (RFC 6455, 7.4.2).
var closeCodes = [...]int{1000, 1001, 3000, 4999}

// interopCases returns the matrix's cases in the order the scripts run them.
func interopCases() []interopCase {
	var cs []interopCase
	for _, k := range []msgKind{kindText, kindBinary} {
		for _, n := range echoSizes {
			cs = append(cs, interopCase{fmt.Sprintf("echo/%v/%s", k, sizeLabel(n)), echoCase(k, n)})
		}
	}
	cs = append(cs,
		interopCase{"echo/fragmented/text", fragmentedCase(kindText)},
		interopCase{"echo/fragmented/binary", fragmentedCase(kindBinary)},
		interopCase{"ping/payload", pingCase},
	)
	for _, code := range closeCodes {
		cs = append(cs, interopCase{fmt.Sprintf("close/%d", code), closeCase(code)})
	}
	cs = append(cs, interopCase{"deflate/negotiated", deflateNegotiatedCase})
	for _, n := range deflateSizes {
		cs = append(cs, interopCase{fmt.Sprintf("deflate/json/%s", sizeLabel(n)), deflateEchoCase(n)})
	}
	return append(cs,
		interopCase{"ws/subprotocol", subprotocolCase},
		interopCase{"ws/call", callCase},
		interopCase{"ws/sub-publish", subPublishCase},
		interopCase{"ws/pub", pubCase},
		interopCase{"ws/unsub", unsubCase},
	)
}

// subprotocol is the subprotocol every /ws case offers.
const subprotocol = "wsgate.v1"

// dialPeer dials /ws offering the subprotocol.
func dialPeer(ctx context.Context, cl goClient, base string) (*jsonPeer, error) {
	c, err := cl.dial(ctx, base+"/ws", []string{subprotocol})
	if err != nil {
		return nil, err
	}
	return &jsonPeer{conn: c}, nil
}

func echoCase(k msgKind, n int) func(context.Context, goClient, string) (string, error) {
	return func(ctx context.Context, cl goClient, base string) (string, error) {
		c, err := cl.dial(ctx, base+"/echo", nil)
		if err != nil {
			return "", err
		}
		defer c.Abort()
		want := binaryPayload(n)
		if k == kindText {
			want = textPayload(n)
		}
		if err := c.Write(ctx, k, want); err != nil {
			return "", err
		}
		if err := readEcho(ctx, c, k, want); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d bytes echoed", n), nil
	}
}

// fragmentedCase sends one message in several frames. For text, the cuts
// at 7 and 2002 fall inside multi-byte characters, which RFC 6455 allows.
func fragmentedCase(k msgKind) func(context.Context, goClient, string) (string, error) {
	return func(ctx context.Context, cl goClient, base string) (string, error) {
		c, err := cl.dial(ctx, base+"/echo", nil)
		if err != nil {
			return "", err
		}
		defer c.Abort()
		whole := binaryPayload(20001)
		if k == kindText {
			whole = textPayload(20001)
		}
		cuts := []int{0, 1, 7, 1000, 2002, 12000, len(whole)}
		var parts [][]byte
		for i := 1; i < len(cuts); i++ {
			parts = append(parts, whole[cuts[i-1]:cuts[i]])
		}
		detail, err := c.WriteFragments(ctx, k, parts)
		if err != nil {
			return "", err
		}
		if err := readEcho(ctx, c, k, whole); err != nil {
			return "", err
		}
		return detail + ", echoed whole", nil
	}
}

// deflateNegotiatedCase checks the handshake: a client that offers
// permessage-deflate gets it, with no context takeover either way; one
// that does not gets no extension.
func deflateNegotiatedCase(ctx context.Context, cl goClient, base string) (string, error) {
	c, err := cl.dial(ctx, base+"/echo", nil)
	if err != nil {
		return "", err
	}
	defer c.Abort()
	exts := c.Extensions()
	if !cl.deflate {
		if exts != "" {
			return "", fmt.Errorf("no extension offered, server answered %q", exts)
		}
		return "no extension offered, none answered", nil
	}
	for _, want := range []string{"permessage-deflate", "server_no_context_takeover", "client_no_context_takeover"} {
		if !strings.Contains(exts, want) {
			return "", fmt.Errorf("Sec-WebSocket-Extensions %q lacks %s", exts, want)
		}
	}
	return "negotiated " + exts, nil
}

// deflateEchoCase echoes n bytes of JSON-like text: on a connection with
// compression, below the server's 256-byte threshold the reply is plain,
// from it on compressed.
func deflateEchoCase(n int) func(context.Context, goClient, string) (string, error) {
	return func(ctx context.Context, cl goClient, base string) (string, error) {
		c, err := cl.dial(ctx, base+"/echo", nil)
		if err != nil {
			return "", err
		}
		defer c.Abort()
		want := jsonPayload(n)
		if err := c.Write(ctx, kindText, want); err != nil {
			return "", err
		}
		if err := readEcho(ctx, c, kindText, want); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d bytes echoed, extensions %q", n, c.Extensions()), nil
	}
}

// readEcho reads the next message on c and checks that it is want, of
// kind k, byte for byte.
func readEcho(ctx context.Context, c goConn, k msgKind, want []byte) error {
	gk, got, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if gk != k {
		return fmt.Errorf("sent a %v message, got %v", k, gk)
	}
	if d := diffBytes(want, got); d != "" {
		return fmt.Errorf("%s", d)
	}
	return nil
}

func pingCase(ctx context.Context, cl goClient, base string) (string, error) {
	c, err := cl.dial(ctx, base+"/echo", nil)
	if err != nil {
		return "", err
	}
	defer c.Abort()
	return c.Ping(ctx, binaryPayload(125))
}

func closeCase(code int) func(context.Context, goClient, string) (string, error) {
	return func(ctx context.Context, cl goClient, base string) (string, error) {
		c, err := cl.dial(ctx, base+"/echo", nil)
		if err != nil {
			return "", err
		}
		defer c.Abort()
		return c.CloseHandshake(ctx, code, fmt.Sprintf("bye %d ✓", code))
	}
}

func subprotocolCase(ctx context.Context, cl goClient, base string) (string, error) {
	p, err := dialPeer(ctx, cl, base)
	if err != nil {
		return "", err
	}
	defer p.conn.Abort()
	if got := p.conn.Subprotocol(); got != subprotocol {
		return "", fmt.Errorf("selected subprotocol %q, want %q", got, subprotocol)
	}
	return "subprotocol " + subprotocol, nil
}

func callCase(ctx context.Context, cl goClient, base string) (string, error) {
	p, err := dialPeer(ctx, cl, base)
	if err != nil {
		return "", err
	}
	defer p.conn.Abort()
	args := json.RawMessage(`{"s":"héllo € 😀","n":42,"f":1.5,"a":[1,"two",null],"o":{"k":true}}`)
	res, err := p.request(ctx, 1, map[string]any{"call": "test.echo", "args": args})
	if err != nil {
		return "", err
	}
	if !jsonEqual(res, args) {
		return "", fmt.Errorf("result %s, want %s", res, args)
	}
	return "test.echo returned its args", nil
}

// subPublishCase subscribes, then has the server Publish through the
// test.publish method and waits for the publication.
func subPublishCase(ctx context.Context, cl goClient, base string) (string, error) {
	p, err := dialPeer(ctx, cl, base)
	if err != nil {
		return "", err
	}
	defer p.conn.Abort()
	ch := "e2e." + cl.name + ".news"
	subSeq, err := p.requestSeq(ctx, 1, map[string]any{"sub": ch}, true)
	if err != nil {
		return "", err
	}
	data := json.RawMessage(`{"x":1,"peer":"` + cl.name + `","s":"ü"}`)
	seq, err := p.requestSeq(ctx, 2, map[string]any{"call": "test.publish", "args": map[string]any{"channel": ch, "data": data}}, false)
	if err != nil {
		return "", err
	}
	e, err := p.publication(ctx, ch)
	if err != nil {
		return "", err
	}
	switch {
	case e.Seq == nil || *e.Seq != seq:
		return "", fmt.Errorf("publication %s, want seq %d as Publish returned", e.raw, seq)
	case seq <= subSeq:
		return "", fmt.Errorf("publication seq %d not after the sub's seq %d", seq, subSeq)
	case !jsonEqual(e.Data, data):
		return "", fmt.Errorf("publication data %s, want %s", e.Data, data)
	}
	return fmt.Sprintf("received server Publish seq %d", seq), nil
}

// pubCase has one connection publish to a channel that it and another
// connection subscribe to; both receive the publication.
func pubCase(ctx context.Context, cl goClient, base string) (string, error) {
	a, err := dialPeer(ctx, cl, base)
	if err != nil {
		return "", err
	}
	defer a.conn.Abort()
	b, err := dialPeer(ctx, cl, base)
	if err != nil {
		return "", err
	}
	defer b.conn.Abort()
	ch := "e2e." + cl.name + ".chat"
	for _, p := range []*jsonPeer{a, b} {
		if _, err := p.requestSeq(ctx, 1, map[string]any{"sub": ch}, true); err != nil {
			return "", err
		}
	}
	data := json.RawMessage(`{"text":"hi from b","n":[1,2,3]}`)
	seq, err := b.requestSeq(ctx, 2, map[string]any{"pub": ch, "data": data}, false)
	if err != nil {
		return "", err
	}
	for _, s := range []struct {
		name string
		p    *jsonPeer
	}{{"subscriber", a}, {"publisher", b}} {
		e, err := s.p.publication(ctx, ch)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.name, err)
		}
		if e.Seq == nil || *e.Seq != seq || !jsonEqual(e.Data, data) {
			return "", fmt.Errorf("%s: publication %s, want seq %d and data %s", s.name, e.raw, seq, data)
		}
	}
	return fmt.Sprintf("pub seq %d reached the subscriber and the publisher", seq), nil
}

// unsubCase checks that no publication arrives after unsub. A second
// channel marks the end: the connection's own publications reach it in
// order, so a stray one on the first channel would arrive before the marker.
func unsubCase(ctx context.Context, cl goClient, base string) (string, error) {
	p, err := dialPeer(ctx, cl, base)
	if err != nil {
		return "", err
	}
	defer p.conn.Abort()
	ch, marker := "e2e."+cl.name+".gone", "e2e."+cl.name+".marker"
	if _, err := p.requestSeq(ctx, 1, map[string]any{"sub": ch}, true); err != nil {
		return "", err
	}
	res, err := p.request(ctx, 2, map[string]any{"unsub": ch})
	if err != nil {
		return "", err
	}
	if !jsonEqual(res, []byte(`{}`)) {
		return "", fmt.Errorf("unsub result %s, want {}", res)
	}
	if _, err := p.requestSeq(ctx, 3, map[string]any{"pub": ch, "data": map[string]string{"after": "unsub"}}, false); err != nil {
		return "", err
	}
	if _, err := p.requestSeq(ctx, 4, map[string]any{"sub": marker}, true); err != nil {
		return "", err
	}
	if _, err := p.requestSeq(ctx, 5, map[string]any{"pub": marker, "data": map[string]bool{"marker": true}}, false); err != nil {
		return "", err
	}
	if _, err := p.publication(ctx, marker); err != nil {
		return "", err
	}
	for _, e := range p.inbox {
		if e.Ch == ch {
			return "", fmt.Errorf("publication after unsub: %s", e.raw)
		}
	}
	return "no publication after unsub", nil
}
