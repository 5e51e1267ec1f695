package wsgate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wsgate/wsgate"
)

// postBatch posts body to /api/publish/batch with the key k3y and
// returns the status and the decoded answer.
func postBatch(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http"+strings.TrimPrefix(url, "ws")+"/api/publish/batch", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer k3y")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAPIPublishBatch: a batch's publications reach subscribers, each
// channel's in order, with one result per publication in order; a batch
// with one bad entry publishes nothing.
func TestAPIPublishBatch(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, eng wsgate.EngineKind) {
		_, url := startServer(t, wsgate.Config{Engine: eng, APIKey: "k3y", MaxPublishSize: 64})
		a, b := dial(t, url+"/ws"), dial(t, url+"/ws")
		request(t, a, `{"id":1,"sub":"prices.a"}`)
		request(t, b, `{"id":1,"sub":"prices.b"}`)

		var entries []string
		for i := range 40 {
			ch := []string{"prices.a", "prices.b"}[i%2]
			entries = append(entries, fmt.Sprintf(`{"channel":%q,"data":%d}`, ch, i))
		}
		status, body := postBatch(t, url, `{"publications":[`+strings.Join(entries, ",")+`]}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var got struct {
			Results []struct {
				Seq   uint64
				Epoch string
				Error *struct{ Code, Message string }
			}
		}
		if err := json.Unmarshal(body, &got); err != nil || len(got.Results) != 40 {
			t.Fatalf("answer %s: want 40 results", body)
		}
		for i, r := range got.Results {
			if want := uint64(i/2 + 1); r.Error != nil || r.Seq != want {
				t.Errorf("result %d: %+v, want seq %d", i, r, want)
			}
		}
		for i := range 20 {
			if p := next(t, a); p.Ch != "prices.a" || string(p.Data) != fmt.Sprint(2*i) {
				t.Fatalf("a's publication %d: %+v", i, p)
			}
			if p := next(t, b); p.Ch != "prices.b" || string(p.Data) != fmt.Sprint(2*i+1) {
				t.Fatalf("b's publication %d: %+v", i, p)
			}
		}

		for _, tt := range []struct {
			body   string
			status int
			says   string
		}{
			{`{"publications":[]}`, http.StatusBadRequest, "0 publications"},
			{`{}`, http.StatusBadRequest, "0 publications"},
			{`not json`, http.StatusBadRequest, "JSON"},
			{`{"publications":[{"channel":"prices.a","data":1},{"channel":"/bad","data":2}]}`, http.StatusBadRequest, "publications[1]: invalid channel"},
			{`{"publications":[{"channel":"prices.a"}]}`, http.StatusBadRequest, "publications[0]: data is required"},
			{`{"publications":[{"channel":"prices.a","data":"` + strings.Repeat("x", 100) + `"}]}`, http.StatusRequestEntityTooLarge, "publications[0]: data too large"},
			{`{"publications":[` + strings.Repeat(`{"channel":"x","data":1},`, wsgate.MaxBatchPublications) + `{"channel":"x","data":1}]}`, http.StatusRequestEntityTooLarge, "1001 publications"},
		} {
			status, body := postBatch(t, url, tt.body)
			if status != tt.status || !strings.Contains(string(body), tt.says) {
				t.Errorf("body %.60s: %d %s, want %d saying %q", tt.body, status, body, tt.status, tt.says)
			}
		}
		// Nothing of the refused batches was published: the next
		// publication on prices.a is the 21st.
		status, body = postBatch(t, url, `{"publications":[{"channel":"prices.a","data":"last"}]}`)
		if status != http.StatusOK || !strings.Contains(string(body), `"seq":21`) {
			t.Fatalf("after the refused batches: %d %s, want seq 21", status, body)
		}
		if p := next(t, a); string(p.Data) != `"last"` {
			t.Fatalf("a got %+v, want the last publication only", p)
		}
	})
}
