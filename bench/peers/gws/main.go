// Command gws is an echo server on lxzan/gws for the side-by-side
// benchmarks: every message on /echo comes back unchanged, text as text
// and binary as binary. Connections are upgraded by net/http and read by
// gws's ReadLoop, as its README recommends. It serves until killed.
//
// With -deflate it accepts permessage-deflate the way gws's README sets it
// up (PermessageDeflate{Enabled: true}): DEFLATE level 1, messages of 512
// bytes or more compressed, and no context takeover on either side, so it
// compresses every message on its own, as wsgate does.
//
//	gws -addr 127.0.0.1:9002 [-deflate]
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
	deflate := flag.Bool("deflate", false, "accept permessage-deflate, without context takeover")
	flag.Parse()
	opt := &gws.ServerOption{ReadMaxPayloadSize: 1 << 20}
	if *deflate {
		opt.PermessageDeflate = gws.PermessageDeflate{
			Enabled:               true,
			ServerContextTakeover: false, // gws's default, spelled out
			ClientContextTakeover: false,
		}
	}
	up := gws.NewUpgrader(echo{}, opt)
	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop() // the handler's goroutine reads until the connection ends
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
