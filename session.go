package wsgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/engine"
	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/internal/frame"
	"github.com/wsgate/wsgate/internal/hub"
	"github.com/wsgate/wsgate/ws"
)

// session is one /ws connection: it decodes the JSON envelope and runs
// calls, subscriptions and publications. The engine calls OnOpen,
// OnMessage and OnClose from one goroutine, which alone touches subs;
// calls run on goroutines of their own, counted in Server.calls.
type session struct {
	s     *Server
	c     *engine.Conn
	slots chan struct{}       // one token per running call
	subs  map[string]struct{} // channels this connection subscribed to
}

func newSession(s *Server) *session {
	return &session{
		s:     s,
		slots: make(chan struct{}, s.cfg.MaxCallsPerConn),
		subs:  make(map[string]struct{}),
	}
}

func (ss *session) OnOpen(c *engine.Conn) { ss.c = c }

func (ss *session) OnMessage(c *engine.Conn, op ws.Opcode, payload []byte) {
	if op != ws.OpText {
		ss.replyError(nil, CodeBadRequest, "messages on /ws are JSON in text frames")
		return
	}
	req, err := envelope.Parse(payload)
	if err != nil {
		msg := err.Error()
		var ee *envelope.Error
		if errors.As(err, &ee) {
			msg = ee.Message
		}
		ss.replyError(req.ID, CodeBadRequest, msg)
		return
	}
	switch req.Kind {
	case envelope.KindCall:
		ss.call(req)
	case envelope.KindSub:
		ss.subscribe(req)
	case envelope.KindUnsub:
		ss.unsubscribe(req)
	case envelope.KindPub:
		ss.publish(req)
	}
}

func (ss *session) OnClose(c *engine.Conn, err error) {
	ss.s.hub.UnsubscribeAll(ss)
	for ch := range ss.subs {
		ss.s.releaseChannel(ch)
	}
	clear(ss.subs)
}

// Send implements hub.Subscriber: publications share one prepared frame.
func (ss *session) Send(f *frame.Prepared) { ss.c.DeliverFrame(f) }

// closeReply ends a reply whose result was sent as it is.
var closeReply = []byte{'}'}

// emptyResult stands for a nil result.
var emptyResult = json.RawMessage(`{}`)

// reply sends {"id":…,"result":…}. The result is not copied into a reply
// of its own: the reply goes out as parts (head, result, '}'), which the
// engine compresses when the connection negotiated permessage-deflate and
// that is worth it.
func (ss *session) reply(id, result json.RawMessage) {
	if len(result) == 0 {
		result = emptyResult
	}
	var head [envelope.MaxResultHead]byte
	ss.c.WriteParts(ws.OpText, envelope.AppendResultHead(head[:0], id), result, closeReply)
}

// replyEntry answers a call with a cached result, as reply does. The
// result is the shared body of every reply it answers (cache.Entry.Body):
// on a connection that compresses without context for the full window,
// its deflated twin, made once for the entry, goes out under each reply's
// own head, so a hit compresses nothing.
func (ss *session) replyEntry(id json.RawMessage, e *cache.Entry) {
	var head [envelope.MaxResultHead]byte
	ss.c.WriteWrapped(ws.OpText, envelope.AppendResultHead(head[:0], id), e.Body, closeReply)
}

func (ss *session) replyError(id json.RawMessage, code ErrorCode, message string) {
	ss.c.WriteMessage(ws.OpText, envelope.AppendError(nil, id, string(code), message))
}

func (ss *session) replyErr(id json.RawMessage, err error) {
	code, msg := ss.s.errorReply(err)
	ss.replyError(id, code, msg)
}

// call starts a call on its own goroutine, so that the engine is never
// blocked by a backend. A connection with MaxCallsPerConn calls running
// gets rate_limited for more.
func (ss *session) call(req envelope.Request) {
	rt, routed := ss.s.route(req.Method)
	if !routed && ss.s.backend == nil {
		ss.replyError(req.ID, CodeNotFound, fmt.Sprintf("no method %q", req.Method))
		return
	}
	if e := ss.s.freshEntry(rt, routed, req.Method, req.Args); e != nil {
		start := time.Now()
		ss.replyEntry(req.ID, e)
		ss.s.metrics.observeCall("", start)
		return
	}
	select {
	case ss.slots <- struct{}{}:
	default:
		ss.replyError(req.ID, CodeRateLimited, fmt.Sprintf("%d calls already running on this connection", cap(ss.slots)))
		return
	}
	if !ss.s.startCall() {
		<-ss.slots
		ss.replyError(req.ID, CodeUnavailable, "server shutting down")
		return
	}
	// The payload buffer is reused once OnMessage returns.
	id, args := bytes.Clone(req.ID), bytes.Clone(req.Args)
	go ss.runCall(req.Method, id, args)
}

