package wsgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync/atomic"
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
// OnMessage and OnClose from one goroutine (an event loop, under epoll),
// so they never wait: cache hits are answered there, calls run on
// goroutines of their own, and sub, unsub and pub, which ask the Broker,
// run in order on the connection's lane (lane.go). Both are counted in
// Server.calls. The hub alone records what the connection is subscribed
// to.
type session struct {
	s      *Server
	c      *engine.Conn
	calls  atomic.Int32 // calls running, at most Config.MaxCallsPerConn
	closed atomic.Bool  // OnClose has run: the lane answers nothing more
	// lane runs the sub, unsub and pub requests (lane.go); nil until the
	// first. Only onLane, called from OnMessage, sets it; the goroutines
	// it starts read it.
	lane  *lane
	scope atomic.Pointer[requestScope] // its requests' context; nil until the first (lane.go)
	rate  messageRate                  // Config.MaxMessagesPerSecond
	auth  *connAuth                    // nil without Config.Authenticate and AuthenticateHandshake (auth.go)
	// key is the connection's place in Server.gate under a per-IP cap
	// (connGate.admit); nil without one, which stands for the zero Addr.
	key *netip.Addr
}

// newSession returns the session of a new connection that holds its
// place in the server's gate under key; with authentication on, id is
// who the handshake named, or nil. A session counts its connection's
// events in the server's metrics itself, as metrics.wrap does for other
// handlers, so that a connection holds one object, not two.
func newSession(s *Server, key netip.Addr, id *Identity) *session {
	ss := &session{s: s}
	if key.IsValid() {
		ss.key = &key
	}
	if s.cfg.Authenticate != nil || s.cfg.AuthenticateHandshake != nil {
		ss.auth = newConnAuth(id, s.cfg.AuthTimeout)
	}
	return ss
}

// counters are the /ws endpoint's.
func (ss *session) counters() *endpointCounters { return &ss.s.metrics.endpoint[endpointWS] }

// OnOpen sets the connection's alarm for its authentication, and tells
// a client whose handshake carried a token who it is.
func (ss *session) OnOpen(c *engine.Conn) {
	ss.c = c
	ss.counters().countOpen()
	if a := ss.auth; a != nil {
		a.mu.Lock()
		c.SetAlarm(a.alarmLocked())
		a.mu.Unlock()
		if id := a.id.Load(); id != nil {
			c.WriteMessage(ws.OpText, appendAuthReply(nil, nil, id))
		}
	}
}

func (ss *session) OnMessage(c *engine.Conn, op ws.Opcode, payload []byte) {
	ss.counters().received.Add(1)
	if ss.auth != nil && ss.auth.id.Load() == nil {
		ss.beforeAuth(op, payload)
		return
	}
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
	if n := ss.s.cfg.MaxMessagesPerSecond; n > 0 && !ss.rate.allow(time.Since(ss.s.started), n) {
		ss.s.limited.bite(limitMessageRate)
		ss.replyError(req.ID, CodeRateLimited, fmt.Sprintf("more than %d messages a second on this connection", n))
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
	case envelope.KindAuth:
		ss.checkToken(req)
	}
}

// OnClose ends the connection's subscriptions. A subscribe running on the
// lane meanwhile sees closed and undoes itself (subscribe).
func (ss *session) OnClose(c *engine.Conn, err error) {
	var key netip.Addr
	if ss.key != nil {
		key = *ss.key
	}
	ss.s.metrics.ended(ss.counters(), ss.s.gate, key, err)
	ss.closed.Store(true)
	ss.endRequests()
	ss.s.hub.UnsubscribeAll(ss)
}

// Send implements hub.Subscriber: publications share one prepared frame.
func (ss *session) Send(f *frame.Prepared) { ss.c.WriteFrame(f) }

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

