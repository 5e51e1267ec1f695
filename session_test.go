package wsgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsgate/wsgate"
)

func TestRequestErrorsKeepConnection(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{
			Engine:         eng,
			MaxPublishSize: 100,
			CanPublish: func(_ context.Context, ch string) error {
				if ch == "readonly" {
					return errors.New("no")
				}
				return nil
			},
		})
		c := dial(t, url+"/ws")
		tests := []struct {
			name, msg, wantID, wantCode string
		}{
			{"not json", `hello`, "", "bad_request"},
			{"truncated", `{"id":1,"call":`, "", "bad_request"},
			{"no kind", `{"id":2}`, "2", "bad_request"},
			{"two kinds", `{"id":3,"call":"a","sub":"b"}`, "3", "bad_request"},
			{"bad name", `{"id":4,"sub":"/x"}`, "4", "bad_request"},
			{"array", `[1,2]`, "", "bad_request"},
			{"unknown method", `{"id":"x","call":"no.such"}`, `"x"`, "not_found"},
			{"pub without data", `{"id":5,"pub":"chat"}`, "5", "bad_request"},
			{"pub too large", `{"id":6,"pub":"chat","data":"` + strings.Repeat("a", 200) + `"}`, "6", "too_large"},
			{"pub forbidden", `{"id":7,"pub":"readonly","data":1}`, "7", "forbidden"},
		}
		for _, tt := range tests {
			r := request(t, c, tt.msg)
			if r.Error == nil || r.Error.Code != tt.wantCode {
				t.Errorf("%s: got %+v, want error %s", tt.name, r, tt.wantCode)
			}
			if string(r.ID) != tt.wantID {
				t.Errorf("%s: id = %s, want %q", tt.name, r.ID, tt.wantID)
			}
		}
		// Binary frames are not part of the envelope.
		if err := c.WriteMessage(websocket.BinaryMessage, []byte(`{"id":8,"sub":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if r := next(t, c); r.Error == nil || r.Error.Code != "bad_request" {
			t.Errorf("binary frame: got %+v, want bad_request", r)
		}
		// The connection still works.
		if r := request(t, c, `{"id":9,"sub":"chat"}`); r.Error != nil {
			t.Errorf("sub after errors: %+v", r.Error)
		}
	})
}

func TestCall(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, CallTimeout: 200 * time.Millisecond})
		srv.Handle("echo", func(_ context.Context, args json.RawMessage) (any, error) { return args, nil })
		srv.Handle("sum", func(_ context.Context, args json.RawMessage) (any, error) {
			var xs []int
			if err := json.Unmarshal(args, &xs); err != nil {
				return nil, wsgate.Errorf(wsgate.CodeBadRequest, "args must be a list of numbers")
			}
			total := 0
			for _, x := range xs {
				total += x
			}
			return map[string]int{"sum": total}, nil
		})
		srv.Handle("panic", func(context.Context, json.RawMessage) (any, error) { panic("boom") })
		srv.Handle("fail", func(context.Context, json.RawMessage) (any, error) { return nil, errors.New("secret detail") })
		srv.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		srv.Handle("bad.result", func(context.Context, json.RawMessage) (any, error) { return json.RawMessage(`{`), nil })
		c := dial(t, url+"/ws")

		tests := []struct {
			msg, wantResult, wantCode string
		}{
			{`{"id":1,"call":"echo","args":{"a":[1,2,"ü"]}}`, `{"a":[1,2,"ü"]}`, ""},
			{`{"id":2,"call":"echo"}`, `null`, ""},
			{`{"id":3,"call":"sum","args":[1,2,3]}`, `{"sum":6}`, ""},
			{`{"id":4,"call":"sum","args":"x"}`, "", "bad_request"},
			{`{"id":5,"call":"panic"}`, "", "internal"},
			{`{"id":6,"call":"fail"}`, "", "internal"},
			{`{"id":7,"call":"slow"}`, "", "timeout"},
			{`{"id":8,"call":"bad.result"}`, "", "internal"},
		}
		for _, tt := range tests {
			r := request(t, c, tt.msg)
			if tt.wantCode != "" {
				if r.Error == nil || r.Error.Code != tt.wantCode {
					t.Errorf("%s: got %+v, want error %s", tt.msg, r, tt.wantCode)
				} else if strings.Contains(r.Error.Message, "secret") {
					t.Errorf("%s: internal error detail leaked: %q", tt.msg, r.Error.Message)
				}
				continue
			}
			if r.Error != nil || string(r.Result) != tt.wantResult {
				t.Errorf("%s: got result %s error %+v, want %s", tt.msg, r.Result, r.Error, tt.wantResult)
			}
		}
	})
}

func TestCallsRunConcurrently(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		release := make(chan struct{})
		srv.Handle("wait", func(ctx context.Context, _ json.RawMessage) (any, error) {
			select {
			case <-release:
				return "released", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		})
		srv.Handle("release", func(context.Context, json.RawMessage) (any, error) {
			close(release)
			return "ok", nil
		})
		c := dial(t, url+"/ws")
		send(t, c, `{"id":1,"call":"wait"}`)
		send(t, c, `{"id":2,"call":"release"}`)
		// The second call answers while the first is still running, and
		// replies carry their own ids whatever their order.
		got := map[string]string{}
		for range 2 {
			r := next(t, c)
			got[string(r.ID)] = string(r.Result)
		}
		if got["1"] != `"released"` || got["2"] != `"ok"` {
			t.Errorf("replies = %v", got)
		}
	})
}

func TestSubPubUnsub(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		a := dial(t, url+"/ws")
		b := dial(t, url+"/ws")

		r := request(t, a, `{"id":1,"sub":"chat"}`)
		var pos wsgate.Position
		if err := json.Unmarshal(r.Result, &pos); err != nil || pos.Seq != 0 || pos.Epoch == "" {
			t.Fatalf("sub result %s: %v", r.Result, err)
		}
		if r := request(t, b, `{"id":1,"pub":"chat","data":{"text":"hi"}}`); string(r.Result) != `{"seq":1,"epoch":"`+pos.Epoch+`"}` {
			t.Fatalf("pub result %s, want seq 1 in epoch %s", r.Result, pos.Epoch)
		}
		if p := next(t, a); p.Ch != "chat" || p.Seq != 1 || string(p.Data) != `{"text":"hi"}` {
			t.Fatalf("publication: %+v", p)
		}
		if _, err := srv.Publish(context.Background(), "chat", map[string]int{"n": 2}); err != nil {
			t.Fatal(err)
		}
		if p := next(t, a); p.Seq != 2 || string(p.Data) != `{"n":2}` {
			t.Fatalf("server publication: %+v", p)
		}
		// Subscribing again changes nothing and reports the position.
		if r := request(t, a, `{"id":2,"sub":"chat"}`); !strings.Contains(string(r.Result), `"seq":2`) {
			t.Fatalf("second sub: %+v", r)
		}
		if r := request(t, a, `{"id":3,"unsub":"chat"}`); string(r.Result) != `{}` {
			t.Fatalf("unsub: %+v", r)
		}
		srv.Publish(context.Background(), "chat", 3)
		// Nothing more arrives for chat: the next message is the reply.
		if r := request(t, a, `{"id":4,"unsub":"chat"}`); string(r.ID) != "4" {
			t.Fatalf("got %+v after unsub, want the reply to id 4", r)
		}
	})
}

func TestResume(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng})
		var last wsgate.Publication
		for i := 1; i <= 5; i++ {
			p, err := srv.Publish(context.Background(), "ticks", i)
			if err != nil {
				t.Fatal(err)
			}
			last = p
		}
		c := dial(t, url+"/ws")
		r := request(t, c, fmt.Sprintf(`{"id":1,"sub":"ticks","since":{"seq":2,"epoch":%q}}`, last.Epoch))
		if want := fmt.Sprintf(`{"seq":5,"epoch":%q,"recovered":true}`, last.Epoch); string(r.Result) != want {
			t.Fatalf("resume result %s, want %s", r.Result, want)
		}
		for seq := uint64(3); seq <= 5; seq++ {
			if p := next(t, c); p.Seq != seq || string(p.Data) != fmt.Sprint(seq) {
				t.Fatalf("missed publication: %+v, want seq %d", p, seq)
			}
		}
		srv.Publish(context.Background(), "ticks", 6)
		if p := next(t, c); p.Seq != 6 {
			t.Fatalf("live publication after resume: %+v", p)
		}

		// Another epoch cannot be recovered: the client is told, and gets
		// what is retained.
		d := dial(t, url+"/ws")
		r = request(t, d, `{"id":1,"sub":"ticks","since":{"seq":4,"epoch":"old"}}`)
		if !strings.Contains(string(r.Result), `"recovered":false`) {
			t.Fatalf("resume from another epoch: %s", r.Result)
		}
		for seq := uint64(1); seq <= 6; seq++ {
			if p := next(t, d); p.Seq != seq {
				t.Fatalf("retained publication: %+v, want seq %d", p, seq)
			}
		}
	})
}

func TestOversizeMessageCloses1009(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{Engine: eng, MaxMessageSize: 1000})
		for _, path := range []string{"/ws", "/echo"} {
			c := dial(t, url+path)
			send(t, c, strings.Repeat("a", 1001))
			if code := closeCode(t, c); code != websocket.CloseMessageTooBig {
				t.Errorf("%s: close code %d, want 1009", path, code)
			}
		}
	})
}

func TestCallsOverTheLimitAreRateLimited(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxCallsPerConn: 2})
		release := make(chan struct{})
		srv.Handle("hold", func(ctx context.Context, _ json.RawMessage) (any, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return "held", nil
		})
		c := dial(t, url+"/ws")
		send(t, c, `{"id":1,"call":"hold"}`)
		send(t, c, `{"id":2,"call":"hold"}`)
		if r := request(t, c, `{"id":3,"call":"hold"}`); r.Error == nil || r.Error.Code != "rate_limited" || string(r.ID) != "3" {
			t.Fatalf("third call: %+v, want rate_limited", r)
		}
		close(release)
		for range 2 {
			if r := next(t, c); string(r.Result) != `"held"` {
				t.Fatalf("held call: %+v", r)
			}
		}
		if r := request(t, c, `{"id":4,"call":"hold"}`); string(r.Result) != `"held"` {
			t.Fatalf("call after slots freed: %+v", r)
		}
	})
}

func TestMaxSubscriptionsPerConn(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxSubscriptionsPerConn: 3})
		c, other := dial(t, url+"/ws"), dial(t, url+"/ws")
		for i := range 3 {
			if r := request(t, c, fmt.Sprintf(`{"id":%d,"sub":"ch.%d"}`, i, i)); r.Error != nil {
				t.Fatalf("sub %d: %+v", i, r.Error)
			}
		}
		r := request(t, c, `{"id":9,"sub":"ch.9"}`)
		if r.Error == nil || r.Error.Code != "too_large" || !strings.Contains(r.Error.Message, "3 subscriptions") {
			t.Fatalf("sub past the cap: %+v", r)
		}
		if n := srv.Stats().Limits.Subscriptions; n != 1 {
			t.Fatalf("Stats counts %d subs past the cap, want 1", n)
		}
		if r := request(t, other, `{"id":1,"sub":"ch.9"}`); r.Error != nil {
			t.Fatalf("another connection's sub: %+v", r.Error)
		}
		request(t, c, `{"id":10,"unsub":"ch.0"}`)
		if r := request(t, c, `{"id":11,"sub":"ch.9"}`); r.Error != nil {
			t.Fatalf("sub after an unsub: %+v", r.Error)
		}
	})
}

// TestDeepMessageAnswered: a message nesting deeper than the envelope
// allows is answered with bad_request naming the limit, with its id, and
// the connection stays.
func TestDeepMessageAnswered(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{Engine: eng})
		c := dial(t, url+"/ws")
		for _, depth := range []int{600, 12_000} {
			args := strings.Repeat("[", depth) + strings.Repeat("]", depth)
			r := request(t, c, fmt.Sprintf(`{"id":%d,"call":"m","args":%s}`, depth, args))
			if string(r.ID) != fmt.Sprint(depth) || r.Error == nil || r.Error.Code != "bad_request" || !strings.Contains(r.Error.Message, "nested deeper than 512") {
				t.Fatalf("args %d deep answered %+v", depth, r)
			}
		}
		if r := request(t, c, `{"id":1,"sub":"ok"}`); r.Error != nil {
			t.Fatalf("connection unusable after deep messages: %+v", r.Error)
		}
	})
}

// TestMessageRate: a connection sending faster than MaxMessagesPerSecond
// gets rate_limited for the messages past its bucket, with their ids,
// while another connection is served as usual.
func TestMessageRate(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		srv, url := startServer(t, wsgate.Config{Engine: eng, MaxMessagesPerSecond: 20})
		srv.Handle("m", func(context.Context, json.RawMessage) (any, error) { return 1, nil })
		flood, calm := dial(t, url+"/ws"), dial(t, url+"/ws")
		const sent = 200
		for i := range sent {
			send(t, flood, fmt.Sprintf(`{"id":%d,"call":"m"}`, i))
		}
		limited := 0
		for range sent {
			r := next(t, flood)
			if r.Error != nil {
				if r.Error.Code != "rate_limited" || !strings.Contains(r.Error.Message, "20 messages a second") || r.ID == nil {
					t.Fatalf("flood answered %+v", r)
				}
				limited++
			}
		}
		// The bucket holds a second's worth (20) and refills at 20/s: 20
		// pass at once, a few more while the test runs.
		if limited < sent/2 || limited > sent-20 {
			t.Fatalf("%d of %d messages limited, want about %d", limited, sent, sent-20)
		}
		for i := range 10 {
			if r := request(t, calm, fmt.Sprintf(`{"id":%d,"call":"m"}`, i)); r.Error != nil {
				t.Fatalf("calm connection beside the flood: %+v", r.Error)
			}
		}
		if n := srv.Stats().Limits.MessageRate; n != uint64(limited) {
			t.Fatalf("Stats counts %d messages over the rate, want %d", n, limited)
		}
	})
}
