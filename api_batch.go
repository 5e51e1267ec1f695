package wsgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/wsgate/wsgate/internal/envelope"
)

// Bounds of POST /api/publish/batch.
const (
	// MaxBatchPublications is the most publications one batch holds.
	MaxBatchPublications = 1000
	// maxBatchBody bounds a batch's body, in bytes.
	maxBatchBody = 8 << 20
	// batchParallel is how many of a batch's channels are published on
	// at once.
	batchParallel = 64
)

// batchEntry is one publication of a batch.
type batchEntry struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// batchResult is one publication's outcome: its position, or why it was
// not made.
type batchResult struct {
	Seq   uint64 `json:"seq,omitempty"`
	Epoch string `json:"epoch,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// apiPublishBatch serves POST /api/publish/batch:
// {"publications":[{"channel":"…","data":…},…]}, answered with
// {"results":[{"seq":N,"epoch":"…"} or {"error":{…}},…]}, one result per
// publication, in order. Every entry is checked before any is published:
// one that is not valid refuses the whole batch (400 or 413, the message
// naming its index). Publications on one channel are made in the order
// given; different channels are published on concurrently, so a backend
// publishing many at once pays one request instead of one each.
func (s *Server) apiPublishBatch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Publications []batchEntry `json:"publications"`
	}
	if !s.apiRequestUpTo(w, r, &req, maxBatchBody) {
		return
	}
	if n := len(req.Publications); n == 0 || n > MaxBatchPublications {
		status := http.StatusBadRequest
		if n > MaxBatchPublications {
			status = http.StatusRequestEntityTooLarge
		}
		apiError(w, status, CodeBadRequest, fmt.Sprintf("%d publications: want 1 to %d", n, MaxBatchPublications))
		return
	}
	for i, p := range req.Publications {
		if status, code, msg := s.checkAPIPublication(p.Channel, p.Data); status != 0 {
			apiError(w, status, code, fmt.Sprintf("publications[%d]: %s", i, msg))
			return
		}
	}
	apiJSON(w, struct {
		Results []batchResult `json:"results"`
	}{s.publishBatch(r.Context(), req.Publications)})
}

// checkAPIPublication checks one publication of /api: its HTTP status,
// code and message when it is refused, status 0 when it may be made.
func (s *Server) checkAPIPublication(channel string, data json.RawMessage) (int, ErrorCode, string) {
	switch {
	case len(data) == 0:
		return http.StatusBadRequest, CodeBadRequest, "data is required"
	case len(data) > s.cfg.MaxPublishSize:
		return http.StatusRequestEntityTooLarge, CodeTooLarge, "data too large"
	case !envelope.ValidName(channel):
		return http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("invalid channel name %q", channel)
	}
	return 0, "", ""
}

// publishBatch publishes ps, each channel's in order and the channels
// batchParallel at a time, and returns their results in order.
func (s *Server) publishBatch(ctx context.Context, ps []batchEntry) []batchResult {
	results := make([]batchResult, len(ps))
	byChannel := make(map[string][]int)
	var order []string // channels in order of first appearance
	for i, p := range ps {
		if _, seen := byChannel[p.Channel]; !seen {
			order = append(order, p.Channel)
		}
		byChannel[p.Channel] = append(byChannel[p.Channel], i)
	}
	slots := make(chan struct{}, batchParallel)
	var wg sync.WaitGroup
	for _, ch := range order {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			for k, i := range byChannel[ch] {
				// Checked already, and valid JSON the request decoded
				// into a slice of its own.
				p, err := s.publish(ctx, ch, ps[i].Data)
				if err != nil {
					// The channel's later publications are not made: they
					// would come out of order after a failed one.
					results[i].Error = apiPublishError(err)
					for _, j := range byChannel[ch][k+1:] {
						results[j].Error = &Error{Code: CodeUnavailable, Message: "not made: a publication before it on its channel failed"}
					}
					return
				}
				results[i] = batchResult{Seq: p.Seq, Epoch: p.Epoch}
			}
		})
	}
	wg.Wait()
	return results
}

// apiPublishError is the wire error of a failed publish.
func apiPublishError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeUnavailable, Message: err.Error()}
}
