package bench

import (
	"fmt"
	"strconv"
)

// Payload is the kind of message body echo sends (--payload). The zero
// value is PayloadBinary.
type Payload uint8

const (
	// PayloadBinary: pseudo-random bytes in binary messages; they do not
	// compress.
	PayloadBinary Payload = iota
	// PayloadText: pseudo-random ASCII letters and digits in text
	// messages; they compress a little (about 6 bits a byte).
	PayloadText
	// PayloadJSON: a JSON object of quote records in text messages, about
	// as compressible as real API traffic (5x or so at DEFLATE level 1).
	// Its numbers change with every message, and it carries the message's
	// sequence number and connection.
	PayloadJSON
)

var payloadNames = [...]string{PayloadBinary: "binary", PayloadText: "text", PayloadJSON: "json"}

// String returns the name as typed after --payload ("json"), or
// "Payload(N)".
func (p Payload) String() string {
	if int(p) < len(payloadNames) {
		return payloadNames[p]
	}
	return fmt.Sprintf("Payload(%d)", uint8(p))
}

// Set parses a name; it makes *Payload a flag.Value.
func (p *Payload) Set(s string) error {
	for i, name := range payloadNames {
		if s == name {
			*p = Payload(i)
			return nil
		}
	}
	return fmt.Errorf("want binary, text or json")
}

// setText is --text, the older spelling of --payload text.
func (p *Payload) setText(s string) error {
	on, err := strconv.ParseBool(s)
	switch {
	case err != nil:
		return err
	case on:
		*p = PayloadText
	case *p == PayloadText:
		*p = PayloadBinary
	}
	return nil
}

// isText reports whether messages of kind p go out as text messages.
func (p Payload) isText() bool { return p != PayloadBinary }

// maxJSONInFlight bounds the bytes of --payload json messages a run
// keeps for verification (conns × inflight × size).
const maxJSONInFlight = 1 << 30

// checkPayload validates the echo payload against the size and load.
func (o *Options) checkPayload() error {
	if o.Payload > PayloadJSON {
		return fmt.Errorf("bench: --payload %v: want binary, text or json", o.Payload)
	}
	if o.Payload != PayloadJSON {
		return nil
	}
	if o.Size < MinJSONSize {
		return fmt.Errorf("bench: --size %d: json payloads need at least %d bytes", o.Size, MinJSONSize)
	}
	if int64(o.Conns)*int64(o.Inflight)*int64(o.Size) > maxJSONInFlight {
		return fmt.Errorf("bench: --payload json keeps every message in flight: --conns × --inflight × --size is over %d MiB", maxJSONInFlight>>20)
	}
	return nil
}
