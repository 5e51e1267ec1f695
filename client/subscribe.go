package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
)

// Subscription is a Client's subscription to one channel. It survives
// reconnections: on every new connection the Client subscribes again
// with the position of the last publication delivered, so the handler
// sees each publication once, in order, or a KindGap Message where that
// could not be done. Its methods are safe for concurrent use.
type Subscription struct {
	c       *Client
	channel string
	handler Handler
	removed atomic.Bool   // Unsubscribe or an end: the handler is not called again
	settled chan struct{} // closed on the first answer to a sub

	// Guarded by c.mu.
	pos       Position // of the last publication passed to the handler
	known     bool     // pos is set: a sub was answered
	confirmed bool     // settled is closed
	err       error    // the first sub was refused
	skip      bool     // a gap was reported: the next publication may skip seqs
}

// Channel returns the channel's name.
func (s *Subscription) Channel() string { return s.channel }

// Subscribe subscribes to channel and calls h with its publications from
// now on (see Handler for where and how h runs). It returns once the
// server confirmed the subscription; while the Client reconnects it
// waits, until ctx ends. A refused subscription is an *Error. The
// Client holds one subscription per channel: a second one is
// ErrSubscribed.
func (c *Client) Subscribe(ctx context.Context, channel string, h Handler) (*Subscription, error) {
	s := &Subscription{c: c, channel: channel, handler: h, settled: make(chan struct{})}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return nil, ErrClosed
	case c.subs[channel] != nil:
		c.mu.Unlock()
		return nil, fmt.Errorf("client: subscribe to %s: %w", channel, ErrSubscribed)
	}
	c.subs[channel] = s
	if c.conn != nil {
		c.subscribeLocked(c.conn, s)
	}
	c.mu.Unlock()

	var err error
	select {
	case <-s.settled:
		c.mu.Lock()
		err = s.err
		c.mu.Unlock()
	case <-ctx.Done():
		err = ctx.Err()
		s.Unsubscribe(ctx) // ctx has ended: the unsub goes out, unawaited
	case <-c.ctx.Done():
		err = ErrClosed
	}
	if err != nil {
		return nil, fmt.Errorf("client: subscribe to %s: %w", channel, err)
	}
	return s, nil
}

// Unsubscribe ends the subscription: the handler is not called again
// once it returns (except for a call already running). It waits for the
// server's answer, until ctx ends; a lost connection is no error, since
// the subscription ends with it.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	c := s.c
	c.mu.Lock()
	if c.subs[s.channel] != s {
		c.mu.Unlock()
		s.removed.Store(true)
		return nil
	}
	delete(c.subs, s.channel)
	s.removed.Store(true)
	cn := c.conn
	id := c.nextID.Add(1)
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	frame, err := textFrame(request{ID: id, Unsub: s.channel})
	if err != nil {
		return err
	}
	p := &pending{ch: make(chan reply, 1)}
	if cn.request(id, frame, p) != nil {
		return nil
	}
	select {
	case <-p.ch:
		return nil
	case <-ctx.Done():
		cn.forget(id)
		return fmt.Errorf("client: unsubscribe from %s: %w", s.channel, ctx.Err())
	}
}

// subscribeLocked sends a sub for s on cn: a resume from s.pos when a
// sub was answered before. A sub that cannot be sent is sent again on
// the next connection. c.mu must be held.
func (c *Client) subscribeLocked(cn *conn, s *Subscription) {
	r := request{ID: c.nextID.Add(1), Sub: s.channel}
	resume := s.known
	if resume {
		since := s.pos
		r.Since = &since
	}
	frame, err := textFrame(r)
	if err != nil {
		return // a Position always encodes
	}
	_ = cn.request(r.ID, frame, &pending{onReply: func(rep reply) { c.subscribed(cn, s, resume, rep) }})
}

// subscribed handles the answer to a sub for s on cn, on cn's reader
// goroutine, before any publication that follows it.
func (c *Client) subscribed(cn *conn, s *Subscription, resume bool, rep reply) {
	c.mu.Lock()
	if c.subs[s.channel] != s {
		c.mu.Unlock()
		return // unsubscribed meanwhile; its unsub follows this sub
	}
	var res subResult
	err := rep.err
	if err == nil {
		if jerr := json.Unmarshal(rep.result, &res); jerr != nil {
			err = fmt.Errorf("client: sub result %s: %w", rep.result, jerr)
		}
	}
	var werr *Error
	if err != nil && s.confirmed && errors.As(err, &werr) && werr.temporary() {
		// The server could not restore it now: reconnect and try again.
		c.mu.Unlock()
		cn.stop(fmt.Errorf("client: restoring the subscription to %s: %w", s.channel, err), closeFrame(1000, ""))
		return
	}
	if err != nil {
		delete(c.subs, s.channel)
		s.removed.Store(true)
		if !s.confirmed {
			s.err = err
			s.confirmed = true
			close(s.settled)
		} else {
			m := Message{Kind: KindEnded, Channel: s.channel, Last: s.pos, Err: err}
			c.disp.push(func() {
				if !c.shut.Load() {
					s.handler(m)
				}
			})
		}
		c.mu.Unlock()
		return
	}
	now := Position{Seq: res.Seq, Epoch: res.Epoch}
	switch {
	case !s.known:
		s.pos, s.known = now, true // live publications follow
	case !resume:
	case res.Recovered == nil || !*res.Recovered || res.Epoch != s.pos.Epoch:
		m := Message{Kind: KindGap, Channel: s.channel, Pos: now, Last: s.pos}
		c.pushLocked(s, m)
		if res.Epoch != s.pos.Epoch {
			s.pos = Position{Epoch: res.Epoch} // numbering restarted
		}
		s.skip = true
	}
	if !s.confirmed {
		s.confirmed = true
		close(s.settled)
	}
	c.mu.Unlock()
}

// deliver hands a publication to its subscription's handler, unless it
// was delivered already. It runs on the reader goroutine. A publication
// of another epoch than the subscription's: when the subscription knew
// none (it began on an empty channel, whose first publication starts
// the epoch on some brokers), the epoch is learnt; when it knew another,
// the channel's numbering restarted, and the handler is told of a gap.
func (c *Client) deliver(channel string, seq uint64, epoch string, data json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[channel]
	if s == nil || !s.known {
		return // not subscribed, or not yet positioned
	}
	if epoch != "" && epoch != s.pos.Epoch {
		if s.pos.Epoch != "" {
			next := Position{Epoch: epoch}
			c.pushLocked(s, Message{Kind: KindGap, Channel: channel, Pos: next, Last: s.pos})
			s.pos, s.skip = next, true
		} else {
			s.pos.Epoch = epoch
		}
	}
	if seq <= s.pos.Seq {
		return // a duplicate
	}
	if seq > s.pos.Seq+1 && !s.skip {
		// The server skipped publications on a live connection.
		c.pushLocked(s, Message{Kind: KindGap, Channel: channel, Pos: Position{Seq: seq - 1, Epoch: s.pos.Epoch}, Last: s.pos})
	}
	s.skip = false
	s.pos.Seq = seq
	c.pushLocked(s, Message{Kind: KindPublication, Channel: channel, Pos: s.pos, Data: data})
}

// pushLocked queues m for s's handler; the handler is skipped when s
// ended or the Client closed by the time it runs. c.mu must be held, so
// that Messages are queued in the order they were decided.
func (c *Client) pushLocked(s *Subscription, m Message) {
	c.disp.push(func() {
		if !s.removed.Load() && !c.shut.Load() {
			s.handler(m)
		}
	})
}
