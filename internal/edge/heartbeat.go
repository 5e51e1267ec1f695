package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Heartbeat is what a node announces on the Bus: itself, how long to
// believe it, or that it is leaving.
//
// On the wire it is one JSON object of at most MaxHeartbeatSize bytes:
//
//	{"node":"web1-3f9a2c","region":"eu-west","url":"https://eu1.example.com",
//	 "conns":42,"load":0.002,"draining":false,"leaving":false,"ttl":6000}
//
// ttl is in milliseconds, 1 to MaxTTL. Fields this version does not know
// are ignored, so a later version may add some and still be listed; keys
// are matched as encoding/json matches them, without regard to case.
type Heartbeat struct {
	Node
	// Leaving is true in the last heartbeat of a node that stops: its
	// peers forget it at once.
	Leaving bool
	// TTL is how long peers keep the node listed without another
	// heartbeat: a few of its heartbeat intervals, so a lost heartbeat or
	// two do not drop it, and a crashed node is forgotten within TTL.
	TTL time.Duration
}

// Limits of a heartbeat on the wire.
const (
	MaxHeartbeatSize = 2048        // bytes
	MaxTTL           = time.Minute // Heartbeat.TTL
)

// ErrMalformed is wrapped by every error of DecodeHeartbeat.
var ErrMalformed = errors.New("edge: malformed heartbeat")

// wireHeartbeat is a Heartbeat's JSON form.
type wireHeartbeat struct {
	Node     string  `json:"node"`
	Region   string  `json:"region"`
	URL      string  `json:"url"`
	Conns    int64   `json:"conns"`
	Load     float64 `json:"load"`
	Draining bool    `json:"draining"`
	Leaving  bool    `json:"leaving"`
	TTL      int64   `json:"ttl"` // milliseconds
}

// maxConns bounds Node.Conns on the wire: far above what a node holds,
// within int on every platform.
const maxConns = 1<<31 - 1

// AppendHeartbeat appends h's wire form to dst. It fails when h would
// not pass DecodeHeartbeat, so a node never sends what its peers refuse.
func AppendHeartbeat(dst []byte, h Heartbeat) ([]byte, error) {
	if err := h.check(); err != nil {
		return dst, fmt.Errorf("edge: heartbeat: %w", err)
	}
	b, err := json.Marshal(wireHeartbeat{
		Node: h.ID, Region: h.Region, URL: h.URL, Conns: int64(h.Conns), Load: h.Load,
		Draining: h.Draining, Leaving: h.Leaving, TTL: h.TTL.Milliseconds(),
	})
	if err != nil {
		return dst, fmt.Errorf("edge: heartbeat: %w", err)
	}
	if len(b) > MaxHeartbeatSize {
		return dst, fmt.Errorf("edge: heartbeat of %d bytes: the most is %d", len(b), MaxHeartbeatSize)
	}
	return append(dst, b...), nil
}

// DecodeHeartbeat parses a heartbeat a peer sent. Every field is checked
// as AppendHeartbeat checks it: node (CheckID), region, url, conns (0 to
// 2^31-1), load (0 to 1) and ttl (1 to MaxTTL ms); data must be one JSON
// object of at most MaxHeartbeatSize bytes. The Heartbeat holds no
// reference to data, which the caller may reuse.
func DecodeHeartbeat(data []byte) (Heartbeat, error) {
	if len(data) > MaxHeartbeatSize {
		return Heartbeat{}, fmt.Errorf("%w: %d bytes, the most is %d", ErrMalformed, len(data), MaxHeartbeatSize)
	}
	var w wireHeartbeat
	w.Load = -1 // absent or null: refused below
	if err := json.Unmarshal(data, &w); err != nil {
		return Heartbeat{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if w.Conns < 0 || w.Conns > maxConns {
		return Heartbeat{}, fmt.Errorf("%w: conns %d: want 0 to %d", ErrMalformed, w.Conns, int64(maxConns))
	}
	if w.TTL < 1 || w.TTL > MaxTTL.Milliseconds() {
		return Heartbeat{}, fmt.Errorf("%w: ttl %d: want 1 to %d ms", ErrMalformed, w.TTL, MaxTTL.Milliseconds())
	}
	h := Heartbeat{
		Node:    Node{ID: w.Node, Region: w.Region, URL: w.URL, Conns: int(w.Conns), Load: w.Load, Draining: w.Draining},
		Leaving: w.Leaving,
		TTL:     time.Duration(w.TTL) * time.Millisecond,
	}
	if err := h.check(); err != nil {
		return Heartbeat{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, nil
}

// check validates h as both ends require.
func (h Heartbeat) check() error {
	if err := h.Node.check(); err != nil {
		return err
	}
	if h.Conns > maxConns {
		return fmt.Errorf("conns %d: want at most %d", h.Conns, int64(maxConns))
	}
	if h.TTL < time.Millisecond || h.TTL > MaxTTL {
		return fmt.Errorf("ttl %v: want 1ms to %v", h.TTL, MaxTTL)
	}
	return nil
}
