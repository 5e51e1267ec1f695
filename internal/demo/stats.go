package demo

import (
	"context"
	"encoding/json"

	"github.com/wsgate/wsgate"
)

// StatsMethod is the name of the call that reports the answering node's
// counters, for the demo page's panels.
const StatsMethod = "demo.stats"

// Stats is the result of demo.stats: a few of the answering node's
// Server.Stats figures, counted since it started.
type Stats struct {
	Node   string `json:"node"`   // the node's id
	Region string `json:"region"` // its region; empty when not set
	// Conns is the /ws connections open on the node now.
	Conns int64 `json:"conns"`
	// Calls counts the calls the node answered, whatever their result.
	Calls uint64 `json:"calls"`
	Cache struct {
		Hits    uint64 `json:"hits"`    // fresh and stale hits
		Misses  uint64 `json:"misses"`  // calls that ran the method or the backend
		Entries int    `json:"entries"` // results held now
		Bytes   uint64 `json:"bytes"`   // bytes held now
	} `json:"cache"`
	Compression struct {
		// BytesIn and BytesOut are the sizes of the messages sent
		// deflated, before and after compression.
		BytesIn  uint64 `json:"bytesIn"`
		BytesOut uint64 `json:"bytesOut"`
		// FramesDeflated and FramesPlain count the frames sent
		// compressed or not.
		FramesDeflated uint64 `json:"framesDeflated"`
		FramesPlain    uint64 `json:"framesPlain"`
	} `json:"compression"`
	// Publications counts the publications fanned out to the node's
	// subscribers, from any node of the cluster.
	Publications uint64 `json:"publications"`
}

// statsOf picks the figures of demo.stats from s.
func statsOf(s *wsgate.Server) Stats {
	st := s.Stats()
	self := s.Node()
	out := Stats{Node: self.ID, Region: self.Region, Conns: st.WS.Open, Publications: st.Hub.Publications}
	for _, c := range st.Calls {
		out.Calls += c.Count
	}
	out.Cache.Hits = st.Cache.Hits + st.Cache.StaleHits
	out.Cache.Misses = st.Cache.Misses
	out.Cache.Entries = st.Cache.Entries
	out.Cache.Bytes = st.Cache.Bytes
	out.Compression.BytesIn = st.Compression.BytesIn
	out.Compression.BytesOut = st.Compression.BytesOut
	out.Compression.FramesDeflated = st.Compression.FramesDeflated
	out.Compression.FramesPlain = st.Compression.FramesPlain
	return out
}

// statsCall answers demo.stats for s. It is not cached: each call reads
// the counters afresh.
func statsCall(s *wsgate.Server) wsgate.CallFunc {
	return func(context.Context, json.RawMessage) (any, error) { return statsOf(s), nil }
}