// replyLater sends what reply sends, left to the connection's engine to
// write with the other messages it sends meanwhile (engine.Conn.WriteFrame):
// under the epoll engine with everything the loop writes to the
// connection on its next turn, in one system call, instead of one of its
// own. It suits a reply that has others close behind it; a lone reply
// waits for the loop for nothing.
func (ss *session) replyLater(id, result json.RawMessage) {
	var buf [256]byte
	b := append(envelope.AppendResultHead(buf[:0], id), result...)
	ss.c.WriteFrame(frame.NewDeflatable(ss.s.codec, ws.OpText, append(b, closeReply...)))
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
	if reservedMethod(req.Method) {
		ss.replyError(req.ID, CodeNotFound, fmt.Sprintf("no method %q", req.Method))
		return
	}
	if !ss.permit(permCall, req.ID, req.Method) {
		return
	}
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
	if max := ss.s.cfg.MaxCallsPerConn; int(ss.calls.Add(1)) > max {
		ss.calls.Add(-1)
		ss.s.limited.bite(limitCallsPerConn)
		ss.replyError(req.ID, CodeRateLimited, fmt.Sprintf("%d calls already running on this connection", max))
		return
	}
	// The arguments are held until the call ends: charge them to the
	// input budget before copying them.
	size := int64(len(req.Args))
	if !ss.s.engine.ReserveInput(size) {
		ss.calls.Add(-1)
		ss.s.limited.bite(limitInputBudget)
		ss.replyError(req.ID, CodeUnavailable, msgInputBudget)
		return
	}
	if !ss.s.startCall() {
		ss.s.engine.ReleaseInput(size)
		ss.calls.Add(-1)
		ss.replyError(req.ID, CodeUnavailable, ss.s.refusal())
		return
	}
	// The payload buffer is reused once OnMessage returns.
	id, args := bytes.Clone(req.ID), bytes.Clone(req.Args)
	go ss.runCall(req.Method, id, args)
}

// msgInputBudget is what a client is told when a request is refused for
// Config.MaxBufferedInput.
const msgInputBudget = "server busy: input budget spent; retry"

