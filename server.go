package wsgate

import (
	"context"
	"encoding/json"
)

// CallFunc answers a call of one method. args is the request's "args" value
// (nil when absent). The result is marshalled to JSON (a json.RawMessage is
// sent as it is). ctx is cancelled when the call times out, the connection
// closes or the server shuts down.
type CallFunc func(ctx context.Context, args json.RawMessage) (any, error)

// Server is a WebSocket server. It is safe for concurrent use.
type Server struct {
	handlers map[string]CallFunc
}

// New returns a Server configured by cfg.
func New(cfg Config) (*Server, error) { return &Server{handlers: map[string]CallFunc{}}, nil }

// Handle registers fn as the handler of method.
func (s *Server) Handle(method string, fn CallFunc) { s.handlers[method] = fn }

// Publish sends data, marshalled to JSON, to every subscriber of channel.
func (s *Server) Publish(ctx context.Context, channel string, data any) (Publication, error) {
	return Publication{}, nil
}

// Publication is one message on a channel.
type Publication struct {
	Channel string
	Seq     uint64
	Epoch   string
	Data    json.RawMessage
}

// Config configures a Server. The zero value is ready to use.
type Config struct{}
