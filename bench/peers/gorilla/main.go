// Command gorilla is an echo server on gorilla/websocket for the
// side-by-side benchmarks: every message on /echo comes back unchanged,
// text as text and binary as binary. It serves until killed.
//
// With -deflate it accepts permessage-deflate (Upgrader.EnableCompression;
// a connection that negotiated it compresses every message it writes):
// the standard library's compress/flate at level 1, no context takeover
// (the only mode gorilla has).
//
//	gorilla -addr 127.0.0.1:9001 [-deflate]
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate")
	flag.Parse()
	up := websocket.Upgrader{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: *deflate,
	}
	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(1 << 20)
		for {
			op, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(op, b); err != nil {
				return
			}
		}
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
