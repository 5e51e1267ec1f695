// Command gorilla is an echo server on gorilla/websocket for the
// side-by-side benchmarks: every message on /echo comes back unchanged,
// text as text and binary as binary. It serves until killed.
//
//	gorilla -addr 127.0.0.1:9001
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()
	up := websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     func(*http.Request) bool { return true },
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
