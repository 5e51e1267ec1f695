package wsgate

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/internal/cache"
)

// invalidationChannel carries cache invalidations between nodes. Its name
// is not a valid client channel name, so clients cannot subscribe or
// publish to it.
const invalidationChannel = "$wsgate.cache.invalidate"

// ErrCacheDisabled is returned by the cache methods of a Server whose
// Config.CacheSize is negative.
var ErrCacheDisabled = errors.New("wsgate: response cache disabled")

// InvalidateCache drops the cached results of method, on this node and,
// through the Broker, on every node. With args (any JSON-marshalable
// value, compared without regard to key order and spacing) only that
// call's result is dropped; with nil args every result of method is. It
// returns how many entries this node dropped.
func (s *Server) InvalidateCache(method string, args any) (int, error) {
	inv := cache.Invalidation{Method: method}
	if args != nil {
		raw, err := marshalJSON(args)
		if err != nil {
			return 0, fmt.Errorf("wsgate: invalidate %s: %w", method, err)
		}
		inv.Args = raw
	}
	return s.invalidate(inv)
}

// InvalidateCachePrefix drops the cached results of every method whose
// name starts with prefix, on every node. It returns how many entries
// this node dropped.
func (s *Server) InvalidateCachePrefix(prefix string) (int, error) {
	return s.invalidate(cache.Invalidation{Prefix: prefix})
}

func (s *Server) invalidate(inv cache.Invalidation) (int, error) {
	if s.cache == nil {
		return 0, ErrCacheDisabled
	}
	n, err := s.cache.Invalidate(inv)
	if err != nil {
		return 0, fmt.Errorf("wsgate: %w", err)
	}
	return n, nil
}

// forwardInvalidation tells the other nodes about an invalidation made
// here (cache.Config.OnInvalidate).
func (s *Server) forwardInvalidation(inv cache.Invalidation) {
	data, err := cache.EncodeInvalidation(s.nodeID, inv)
	if err == nil {
		_, err = s.broker.Publish(s.baseCtx, invalidationChannel, data)
	}
	if err != nil && !errors.Is(err, ErrServerClosed) {
		s.log.Error("cache invalidation not forwarded to other nodes", "err", err)
	}
}

// applyInvalidation applies another node's invalidation to this node's
// cache. It runs as a broker delivery and must not block.
func (s *Server) applyInvalidation(p Publication) {
	node, inv, err := cache.DecodeInvalidation(p.Data)
	if err != nil {
		s.log.Warn("malformed cache invalidation from the broker", "err", err)
		return
	}
	if node == s.nodeID {
		return // made here, and applied already
	}
	if _, err := s.cache.Apply(inv); err != nil {
		s.log.Warn("cache invalidation from the broker not applied", "err", err)
	}
}

// randomID returns 16 random hex digits.
func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
