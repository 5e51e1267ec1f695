// Command gws is an echo server on lxzan/gws for the side-by-side
// benchmarks: every message on /echo comes back unchanged, text as text
// and binary as binary. Connections are upgraded by net/http and read by
// gws's ReadLoop, as its README recommends. It serves until killed.
//
//	gws -addr 127.0.0.1:9002
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/lxzan/gws"
)

// echo sends every message back on the connection it came from.
type echo struct{ gws.BuiltinEventHandler }

func (echo) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "listen address")
	flag.Parse()
	up := gws.NewUpgrader(echo{}, &gws.ServerOption{ReadMaxPayloadSize: 1 << 20})
	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop() // the handler's goroutine reads until the connection ends
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
