package client

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/wsgate/wsgate/internal/envelope"
	"github.com/wsgate/wsgate/ws"
)

// request is a message to the server on /ws; exactly one of Call, Sub,
// Unsub and Pub is set.
type request struct {
	ID    uint64          `json:"id"`
	Call  string          `json:"call,omitempty"`
	Args  json.RawMessage `json:"args,omitempty"`
	Sub   string          `json:"sub,omitempty"`
	Since *Position       `json:"since,omitempty"`
	Unsub string          `json:"unsub,omitempty"`
	Pub   string          `json:"pub,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// inbound is a message from the server: a reply (ID with Result or
// Error), a publication (Ch, Seq, Data, and Epoch when numbered), or
// about authentication (Auth).
type inbound struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
	Ch     string          `json:"ch"`
	Seq    uint64          `json:"seq"`
	Data   json.RawMessage `json:"data"`
	Epoch  string          `json:"epoch"`
	Auth   json.RawMessage `json:"auth"` // "refresh", or who the token named
}

// subResult is the result of a sub: the channel's position, and whether
// a resume got every missed publication.
type subResult struct {
	Seq       uint64 `json:"seq"`
	Epoch     string `json:"epoch"`
	Recovered *bool  `json:"recovered"`
}

// textFrame returns r as a masked text frame.
func textFrame(r request) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return ws.AppendMaskedFrame(make([]byte, 0, len(b)+ws.MaxHeaderSize), ws.OpText, true, 0, ws.NewMaskKey(), b), nil
}

// controlFrame returns a masked control frame.
func controlFrame(op ws.Opcode, payload []byte) []byte {
	return ws.AppendMaskedFrame(nil, op, true, 0, ws.NewMaskKey(), payload)
}

// closeFrame returns a masked Close frame with code and reason.
func closeFrame(code ws.StatusCode, reason string) []byte {
	return controlFrame(ws.OpClose, ws.AppendClosePayload(nil, code, reason))
}

// marshalJSON encodes v for args or data: json.RawMessage and []byte
// must be valid JSON and are used as they are; nil is null.
func marshalJSON(v any) (json.RawMessage, error) { return envelope.Marshal(v) }

// baseURL normalises a node or seed URL: http or https (ws and wss are
// taken for them), a host, a path without a trailing slash, nothing else.
func baseURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", errors.New("scheme is not http, https, ws or wss")
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// wsURL returns the WebSocket URL of the node at base: ws or wss, and
// /ws after base's path.
func wsURL(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}