// runCall runs a call started by call, whose args are charged to the
// input budget until it ends.
func (ss *session) runCall(method string, id, args json.RawMessage) {
	defer func() {
		ss.s.engine.ReleaseInput(int64(len(args)))
		ss.calls.Add(-1)
		ss.s.calls.Done()
	}()
	ctx, lease := ss.requestContext()
	defer lease.Release()

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

// subscribe queues a sub request on the lane. The payload buffer is
// reused once OnMessage returns, so what the request needs is copied.
func (ss *session) subscribe(req envelope.Request) {
	if !ss.permit(permSubscribe, req.ID, req.Channel) {
		return
	}
	id, ch := bytes.Clone(req.ID), req.Channel
	var since *Position
	if req.Since != nil {
		since = &Position{Seq: req.Since.Seq, Epoch: req.Since.Epoch}
	}
	ss.onLane(id, 0, "", func(ctx context.Context) { ss.runSubscribe(ctx, id, ch, since) })
}

// runSubscribe subscribes the connection to ch through the hub, which
// reads the broker's history with no lock held and sends the reply, the
// missed publications and the live ones in that order.
func (ss *session) runSubscribe(ctx context.Context, id json.RawMessage, ch string, since *Position) {
	added, err := ss.s.hub.Subscribe(ctx, ch, ss, func(ctx context.Context) (hub.Backlog, error) {
		h, err := ss.s.broker.History(ctx, ch, since)
		if err != nil {
			return hub.Backlog{}, err
		}
		missed := make([]hub.Publication, len(h.Missed))
		for i, p := range h.Missed {
			missed[i] = hub.Publication{Seq: p.Seq, Epoch: p.Epoch, Data: p.Data}
		}
		start := func() { ss.reply(id, positionJSON(h, since != nil, h.Recovered)) }
		return hub.Backlog{Start: start, Missed: missed}, nil
	})
	switch {
	case errors.Is(err, hub.ErrUnsubscribed):
		// The connection ended meanwhile: nobody to answer.
	case errors.Is(err, hub.ErrTooManySubscriptions):
		ss.s.limited.bite(limitSubscriptions)
		ss.replyError(id, CodeTooLarge, fmt.Sprintf("this connection has %d subscriptions, the most allowed; unsub first", ss.s.cfg.MaxSubscriptionsPerConn))
	case errors.Is(err, hub.ErrOverflow):
		ss.replyError(id, CodeUnavailable, "publications arrived faster than the channel's history could be read; subscribe again")
	case err != nil:
		ss.replyErr(id, ss.s.brokerError(err))
	case !added:
		// Subscribed already: answer with the channel's position.
		h, err := ss.s.broker.History(ctx, ch, nil)
		if err != nil {
			ss.replyErr(id, ss.s.brokerError(err))
			return
		}
		ss.reply(id, positionJSON(h, false, false))
	case ss.closed.Load():
		// The connection ended while it joined, after OnClose had
		// unsubscribed it from everything: undo the join.
		ss.s.hub.Unsubscribe(ch, ss)
	}
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

// brokerError is what a client is told when the Broker failed it.
func (s *Server) brokerError(err error) error {
	switch {
	case isWireError(err):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "the broker did not answer in time"}
	case errors.Is(err, ErrServerClosed), errors.Is(err, hub.ErrClosed):
		// Refused before the broker was asked: not run.
		return &Error{Code: CodeUnavailable, Message: s.refusal()}
	case errors.Is(err, context.Canceled):
		// Cut short: it may have been run.
		return &Error{Code: CodeUnavailable, Message: "server shutting down"}
	}
	return &Error{Code: CodeUnavailable, Message: err.Error()}
}

// unsubscribe queues an unsub request on the lane, behind the sub it may
// undo.
func (ss *session) unsubscribe(req envelope.Request) {
	id, ch := bytes.Clone(req.ID), req.Channel
	ss.onLane(id, 0, "", func(context.Context) {
		ss.s.hub.Unsubscribe(ch, ss)
		ss.reply(id, nil)
	})
}

// publish checks a pub request's size at once and queues it on the lane,
// so one connection's publications on a channel reach the broker in the
// order sent.
// Its data is charged to the input budget until the request ends.
func (ss *session) publish(req envelope.Request) {
	if !ss.permit(permPublish, req.ID, req.Channel) {
		return
	}
	if len(req.Data) > ss.s.cfg.MaxPublishSize {
		ss.s.limited.bite(limitPublishSize)
		ss.replyError(req.ID, CodeTooLarge, fmt.Sprintf("data is %d bytes; the limit is %d", len(req.Data), ss.s.cfg.MaxPublishSize))
		return
	}
	if !ss.s.engine.ReserveInput(int64(len(req.Data))) {
		ss.s.limited.bite(limitInputBudget)
		ss.replyError(req.ID, CodeUnavailable, msgInputBudget)
		return
	}
	id, ch, data := bytes.Clone(req.ID), req.Channel, bytes.Clone(req.Data)
	ss.onLane(id, len(data), ch, func(ctx context.Context) { ss.runPublish(ctx, id, ch, data) })
}

// appendPubResult appends a pub's result to b: {"seq":N,"epoch":"…"},
// without the epoch when the publication has none (live only).
func appendPubResult(b []byte, p Publication) []byte {
	b = strconv.AppendUint(append(b, `{"seq":`...), p.Seq, 10)
	if p.Epoch != "" {
		b = append(b, `,"epoch":`...)
		b = envelope.AppendString(b, p.Epoch)
	}
	return append(b, '}')
}

// runPublish asks CanPublish, then the Broker, and answers with the
// publication's seq.
func (ss *session) runPublish(ctx context.Context, id json.RawMessage, ch string, data json.RawMessage) {
	if can := ss.s.cfg.CanPublish; can != nil {
		if err := can(ctx, ch); err != nil {
			if !isWireError(err) {
				err = &Error{Code: CodeForbidden, Message: err.Error()}
			}
			ss.replyErr(id, err)
			return
		}
	}
	p, err := ss.s.publish(ctx, ch, data)
	if err != nil {
		ss.replyErr(id, ss.s.brokerError(err))
		return
	}
	var buf [64]byte
	if result := appendPubResult(buf[:0], p); ss.lane.crowded() {
		ss.replyLater(id, result)
	} else {
		ss.reply(id, result)
	}
}
