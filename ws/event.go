package ws

import "strconv"

// Role says which side of a connection a Reader decodes for, and so which
// masking RFC 6455 §5.1 requires of the frames it receives.
type Role uint8

const (
	ServerSide Role = iota // reads frames from a client: they must be masked
	ClientSide             // reads frames from a server: they must not be masked
)

// String returns "ServerSide", "ClientSide" or "Role(N)".
func (r Role) String() string {
	switch r {
	case ServerSide:
		return "ServerSide"
	case ClientSide:
		return "ClientSide"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// EventKind is what a Reader found in the bytes it was given.
type EventKind uint8

const (
	EventNone    EventKind = iota // nothing complete yet: more bytes are needed
	EventMessage                  // a whole text or binary message
	EventPing                     // a Ping frame; the caller answers with a Pong
	EventPong                     // a Pong frame
	EventClose                    // a Close frame; the Reader is done
)

// String returns the kind's name without the Event prefix ("Message") or
// "EventKind(N)".
func (k EventKind) String() string {
	switch k {
	case EventNone:
		return "None"
	case EventMessage:
		return "Message"
	case EventPing:
		return "Ping"
	case EventPong:
		return "Pong"
	case EventClose:
		return "Close"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one result of Reader.Next. Payload is borrowed: it is valid
// until the next call to Next, Reset or Release on the Reader that
// returned it, and may point into the caller's input buffer.
type Event struct {
	Kind       EventKind
	Opcode     Opcode // OpText or OpBinary for EventMessage; the frame's opcode for control events
	Compressed bool   // RSV1 was set on the message's first frame (only with ReaderOptions.AllowRSV1)
	Payload    []byte // the message or control payload, unmasked

	CloseCode   StatusCode // for EventClose; StatusNoStatusRcvd when the body was empty
	CloseReason string     // for EventClose; valid UTF-8, owned by the Event
}
