package envelope

import (
	"encoding/json"
	"strconv"

	"github.com/wsgate/wsgate/internal/errcode"
)

// MaxIDLen is the longest "id" Parse accepts, in bytes as written on the
// wire (quotes and escapes of a string id included).
const MaxIDLen = 64

// Kind is what a request asks for.
type Kind uint8

// The request kinds, one per field that names them on the wire.
const (
	KindCall  Kind = iota + 1 // "call": a request/response call of a method
	KindSub                   // "sub": subscribe to a channel
	KindUnsub                 // "unsub": unsubscribe from a channel
	KindPub                   // "pub": publish to a channel
	KindAuth                  // "auth": present a token (see Request.Token)
)

// MaxTokenLen is the longest "auth" token Parse accepts, in bytes.
const MaxTokenLen = 8 << 10

// String returns the wire name of k ("call", "sub", "unsub", "pub",
// "auth").
func (k Kind) String() string {
	switch k {
	case KindCall:
		return "call"
	case KindSub:
		return "sub"
	case KindUnsub:
		return "unsub"
	case KindPub:
		return "pub"
	case KindAuth:
		return "auth"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Position is a place in a channel's stream of publications: the sequence
// number of a publication within an epoch. A new epoch means the sequence
// restarted (the channel's history was lost), so a resume with an old epoch
// cannot be served from history.
type Position struct {
	Seq   uint64
	Epoch string
}

// Request is one decoded client message.
//
// ID, Args and Data are sub-slices of the buffer given to Parse: they stay
// valid only while that buffer is neither modified nor reused. A caller that
// keeps them longer (an asynchronous call, a cache key) must copy them.
type Request struct {
	ID      json.RawMessage // the "id" value exactly as sent (number or string), nil when absent
	Kind    Kind
	Method  string          // for KindCall
	Channel string          // for KindSub, KindUnsub, KindPub
	Args    json.RawMessage // "args" of a call, nil when absent or null
	Data    json.RawMessage // "data" of a pub, required (null is a value)
	Since   *Position       // "since" of a sub, nil when absent or null
	Token   string          // for KindAuth: the token, 1 to MaxTokenLen bytes
}

// Error is a request the server cannot accept. Code is the wire error code
// to reply with (errcode.BadRequest for every error Parse returns) and
// Message a short description for people.
type Error struct {
	Code    errcode.Code
	Message string
}

func (e *Error) Error() string { return "envelope: " + string(e.Code) + ": " + e.Message }

func badRequest(msg string) *Error { return &Error{Code: errcode.BadRequest, Message: msg} }

// Parse decodes one request from b, following the rules in the package
// documentation. On error it still returns the request's ID when it could
// read a valid one, so that the error reply can carry it; the error is then
// an *Error with Code errcode.BadRequest. The returned ID, Args and Data alias b.
func Parse(b []byte) (Request, error) {
	var req Request
	if ok, tooDeep := validNested(b, MaxNesting); !ok {
		if tooDeep {
			req.ID = leadingID(b)
			return req, badRequest("nested deeper than " + strconv.Itoa(MaxNesting) + " levels")
		}
		return req, badRequest("invalid JSON")
	}
	s := scanner{b: b}
	s.skipSpace()
	if s.peek() != '{' {
		return req, badRequest("not a JSON object")
	}
	f, dup := s.fields()
	if f.id != nil {
		switch {
		case dup == "id":
			return req, badRequest(`duplicate field "id"`)
		case f.id[0] != '"' && f.id[0] != '-' && (f.id[0] < '0' || f.id[0] > '9'):
			return req, badRequest("id must be a number or a string")
		case len(f.id) > MaxIDLen:
			return req, badRequest("id is longer than " + strconv.Itoa(MaxIDLen) + " bytes")
		}
		req.ID = f.id
	}
	if dup != "" {
		return req, badRequest(`duplicate field "` + dup + `"`)
	}
	var name []byte
	for k, v := range [...][]byte{KindCall: f.call, KindSub: f.sub, KindUnsub: f.unsub, KindPub: f.pub, KindAuth: f.auth} {
		if v == nil {
			continue
		}
		if req.Kind != 0 {
			return req, badRequest("more than one of call, sub, unsub, pub, auth")
		}
		req.Kind, name = Kind(k), v
	}
	if req.Kind == 0 {
		return req, badRequest("missing call, sub, unsub, pub or auth")
	}
	n, ok := decodeString(name)
	if !ok {
		return req, badRequest(req.Kind.String() + " must be a string")
	}
	if req.Kind == KindAuth {
		if n == "" || len(n) > MaxTokenLen {
			return req, badRequest("auth must be a token of 1 to " + strconv.Itoa(MaxTokenLen) + " bytes")
		}
		if f.args != nil || f.data != nil || f.since != nil {
			return req, badRequest("args, data and since are not valid with auth")
		}
		req.Token = n
		return req, nil
	}
	if !ValidName(n) {
		return req, badRequest("invalid " + req.Kind.String() + " name")
	}
	if req.Kind == KindCall {
		req.Method = n
	} else {
		req.Channel = n
	}
	if f.args != nil && !isNull(f.args) {
		if req.Kind != KindCall {
			return req, badRequest("args is only valid with call")
		}
		req.Args = f.args
	}
	if f.data != nil {
		if req.Kind != KindPub {
			return req, badRequest("data is only valid with pub")
		}
		req.Data = f.data
	} else if req.Kind == KindPub {
		return req, badRequest("pub requires data")
	}
	if f.since != nil && !isNull(f.since) {
		if req.Kind != KindSub {
			return req, badRequest("since is only valid with sub")
		}
		p, err := parseSince(f.since)
		if err != nil {
			return req, err
		}
		req.Since = p
	}
	return req, nil
}

// parseSince decodes the value of "since", known to be valid JSON.
func parseSince(raw []byte) (*Position, error) {
	if raw[0] != '{' {
		return nil, badRequest("since must be an object")
	}
	s := scanner{b: raw}
	var seq, epoch []byte
	for {
		key, val, ok := s.next()
		if !ok {
			break
		}
		switch string(key) {
		case "seq":
			if seq != nil {
				return nil, badRequest(`duplicate field "since.seq"`)
			}
			seq = val
		case "epoch":
			if epoch != nil {
				return nil, badRequest(`duplicate field "since.epoch"`)
			}
			epoch = val
		}
	}
	if seq == nil {
		return nil, badRequest("since requires seq")
	}
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if err != nil {
		return nil, badRequest("since.seq must be an unsigned 64-bit integer")
	}
	p := &Position{Seq: n}
	if epoch != nil {
		e, ok := decodeString(epoch)
		if !ok {
			return nil, badRequest("since.epoch must be a string")
		}
		p.Epoch = e
	}
	return p, nil
}

func isNull(raw []byte) bool { return string(raw) == "null" }
