package natsbroker

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsgate/wsgate"
)

// BenchmarkAPIPublishBatch measures publications a backend makes through
// POST /api/publish/batch of a wsgate Server on this Broker, into the
// embedded NATS's stream (file storage, history on), 100,000 channels
// published on once before, 200-byte data: 8 HTTP clients each post
// batches of 100 publications on distinct channels, one batch at a time.
// One op is one publication. Run beside BenchmarkRawJetStream:
//
//	go test -run '^$' -bench 'APIPublishBatch|RawJetStream/subjects=100000' -benchtime 40000x ./natsbroker
func BenchmarkAPIPublishBatch(b *testing.B) {
	const posters, batch, channels = 8, 100, 100_000
	ns := startNATS(b, b.TempDir(), -1)
	n := startNode(b, ns.ClientURL(), Options{})
	srv, err := wsgate.New(wsgate.Config{Broker: n.b, APIKey: "k3y", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	names := make([]string, channels)
	for i := range names {
		names[i] = "bench.batch." + strconv.Itoa(i)
	}
	publishAllOn(b, n.b, names)
	data := `{"symbol":"ACME","price":101.25,"note":"` + strings.Repeat("x", 200-len(`{"symbol":"ACME","price":101.25,"note":""}`)) + `"}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: posters}}

	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	var next atomic.Int64
	var wg sync.WaitGroup
	for range posters {
		wg.Go(func() {
			var body bytes.Buffer
			for {
				first := next.Add(batch) - batch
				if first >= int64(b.N) {
					return
				}
				body.Reset()
				body.WriteString(`{"publications":[`)
				for i := first; i < min(first+batch, int64(b.N)); i++ {
					if i > first {
						body.WriteByte(',')
					}
					body.WriteString(`{"channel":"` + names[i%channels] + `","data":` + data + `}`)
				}
				body.WriteString(`]}`)
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/publish/batch", &body)
				req.Header.Set("Authorization", "Bearer k3y")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || bytes.Contains(answer, []byte(`"error"`)) {
					b.Errorf("batch answered %d %.200s", resp.StatusCode, answer)
					return
				}
			}
		})
	}
	wg.Wait()
}
