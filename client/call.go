package client

import (
	"context"
	"encoding/json"
	"fmt"
)

// Call calls method on the server with args and returns the result's
// JSON. args is marshalled with encoding/json (a json.RawMessage or
// []byte is sent as it is and must be valid JSON); nil sends no args.
//
// While the Client reconnects, Call waits for the connection. It returns
// when the reply comes or ctx ends, whichever is first. A request that a
// draining node refuses without running it (wsgate.DrainRefusal) goes
// again on the next connection. A server's error reply is an *Error; a connection lost before the reply gives an error
// matching ErrConnectionLost (the call may or may not have run), and
// after Close, ErrClosed.
func (c *Client) Call(ctx context.Context, method string, args any) (json.RawMessage, error) {
	r := request{Call: method}
	if args != nil {
		raw, err := marshalJSON(args)
		if err != nil {
			return nil, fmt.Errorf("client: call %s: args: %w", method, err)
		}
		r.Args = raw
	}
	result, err := c.roundTrip(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("client: call %s: %w", method, err)
	}
	return result, nil
}

// Publish publishes data on channel and returns the publication's seq.
// data is marshalled as Call's args are; nil is null. Publications of one
// Client on one channel keep their order. It waits and fails as Call
// does; on ErrConnectionLost the publication may or may not have been
// made.
func (c *Client) Publish(ctx context.Context, channel string, data any) (uint64, error) {
	raw, err := marshalJSON(data)
	if err != nil {
		return 0, fmt.Errorf("client: publish to %s: %w", channel, err)
	}
	result, err := c.roundTrip(ctx, request{Pub: channel, Data: raw})
	if err != nil {
		return 0, fmt.Errorf("client: publish to %s: %w", channel, err)
	}
	var p struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(result, &p); err != nil {
		return 0, fmt.Errorf("client: publish to %s: result %s: %w", channel, result, err)
	}
	return p.Seq, nil
}
