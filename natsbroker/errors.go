package natsbroker

import (
	"errors"
	"fmt"

	"github.com/wsgate/wsgate"
)

// Errors of a Broker's methods. Both are wrapped with what went wrong;
// test with errors.Is. The wsgate server answers a client's pub or sub
// that failed with either as unavailable.
var (
	// ErrUnavailable: NATS cannot be reached now (the connection is
	// down or reconnecting), or JetStream failed the request, or too many
	// publications already wait for NATS. Nothing was published; the
	// caller may try again.
	ErrUnavailable = errors.New("natsbroker: NATS unavailable")
	// ErrClosed: the Broker has been closed. It wraps
	// wsgate.ErrServerClosed, as the in-memory broker's error does.
	ErrClosed = fmt.Errorf("natsbroker: closed: %w", wsgate.ErrServerClosed)
)

// unavailable wraps err, a failure of NATS, in ErrUnavailable, keeping
// it for errors.Is.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}
