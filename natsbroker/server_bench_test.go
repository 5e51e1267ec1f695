package natsbroker

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
)

// BenchmarkServerPublish is the target's measure: publications made by
// clients as a pub on /ws of a wsgate Server on this Broker, into the
// embedded NATS's stream (file storage, history on), 100,000 channels
// published on once before, 200-byte data. 512 connections each keep
// two pubs outstanding, so every connection's lane always has its next
// pub waiting. Run beside BenchmarkRawJetStream, the yardstick:
//
//	go test -run '^$' -bench 'ServerPublish|RawJetStream/subjects=100000' -benchtime 40000x ./natsbroker
func BenchmarkServerPublish(b *testing.B) {
	const conns, window, channels = 512, 2, 100_000
	ns := startNATS(b, b.TempDir(), -1)
	n := startNode(b, ns.ClientURL(), Options{})
	names := make([]string, channels)
	for i := range names {
		names[i] = "bench.server." + strconv.Itoa(i)
	}
	publishAllOn(b, n.b, names)
	data := `{"symbol":"ACME","price":101.25,"note":"` + strings.Repeat("x", 200-len(`{"symbol":"ACME","price":101.25,"note":""}`)) + `"}`

	cs := make([]*websocket.Conn, conns)
	for i := range cs {
		c, _, err := websocket.DefaultDialer.Dial(n.ws, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { pubLoop(b, c, window, &next, names, data) })
	}
	wg.Wait()
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
		msg = append(msg[:0], `{"id":`...)
		msg = strconv.AppendInt(msg, i, 10)
		msg = append(msg, `,"pub":`...)
		msg, _ = appendJSONString(msg, names[i%int64(len(names))])
		msg = append(msg, `,"data":`...)
		msg = append(msg, data...)
		msg = append(msg, '}')
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
