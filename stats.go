package wsgate

import "time"

// Stats is a snapshot of a Server's counters, from Server.Stats. Figures
// that count events (Opened, Received, Hits, …) count from New on and
// never go down; the others (Open, Channels, Bytes, Contexts, …) are
// levels at the time of the snapshot. Each figure is read atomically, but
// together they are not one instant: a connection may be counted as
// opened and not yet as open.
//
// Package github.com/wsgate/wsgate/metrics exports these figures to
// Prometheus.
type Stats struct {
	WS   EndpointStats // the /ws endpoint
	Echo EndpointStats // the /echo endpoint

	// Closed counts the connections of both endpoints that ended, by
	// reason.
	Closed CloseStats

	// Calls counts the calls answered on /ws, by result: "ok", or the
	// error code the client got. "ok" is always present; an error code
	// appears once a call was answered with it. Calls refused before
	// they could run (an unknown method, rate_limited, a shutdown) are
	// not counted, nor are malformed requests.
	Calls map[string]CallStats

	Hub         HubStats
	Cache       CacheStats
	Compression CompressionStats
	Limits      LimitStats

	// InputBytes is what the server holds now of its clients' input, in
	// bytes, against Config.MaxBufferedInput: partial messages, and the
	// arguments of running calls and data of queued pubs.
	InputBytes int64

	// Broker is what the Broker reports when it is a StatsBroker (the
	// NATS one); nil otherwise.
	Broker *BrokerStats
}

// EndpointStats counts the WebSocket connections of one endpoint.
type EndpointStats struct {
	Open     int64  // connections open now: from OnOpen to OnClose
	Opened   uint64 // connections opened
	Received uint64 // messages received, text and binary, each counted once however many frames it came in
}

// CloseStats counts ended connections by reason.
type CloseStats struct {
	Peer          uint64 // the client sent a Close frame
	Server        uint64 // the server closed it: Shutdown or Close
	ProtocolError uint64 // the client broke RFC 6455 (closed with 1002, 1007 or 1009)
	SlowConsumer  uint64 // the client's queue stayed over Config.MaxQueuedBytes, or reached twice it (closed with 1008)
	Idle          uint64 // the client sent nothing for Config.IdleTimeout (closed with 1001)
	Network       uint64 // the connection failed or the client left without a Close frame
	WriteTimeout  uint64 // the client accepted no byte for Config.WriteTimeout while data waited (epoll engine)
}

// CallStats counts the calls answered with one result, and how long they
// took: from the request's arrival to its reply being queued to the
// connection.
type CallStats struct {
	Count    uint64        // calls answered
	Duration time.Duration // their total time
	// Buckets is a histogram of their times, cumulative: Buckets[i].Count
	// calls took at most Buckets[i].UpperBound. The bounds are fixed, from
	// 500µs to 10s; calls slower than the last bound count in Count alone.
	Buckets []LatencyBucket
}

// LatencyBucket is one bucket of a latency histogram.
type LatencyBucket struct {
	UpperBound time.Duration
	Count      uint64 // calls that took at most UpperBound
}

// HubStats describes this node's channels. Publications reach the hub
// from the Broker, so on a cluster they include those made on other nodes.
type HubStats struct {
	Channels      int    // channels with at least one subscriber on this node
	Subscriptions int    // subscriptions on this node, over all channels
	Publications  uint64 // publications fanned out to this node's subscribers
	Deliveries    uint64 // publication frames queued to subscribers; each publication is encoded once and its frame shared
}

// CacheStats describes the response cache. With Config.CacheSize negative
// there is no cache: Disabled is set and every other figure is zero.
type CacheStats struct {
	Disabled    bool
	Hits        uint64 // calls answered by a fresh cached result
	StaleHits   uint64 // calls answered by a stale result while one refresh ran (stale-while-revalidate)
	Misses      uint64 // calls that started a backend call (or a Handle'd CallFunc)
	Coalesced   uint64 // calls that waited for an identical call already running
	Refreshes   uint64 // background refreshes of stale results
	LoadErrors  uint64 // backend calls made for the cache that failed
	Evictions   uint64 // results evicted to stay within Config.CacheSize
	Invalidated uint64 // results dropped by invalidation, from this node or another
	Bytes       uint64 // bytes held now: each result's key, value and compressed twin, plus a fixed overhead
	Entries     int    // results held now, approximately
}