func (ss *session) runCall(method string, id, args json.RawMessage) {
	defer func() {
		<-ss.slots
		ss.s.calls.Done()
	}()
	ctx, cancel := context.WithTimeout(ss.c.Context(), ss.s.cfg.CallTimeout)
	defer cancel()
	stop := context.AfterFunc(ss.s.baseCtx, cancel)
	defer stop()

	start := time.Now()
	result, err := ss.s.call(ctx, method, args)
	if err != nil {
		code, msg := ss.s.errorReply(err)
		ss.replyError(id, code, msg)
		ss.s.metrics.observeCall(code, start)
		return
	}
	ss.reply(id, result)
	ss.s.metrics.observeCall("", start)
}

// startCall counts a call unless the server is stopping. The lock makes
// every calls.Add happen before Shutdown's calls.Wait begins.
func (s *Server) startCall() bool {
	s.callGate.RLock()
	defer s.callGate.RUnlock()
	if s.stopping.Load() {
		return false
	}
	s.calls.Add(1)
	return true
}

func (ss *session) subscribe(req envelope.Request) {
	ch := req.Channel
	if _, ok := ss.subs[ch]; ok {
		h, err := ss.s.broker.History(ss.c.Context(), ch, nil)
		if err != nil {
			ss.replyErr(req.ID, unavailable(err))
			return
		}
		ss.reply(req.ID, positionJSON(h, false, false))
		return
	}
	if err := ss.s.retainChannel(ch); err != nil {
		ss.replyErr(req.ID, unavailable(err))
		return
	}
	var since *Position
	if req.Since != nil {
		since = &Position{Seq: req.Since.Seq, Epoch: req.Since.Epoch}
	}
	var herr error
	ss.s.hub.Subscribe(ch, ss, func() []hub.Publication {
		// Called with the channel held: the reply and the missed
		// publications go out before any live one.
		h, err := ss.s.broker.History(ss.c.Context(), ch, since)
		if err != nil {
			herr = err
			return nil
		}
		ss.reply(req.ID, positionJSON(h, since != nil, h.Recovered))
		missed := make([]hub.Publication, len(h.Missed))
		for i, p := range h.Missed {
			missed[i] = hub.Publication{Seq: p.Seq, Epoch: p.Epoch, Data: p.Data}
		}
		return missed
	})
	if herr != nil {
		ss.s.hub.Unsubscribe(ch, ss)
		ss.s.releaseChannel(ch)
		ss.replyErr(req.ID, unavailable(herr))
		return
	}
	ss.subs[ch] = struct{}{}
}

// positionJSON encodes a sub's result: {"seq":41,"epoch":"…"}, plus
// "recovered" when the client asked to resume.
func positionJSON(h History, resumed, recovered bool) json.RawMessage {
	type result struct {
		Seq       uint64 `json:"seq"`
		Epoch     string `json:"epoch"`
		Recovered *bool  `json:"recovered,omitempty"`
	}
	r := result{Seq: h.Position.Seq, Epoch: h.Position.Epoch}
	if resumed {
		r.Recovered = &recovered
	}
	b, _ := json.Marshal(r)
	return b
}

func unavailable(err error) error {
	return &Error{Code: CodeUnavailable, Message: err.Error()}
}

func (ss *session) unsubscribe(req envelope.Request) {
	if _, ok := ss.subs[req.Channel]; ok {
		ss.s.hub.Unsubscribe(req.Channel, ss)
		ss.s.releaseChannel(req.Channel)
		delete(ss.subs, req.Channel)
	}
	ss.reply(req.ID, nil)
}

func (ss *session) publish(req envelope.Request) {
	if len(req.Data) > ss.s.cfg.MaxPublishSize {
		ss.replyError(req.ID, CodeTooLarge, fmt.Sprintf("data is %d bytes; the limit is %d", len(req.Data), ss.s.cfg.MaxPublishSize))
		return
	}
	if can := ss.s.cfg.CanPublish; can != nil {
		if err := can(ss.c.Context(), req.Channel); err != nil {
			if !isWireError(err) {
				err = &Error{Code: CodeForbidden, Message: err.Error()}
			}
			ss.replyErr(req.ID, err)
			return
		}
	}
	p, err := ss.s.Publish(ss.c.Context(), req.Channel, req.Data) // copies req.Data
	if err != nil {
		ss.replyErr(req.ID, unavailable(err))
		return
	}
	ss.reply(req.ID, fmt.Appendf(nil, `{"seq":%d}`, p.Seq))
}
