package edge

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// PingHandler answers GET /edge/ping with this node's id, region,
// connections and whether it drains,
// {"node":"web1-3f9a2c","region":"eu-west","conns":42,"draining":false},
// for clients that time it to find the nearest node and leave a draining
// one. The answer is built
// without encoding/json (ids and regions need no escaping) and is never
// cached (Cache-Control: no-store).
//
// Both handlers let pages on any origin read them
// (Access-Control-Allow-Origin: *) and time them in detail
// (Timing-Allow-Origin: *); they answer GET and HEAD, a CORS preflight
// (OPTIONS) with 204, and other methods with 405.
func (r *Registry) PingHandler() http.Handler {
	// The prefix never changes: CheckID and CheckRegion allow no
	// character JSON would escape.
	prefix := `{"node":"` + r.self.ID + `","region":"` + r.self.Region + `","conns":`
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !allowRead(w, req) {
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Type", "application/json")
		b := make([]byte, 0, len(prefix)+40)
		b = append(b, prefix...)
		self := r.Self()
		b = strconv.AppendInt(b, int64(self.Conns), 10)
		b = append(b, `,"draining":`...)
		b = strconv.AppendBool(b, self.Draining)
		b = append(b, "}\n"...)
		w.Write(b)
	})
}

// NodesHandler answers GET /edge/nodes with Nodes as a JSON array,
// [{"node":"…","region":"…","url":"…","conns":N,"load":L,"draining":false},…],
// which clients and CDNs may cache for 5 seconds (Cache-Control:
// max-age=5). CORS as PingHandler.
func (r *Registry) NodesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !allowRead(w, req) {
			return
		}
		b, err := json.Marshal(r.Nodes())
		if err != nil { // a Node always encodes; kept for the reader
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "max-age=5")
		h.Set("Content-Type", "application/json")
		w.Write(append(b, '\n'))
	})
}

// allowRead sets the CORS headers of a public, read-only endpoint and
// reports whether req is a read (GET or HEAD) to answer; it answers a
// preflight and any other method itself.
func allowRead(w http.ResponseWriter, req *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Timing-Allow-Origin", "*")
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Max-Age", "86400")
		h.Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	h.Set("Allow", "GET, HEAD, OPTIONS")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
