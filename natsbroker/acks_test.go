package natsbroker

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestParseAck(t *testing.T) {
	t.Parallel()
	status503 := nats.Header{"Status": []string{"503"}}
	for _, tt := range []struct {
		name     string
		data     string
		header   nats.Header
		seq      uint64
		conflict bool
		noStream bool
		err      bool
	}{
		{name: "stored", data: `{"stream":"WSGATE","seq":42}`, seq: 42},
		{name: "stored, domain", data: `{"stream":"WSGATE","domain":"hub","seq":7,"duplicate":false}`, seq: 7},
		{name: "spaces", data: `{"stream": "WSGATE", "seq": 9}`, seq: 9},
		{name: "duplicate", data: `{"stream":"WSGATE","seq":11,"duplicate":true}`, seq: 11},
		{name: "nested seq", data: `{"stream":"W","x":{"seq":3},"seq":4}`, seq: 4},
		{name: "seq twice", data: `{"stream":"W","seq":3,"seq":4}`, seq: 4},
		{name: "wrong last sequence", data: `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"},"stream":"WSGATE","seq":0}`, conflict: true, err: true},
		{name: "no stream", header: status503, noStream: true, err: true},
		{name: "empty", err: true},
		{name: "not JSON", data: `seq`, err: true},
		{name: "no seq", data: `{"stream":"WSGATE"}`, err: true},
		{name: "seq 0", data: `{"stream":"WSGATE","seq":0}`, err: true},
		{name: "seq too big", data: `{"stream":"WSGATE","seq":99999999999999999999}`, err: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := parseAck(&nats.Msg{Data: []byte(tt.data), Header: tt.header})
			if (r.err != nil) != tt.err || r.seq != tt.seq {
				t.Fatalf("parseAck(%q) = %d, %v", tt.data, r.seq, r.err)
			}
			if isConflict(r.err) != tt.conflict {
				t.Errorf("isConflict = %v, want %v (%v)", !tt.conflict, tt.conflict, r.err)
			}
			if errors.Is(r.err, jetstream.ErrNoStreamResponse) != tt.noStream {
				t.Errorf("no stream: %v", r.err)
			}
		})
	}
}

// FuzzParseAck: whatever the bytes, parseAck does not panic, and what
// the scan reads as stored, encoding/json reads the same way.
func FuzzParseAck(f *testing.F) {
	for _, s := range []string{`{"stream":"S","seq":1}`, `{"stream":"S","domain":"d","seq":2,"duplicate":true}`, `{"error":{"code":400,"err_code":10071}}`, `{"seq":"1"}`, `{"a":{"seq":3},"seq":4}`, ``, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := parseAck(&nats.Msg{Data: data})
		if r.err != nil {
			return
		}
		if r.seq == 0 {
			t.Fatalf("parseAck(%q): no error and no sequence", data)
		}
		if seq, ok := scanAck(data); ok {
			var ack struct {
				Seq   uint64          `json:"seq"`
				Error json.RawMessage `json:"error"`
			}
			if err := json.Unmarshal(data, &ack); err != nil || ack.Seq != seq || ack.Error != nil {
				t.Fatalf("scanAck(%q) = %d; encoding/json reads %d, error %s, %v", data, seq, ack.Seq, ack.Error, err)
			}
		}
	})
}
