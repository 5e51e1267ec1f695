package natsbroker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsgate/wsgate/ws"
)

// BenchmarkServerPublish is the target's measure: publications made by
// clients as a pub on /ws of a wsgate Server on this Broker, into the
// embedded NATS's stream (file storage, history on), 100,000 channels
// published on once before, 200-byte data. Two kinds of publisher:
//
//   - conns=512/window=2: gorilla clients that each keep two pubs
//     outstanding and write each on its own, as browsers do;
//   - conns=16/window=256: publishers that keep 256 pubs outstanding
//     each and write those due in one write, as nats.go's asynchronous
//     publish (the yardstick's publisher) does with its messages.
//
// Run beside BenchmarkRawJetStream, the yardstick:
//
//	go test -run '^$' -bench 'ServerPublish|RawJetStream/subjects=100000' -benchtime 40000x ./natsbroker
func BenchmarkServerPublish(b *testing.B) {
	const channels = 100_000
	ns := startNATS(b, b.TempDir(), -1)
	n := startNode(b, ns.ClientURL(), Options{})
	names := make([]string, channels)
	for i := range names {
		names[i] = "bench.server." + strconv.Itoa(i)
	}
	publishAllOn(b, n.b, names)
	data := `{"symbol":"ACME","price":101.25,"note":"` + strings.Repeat("x", 200-len(`{"symbol":"ACME","price":101.25,"note":""}`)) + `"}`
	for _, shape := range []struct {
		conns, window int
		batched       bool
	}{{512, 2, false}, {16, 256, true}} {
		b.Run(fmt.Sprintf("conns=%d/window=%d", shape.conns, shape.window), func(b *testing.B) {
			loops := make([]func(next *atomic.Int64), shape.conns)
			for i := range loops {
				if shape.batched {
					p := dialWSPublisher(b, n.ws, shape.window)
					loops[i] = func(next *atomic.Int64) { p.run(b, next, names, data) }
					continue
				}
				c, _, err := websocket.DefaultDialer.Dial(n.ws, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				loops[i] = func(next *atomic.Int64) { pubLoop(b, c, shape.window, next, names, data) }
			}
			b.ReportAllocs()
			b.ResetTimer()
			defer reportCPU(b, processCPU())
			var next atomic.Int64
			var wg sync.WaitGroup
			for _, loop := range loops {
				wg.Go(func() { loop(&next) })
			}
			wg.Wait()
		})
	}
}

// appendPub appends pub request i, on one of names, to msg.
func appendPub(msg []byte, i int64, names []string, data string) []byte {
	msg = append(msg, `{"id":`...)
	msg = strconv.AppendInt(msg, i, 10)
	msg = append(msg, `,"pub":`...)
	msg, _ = appendJSONString(msg, names[i%int64(len(names))])
	msg = append(msg, `,"data":`...)
	msg = append(msg, data...)
	return append(msg, '}')
}

// wsPublisher is a client of wsgate's /ws that keeps window pubs
// outstanding and writes every pub due in one write.
type wsPublisher struct {
	nc     net.Conn
	br     *bufio.Reader
	window int
	wake   chan struct{} // a reply was read
}

func dialWSPublisher(b *testing.B, url string, window int) *wsPublisher {
	nc, br, _, err := ws.Dial(context.Background(), url, ws.DialOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	return &wsPublisher{nc: nc, br: br, window: window, wake: make(chan struct{}, 1)}
}

// run sends pubs, taking the next of b.N until all are taken, and reads
// their replies; every reply must be a result.
func (p *wsPublisher) run(b *testing.B, next *atomic.Int64, names []string, data string) {
	var sent, answered atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		rd := ws.NewReader(ws.ReaderOptions{Role: ws.ClientSide})
		buf := make([]byte, 64<<10)
		for {
			k, err := p.br.Read(buf)
			if err != nil {
				return
			}
			got := 0
			for in := buf[:k]; len(in) > 0; {
				used, ev, err := rd.Next(in)
				if err != nil {
					b.Error(err)
					return
				}
				in = in[used:]
				if ev.Kind != ws.EventMessage {
					continue
				}
				if !bytes.Contains(ev.Payload, []byte(`"result"`)) {
					b.Errorf("pub answered %s", ev.Payload)
				}
				got++
			}
			if got > 0 {
				answered.Add(int64(got))
				select {
				case p.wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	var out, msg []byte
	for {
		slots := p.window - int(sent.Load()-answered.Load())
		if slots == 0 {
			<-p.wake
			continue
		}
		out = out[:0]
		for ; slots > 0; slots-- {
			i := next.Add(1) - 1
			if i >= int64(b.N) {
				break
			}
			msg = appendPub(msg[:0], i, names, data)
			out = ws.AppendMaskedFrame(out, ws.OpText, true, 0, [4]byte{1, 2, 3, 4}, msg)
			sent.Add(1)
		}
		if len(out) > 0 {
			if _, err := p.nc.Write(out); err != nil {
				b.Error(err)
				return
			}
		}
		if slots > 0 { // b.N reached
			break
		}
	}
	for answered.Load() < sent.Load() {
		<-p.wake
	}
	p.nc.Close() // ends the reader
	<-done
}

// pubLoop sends pubs on c, window outstanding at most, taking the next
// of b.N until all are taken, and reads their replies; every reply must
// be a result.
func pubLoop(b *testing.B, c *websocket.Conn, window int, next *atomic.Int64, names []string, data string) {
	slots := make(chan struct{}, window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if !bytes.Contains(m, []byte(`"result"`)) {
				b.Errorf("pub answered %s", m)
			}
			<-slots
		}
	}()
	var msg []byte
	for {
		i := next.Add(1) - 1
		if i >= int64(b.N) {
			break
		}
		slots <- struct{}{}
		msg = appendPub(msg[:0], i, names, data)
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Error(err)
			return
		}
	}
	for range window { // every reply in
		slots <- struct{}{}
	}
	c.Close() // ends the reader
	<-done
}

func appendJSONString(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}
