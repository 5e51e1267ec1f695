package wsgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/wsgate/wsgate/internal/backend"
	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/envelope"
)

// CallFunc answers a call of one method. args is the request's "args"
// value (nil when absent). The result is marshalled to JSON; a
// json.RawMessage is sent as it is. ctx is cancelled when the call times
// out, its connection closes or the server shuts down (for a handler
// registered with CacheFor, only by the time-out and shutdown: its result
// may answer many callers). Return an *Error to choose the code the
// client sees.
type CallFunc func(ctx context.Context, args json.RawMessage) (any, error)

// HandleOption tunes how a Handle'd method is answered.
type HandleOption func(*route)

// CacheFor makes a method's results cacheable for ttl: calls with the same
// args (whatever their key order and spacing) are answered from memory
// until ttl passes, and concurrent calls with the same args share one run
// of the handler. Use it only for methods whose result depends on the
// args alone.
func CacheFor(ttl time.Duration) HandleOption {
	return func(r *route) { r.ttl = ttl }
}

// StaleWhileRevalidate lets a cached result be served for d after its TTL
// while one call of the handler refreshes it in the background.
func StaleWhileRevalidate(d time.Duration) HandleOption {
	return func(r *route) { r.swr = d }
}

// route is how one Handle'd method is answered.
type route struct {
	fn  CallFunc
	ttl time.Duration // > 0: results are cached
	swr time.Duration
}

// Handle registers fn as the handler of method, replacing any earlier
// one. Handle'd methods take precedence over Config.Backend. Method names
// are 1 to 128 bytes of [A-Za-z0-9._:/-], not starting with '/' or '_'
// (reserved for wsgate); Handle panics on an invalid name, as
// http.ServeMux does on an invalid pattern, since that is a programming
// error.
func (s *Server) Handle(method string, fn CallFunc, opts ...HandleOption) {
	if !envelope.ValidName(method) || reservedMethod(method) {
		panic(fmt.Sprintf("wsgate: Handle: invalid method name %q", method))
	}
	if fn == nil {
		panic("wsgate: Handle: nil CallFunc")
	}
	r := route{fn: fn}
	for _, o := range opts {
		o(&r)
	}
	s.routesMu.Lock()
	s.routes[method] = r
	s.routesMu.Unlock()
}

func (s *Server) route(method string) (route, bool) {
	s.routesMu.RLock()
	defer s.routesMu.RUnlock()
	r, ok := s.routes[method]
	return r, ok
}

// startCalls sets up the backend client, the response cache and the
// broker subscription that brings other nodes' cache invalidations.
func (s *Server) startCalls() error {
	if s.cfg.Backend != "" {
		b, err := backend.New(backend.Config{
			URL:           s.cfg.Backend,
			Timeout:       s.cfg.CallTimeout,
			MaxConcurrent: s.cfg.BackendMaxConcurrent,
			Logger:        s.log,
		})
		if err != nil {
			return fmt.Errorf("wsgate: %w", err) // err names the backend already
		}
		s.backend = b
	}
	s.nodeID = randomID()
	if s.cfg.CacheSize < 0 {
		return nil
	}
	c, err := cache.New(cache.Config{
		MaxBytes:     s.cfg.CacheSize,
		LoadTimeout:  s.cfg.CallTimeout,
		Codec:        s.codec,
		Logger:       s.log,
		OnInvalidate: s.forwardInvalidation,
	})
	if err != nil {
		return fmt.Errorf("wsgate: cache: %w", err)
	}
	s.cache = c
	stop, err := s.broker.Subscribe(invalidationChannel, s.applyInvalidation)
	if err != nil {
		c.Close()
		return fmt.Errorf("wsgate: subscribe to cache invalidations: %w", err)
	}
	s.stopInv = stop
	return nil
}

// stopCalls ends what startCalls started.
func (s *Server) stopCalls() {
	if s.stopInv != nil {
		s.stopInv()
	}
	if s.cache != nil {
		s.cache.Close()
	}
	if s.backend != nil {
		s.backend.Close()
	}
}

