package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/wsgate/wsgate/client"
)

// pubOutcome is what became of one publication.
type pubOutcome uint8

const (
	pubAcked   pubOutcome = iota + 1 // the server answered with its seq
	pubUnknown                       // the answer was lost: made or not
	pubRefused                       // the server refused it, or it was never sent
)

// failoverPublisher makes the publications of a failover run. publish
// may be called from several goroutines.
type failoverPublisher interface {
	publish(ctx context.Context, n int64) (pubOutcome, error)
	describe() string // for the report: how publications are made
	close()
}

// newPublisher returns a Go client of its own (default options, the
// same seeds), or with --api-key a publisher on POST /api/publish.
func (f *failoverRun) newPublisher(ctx context.Context) (failoverPublisher, error) {
	o := f.r.o
	if o.APIKey != "" {
		before := f.perNode(func(s *failoverSub) string { return s.node })
		return newAPIPublisher(o.URLs, busiest(before), o.APIKey, o.Channel), nil
	}
	c, err := client.Dial(ctx, o.URLs, client.Options{})
	if err != nil {
		if e := explainDialError(err, o.Conns); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("bench: publisher: %w", err)
	}
	return &clientPublisher{c: c, channel: o.Channel}, nil
}

// pace publishes {"n":0}, {"n":1}, … at --rate until stop ends, up to
// failoverInflight at a time, and records each outcome. A publication
// of unknown outcome is not made again, so that no subscriber can get a
// number twice from the publisher.
func (f *failoverRun) pace(ctx, stop context.Context, pub failoverPublisher) {
	start := time.Now()
	rate := f.r.o.Rate
	sem := make(chan struct{}, failoverInflight)
	var wg sync.WaitGroup
	defer wg.Wait()
	var n int64
	for stop.Err() == nil {
		due := int64(time.Since(start).Seconds() * rate)
		for ; n < due && stop.Err() == nil; n++ {
			select {
			case sem <- struct{}{}:
			case <-stop.Done():
				return
			}
			k := n // n moves on
			f.started.Store(n + 1)
			wg.Go(func() {
				defer func() { <-sem }()
				pctx, cancel := context.WithTimeout(ctx, failoverPublishTimeout)
				out, err := pub.publish(pctx, k)
				cancel()
				f.record(k, out, err, ctx.Err() != nil)
			})
		}
		next := start.Add(time.Duration(float64(n+1) / rate * float64(time.Second)))
		sleepCtx(stop, time.Until(next))
	}
}

// record counts the outcome of publication n; stopping says the run's
// context ended, so the error is not the server's.
func (f *failoverRun) record(n int64, out pubOutcome, err error, stopping bool) {
	f.pubMu.Lock()
	switch out {
	case pubAcked:
		f.acked.set(n)
		f.ackedN++
	case pubUnknown:
		f.unsure.set(n)
		f.unknown++
	default:
		f.failed++
	}
	f.pubMu.Unlock()
	if err != nil && !stopping && out != pubUnknown && !(out == pubRefused && f.refusalsReported) {
		f.r.errs.Add("publish: "+shortErr(err), 1)
	}
}

// data is the publication's data: {"n":N}.
func publicationData(n int64) json.RawMessage {
	return append(strconv.AppendInt([]byte(`{"n":`), n, 10), '}')
}

// clientPublisher publishes with a Go client: it moves, as the
// subscribers do, when its node dies or drains.
type clientPublisher struct {
	c       *client.Client
	channel string
}

func (p *clientPublisher) publish(ctx context.Context, n int64) (pubOutcome, error) {
	_, err := p.c.Publish(ctx, p.channel, publicationData(n))
	switch {
	case err == nil:
		return pubAcked, nil
	case errors.Is(err, client.ErrConnectionLost), errors.Is(err, context.DeadlineExceeded):
		return pubUnknown, err
	}
	return pubRefused, err
}

func (p *clientPublisher) describe() string { return "a Go client" }
func (p *clientPublisher) close()           { p.c.Close() }

// apiPublisher publishes with POST /api/publish on one node, at first
// the first seed that is not avoid (the node most subscribers chose),
// and moves to the next seed when that node fails or refuses.
type apiPublisher struct {
	http    *http.Client
	key     string
	channel string
	nodes   []string

	mu    sync.Mutex
	at    int      // index in nodes of the node in use
	moved []string // nodes left, in order
}

func newAPIPublisher(seeds []string, avoid, key, channel string) *apiPublisher {
	p := &apiPublisher{
		http:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: failoverInflight}},
		key:     key,
		channel: channel,
		nodes:   seeds,
	}
	for i, n := range seeds {
		if n != avoid {
			p.at = i
			break
		}
	}
	return p
}

func (p *apiPublisher) node() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nodes[p.at]
}

// leave moves to the next node unless another publication did already.
func (p *apiPublisher) leave(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nodes[p.at] == node && len(p.nodes) > 1 {
		p.at = (p.at + 1) % len(p.nodes)
		p.moved = append(p.moved, node)
	}
}

func (p *apiPublisher) publish(ctx context.Context, n int64) (pubOutcome, error) {
	node := p.node()
	body := append([]byte(`{"channel":`), strconv.Quote(p.channel)...)
	body = append(body, `,"data":`...)
	body = append(append(body, publicationData(n)...), '}')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, node+"/api/publish", bytes.NewReader(body))
	if err != nil {
		return pubRefused, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.key)
	resp, err := p.http.Do(req)
	if err != nil {
		p.leave(node)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return pubRefused, err // never sent
		}
		return pubUnknown, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		return pubAcked, nil
	case resp.StatusCode >= 500:
		p.leave(node)
	}
	return pubRefused, fmt.Errorf("POST /api/publish: %s", resp.Status)
}

func (p *apiPublisher) describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := "POST /api/publish"
	for _, n := range p.moved {
		s += " on " + n + ", then"
	}
	return s + " on " + p.nodes[p.at]
}

func (p *apiPublisher) close() { p.http.CloseIdleConnections() }
