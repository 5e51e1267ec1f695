package e2e

import (
	"context"
	"encoding/json"
	"fmt"
)

// envelope is any message the server sends on /ws: a reply (id with
// result or error) or a publication (ch, seq, data).
type envelope struct {
	ID     *int64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	Ch     string          `json:"ch"`
	Seq    *uint64         `json:"seq"`
	Data   json.RawMessage `json:"data"`

	raw []byte
}

// seqResult is the result of sub, pub and test.publish.
type seqResult struct {
	Seq   *uint64 `json:"seq"`
	Epoch *string `json:"epoch"`
}

// jsonPeer speaks the /ws envelope over a goConn. It keeps every message
// it has read, so a case can wait for replies and publications in either
// order.
type jsonPeer struct {
	conn  goConn
	inbox []envelope
}

// next returns and removes the first message, read or still to come, for
// which match is true.
func (p *jsonPeer) next(ctx context.Context, what string, match func(envelope) bool) (envelope, error) {
	for {
		for i, e := range p.inbox {
			if match(e) {
				p.inbox = append(p.inbox[:i], p.inbox[i+1:]...)
				return e, nil
			}
		}
		k, b, err := p.conn.Read(ctx)
		if err != nil {
			return envelope{}, fmt.Errorf("waiting for %s: %w", what, err)
		}
		if k != kindText {
			return envelope{}, fmt.Errorf("waiting for %s: got a %v message", what, k)
		}
		e := envelope{raw: b}
		if err := json.Unmarshal(b, &e); err != nil {
			return envelope{}, fmt.Errorf("waiting for %s: %w in %q", what, err, b)
		}
		p.inbox = append(p.inbox, e)
	}
}

// publication waits for the next publication on ch.
func (p *jsonPeer) publication(ctx context.Context, ch string) (envelope, error) {
	return p.next(ctx, "a publication on "+ch, func(e envelope) bool { return e.Ch == ch })
}

// request sends msg, which must have an "id", and returns the reply's
// result; an error reply is an error.
func (p *jsonPeer) request(ctx context.Context, id int64, msg map[string]any) (json.RawMessage, error) {
	msg["id"] = id
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if err := p.conn.Write(ctx, kindText, b); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("the reply to id %d", id)
	e, err := p.next(ctx, what, func(e envelope) bool { return e.ID != nil && *e.ID == id })
	if err != nil {
		return nil, err
	}
	if e.Error != nil {
		return nil, fmt.Errorf("id %d: error reply %s", id, e.Error)
	}
	if e.Result == nil {
		return nil, fmt.Errorf("id %d: reply without result: %s", id, e.raw)
	}
	return e.Result, nil
}

// requestSeq is request for a reply whose result carries a seq (and an
// epoch when withEpoch).
func (p *jsonPeer) requestSeq(ctx context.Context, id int64, msg map[string]any, withEpoch bool) (uint64, error) {
	res, err := p.request(ctx, id, msg)
	if err != nil {
		return 0, err
	}
	var r seqResult
	if err := json.Unmarshal(res, &r); err != nil || r.Seq == nil || (withEpoch && r.Epoch == nil) {
		want := `{"seq":number}`
		if withEpoch {
			want = `{"seq":number,"epoch":string}`
		}
		return 0, fmt.Errorf("id %d: result %s, want %s", id, res, want)
	}
	return *r.Seq, nil
}