// freshEntry returns the fresh cache entry answering a call of method
// with args, or nil; rt and routed are what s.route(method) returned. It
// never blocks, so a session answers cache hits on the connection's own
// reader (or event loop) without starting a goroutine.
func (s *Server) freshEntry(rt route, routed bool, method string, args json.RawMessage) *cache.Entry {
	if s.cache == nil || routed && rt.ttl <= 0 || !routed && s.backend == nil {
		return nil // not cacheable, or nobody to answer
	}
	return s.cache.Fresh(cache.Request{Method: method, Args: args})
}

// call answers one call with the result's JSON, through the cache where
// the result may be cached. A call to the HTTP backend carries the user
// of ctx's Identity, if any: the backend sees it (backend.UserHeader), so
// loads for different users are not shared, and a result it marks private
// answers its user alone (see package cache).
func (s *Server) call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	var load cache.LoadFunc
	var user string
	if r, ok := s.route(method); ok {
		if s.cache == nil || r.ttl <= 0 {
			return s.invoke(ctx, method, r.fn, args)
		}
		load = func(ctx context.Context, req cache.Request) (cache.Result, error) {
			// The result is shared by every caller: the handler must not
			// see who started the load.
			ctx = context.WithValue(ctx, identityKey{}, (*Identity)(nil))
			v, err := s.invoke(ctx, method, r.fn, req.Args)
			return cache.Result{Value: v, TTL: r.ttl, StaleWhileRevalidate: r.swr}, err
		}
	} else {
		load = func(ctx context.Context, req cache.Request) (cache.Result, error) {
			resp, err := s.backend.Call(ctx, req.Method, req.Args, req.User)
			if err != nil {
				return cache.Result{}, err
			}
			return cache.Result{
				Value:                resp.Body,
				TTL:                  resp.Cache.TTL(),
				StaleWhileRevalidate: resp.Cache.StaleFor(),
				Private:              resp.Cache.Private,
			}, nil
		}
		if id, ok := IdentityFromContext(ctx); ok {
			user = id.User
		}
		if s.cache == nil {
			res, err := load(ctx, cache.Request{Method: method, Args: args, User: user})
			return res.Value, err
		}
	}
	e, _, err := s.cache.Get(ctx, cache.Request{Method: method, Args: args, User: user}, load)
	if err != nil {
		return nil, err
	}
	return e.Value, nil
}

// invoke runs fn and encodes its result; a panic becomes an internal error.
func (s *Server) invoke(ctx context.Context, method string, fn CallFunc, args json.RawMessage) (result json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("call handler panicked", "method", method, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("wsgate: call %s panicked: %v", method, p)
		}
	}()
	v, err := fn(ctx, args)
	if err != nil {
		if ctx.Err() != nil && !isWireError(err) {
			err = fmt.Errorf("wsgate: call %s: %w (%w)", method, err, context.Cause(ctx))
		}
		return nil, err
	}
	result, err = marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("wsgate: call %s: encode result: %w", method, err)
	}
	return result, nil
}

func isWireError(err error) bool {
	var e *Error
	var be *backend.Error
	return errors.As(err, &e) || errors.As(err, &be)
}

// errorReply maps an error to the code and message a client sees. Only an
// *Error's or the backend's message reaches the client; others are logged.
func (s *Server) errorReply(err error) (ErrorCode, string) {
	var e *Error
	var be *backend.Error
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message
	case errors.As(err, &be):
		return be.Code, be.Message
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout, "call timed out"
	case errors.Is(err, context.Canceled), errors.Is(err, ErrServerClosed), errors.Is(err, cache.ErrClosed):
		return CodeUnavailable, "call cancelled"
	case errors.Is(err, cache.ErrInvalidArgs):
		return CodeBadRequest, "args are not valid JSON"
	}
	s.log.Error("call failed", "err", err)
	return CodeInternal, "internal error"
}