// CompressionStats describes permessage-deflate. With
// Config.Compression.Disabled, Disabled is set and only the frame counts
// are kept (every frame is plain).
type CompressionStats struct {
	Disabled bool
	// FramesDeflated and FramesPlain count the text and binary frames
	// sent, compressed (RSV1 set) or not. A publication's frame sent to
	// many subscribers counts once per subscriber.
	FramesDeflated, FramesPlain uint64
	// Compressions counts messages run through a compressor: those at
	// least Config.Compression.Threshold bytes long, whether or not the
	// result was used. One compression serves a whole fan-out.
	Compressions uint64
	// Compressed counts the compressions that came out smaller than
	// their input and were sent.
	Compressed uint64
	// BytesIn and BytesOut are the sizes in bytes of the Compressed
	// messages before and after compression.
	BytesIn, BytesOut uint64
	// Inflations counts compressed messages from clients that were
	// decompressed.
	Inflations uint64
	// Contexts is the number of connections holding a compressor context
	// now (Config.Compression.ContextTakeover), from the handshake until
	// they close; at most Config.Compression.MaxContexts.
	Contexts int64
}

// Stats returns a snapshot of the server's counters. It takes no lock
// that the connections' hot paths take, so it may be called often; each
// call allocates the Calls map.
func (s *Server) Stats() Stats {
	m := &s.metrics
	e := s.engine.Stats()
	st := Stats{
		WS:   m.endpoint[endpointWS].stats(),
		Echo: m.endpoint[endpointEcho].stats(),
		Closed: CloseStats{
			Peer:          m.closed[closedByPeer].Load(),
			Server:        m.closed[closedByServer].Load(),
			ProtocolError: m.closed[closedProtocolError].Load(),
			SlowConsumer:  m.closed[closedSlowConsumer].Load(),
			Idle:          m.closed[closedIdle].Load(),
			Network:       m.closed[closedNetwork].Load(),
			WriteTimeout:  m.closed[closedWriteTimeout].Load(),
		},
		Calls:      map[string]CallStats{"ok": m.calls[0].snapshot()},
		Limits:     s.limitStats(e),
		InputBytes: e.InputHeld,
		Broker:     s.brokerStats(),
	}
	for i := 1; i < len(knownCodes); i++ {
		if m.calls[i].count.Load() > 0 {
			st.Calls[string(knownCodes[i])] = m.calls[i].snapshot()
		}
	}
	m.other.Range(func(code, l any) bool {
		st.Calls[string(code.(ErrorCode))] = l.(*latency).snapshot()
		return true
	})

	h := s.hub.Stats()
	st.Hub = HubStats{Channels: h.Channels, Subscriptions: h.Subscriptions, Publications: h.Publications, Deliveries: h.Deliveries}

	if s.cache == nil {
		st.Cache.Disabled = true
	} else {
		c := s.cache.Stats()
		st.Cache = CacheStats{
			Hits: c.Hits, StaleHits: c.StaleHits, Misses: c.Misses, Coalesced: c.Coalesced,
			Refreshes: c.Refreshes, LoadErrors: c.LoadErrors, Evictions: c.Evictions,
			Invalidated: c.Invalidated, Bytes: c.Bytes, Entries: c.Entries,
		}
	}

	st.Compression = CompressionStats{FramesDeflated: e.FramesDeflated, FramesPlain: e.FramesPlain}
	if s.codec == nil {
		st.Compression.Disabled = true
	} else {
		c := s.codec.Stats()
		st.Compression.Compressions, st.Compression.Compressed = c.Compressions, c.Compressed
		st.Compression.BytesIn, st.Compression.BytesOut = c.BytesIn, c.BytesOut
		st.Compression.Inflations, st.Compression.Contexts = c.Inflations, c.Contexts
	}
	return st
}

func (c *endpointCounters) stats() EndpointStats {
	return EndpointStats{Open: c.open.Load(), Opened: c.opened.Load(), Received: c.received.Load()}
}
