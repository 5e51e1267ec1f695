package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// newPublisher returns how fanout publishes: POST /api/publish when
// --api-key is set, else a pub on a connection of its own to /ws. close
// releases what it holds and waits for its goroutines.
func (r *runner) newPublisher(ctx context.Context, f *fanoutLoad) (publish publishFunc, close func(), err error) {
	if r.o.APIKey != "" {
		return r.apiPublisher(f)
	}
	return r.wsPublisher(ctx, f)
}

// apiURL turns the /ws URL into its server's /api/publish URL.
func apiURL(wsURL string) (string, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return "", fmt.Errorf("bench: --url: %w", err)
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path, u.RawQuery = "/api/publish", ""
	return u.String(), nil
}

// apiPublisher publishes with POST /api/publish, one request at a time
// on a kept-alive connection.
func (r *runner) apiPublisher(f *fanoutLoad) (publishFunc, func(), error) {
	endpoint, err := apiURL(r.o.URLs[0])
	if err != nil {
		return nil, nil, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	prefix := append([]byte(`{"channel":`), strconv.Quote(r.o.Channel)...)
	prefix = append(prefix, `,"data":`...)
	var body []byte
	publish := func(ctx context.Context, n uint64) error {
		body = append(body[:0], prefix...)
		body = f.data(body, n, time.Now())
		body = append(body, '}')
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.o.APIKey)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		reply, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			f.pubAcks.Add("ok", 1)
			return nil
		}
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if json.Unmarshal(reply, &e) != nil || e.Error.Code == "" {
			e.Error.Code = "http " + strconv.Itoa(resp.StatusCode)
		}
		f.pubAcks.Add(e.Error.Code, 1)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("bench: POST %s: %s", endpoint, resp.Status)
		}
		return nil
	}
	return publish, tr.CloseIdleConnections, nil
}

// wsPublisher publishes with {"id":n,"pub":CH,"data":…} on its own
// connection; a reader goroutine counts the replies by code.
func (r *runner) wsPublisher(ctx context.Context, f *fanoutLoad) (publishFunc, func(), error) {
	c, err := dialConn(ctx, r.t.first(), r.o.Conns, 16<<10, r.o.DialTimeout, []string{subprotocolV1})
	if err != nil {
		if e := explainDialError(err, r.o.Conns); e != nil {
			return nil, nil, e
		}
		return nil, nil, fmt.Errorf("bench: publisher: %w", err)
	}
	// The reader owns c; the writer has its own output buffer and mask
	// source on the same socket (net.Conn writes do not interleave).
	w := &conn{id: c.id, nc: c.nc, rng: c.rng}
	c.rng = newMaskSource()
	readCtx, stopRead := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		release := c.stopOn(readCtx)
		defer release()
		for {
			err := c.read(func(ev ws.Event) {
				var rep callReply
				if json.Unmarshal(ev.Payload, &rep) != nil || rep.Ch != "" {
					return
				}
				if rep.Error != nil {
					f.pubAcks.Add(rep.Error.Code, 1)
				} else {
					f.pubAcks.Add("ok", 1)
				}
			})
			if err == nil {
				err = c.flush() // pongs
			}
			if err != nil {
				if readCtx.Err() == nil {
					r.errs.Add("publisher: "+shortErr(err), 1)
				}
				return
			}
		}
	})
	var msg []byte
	prefix := append([]byte(`,"pub":`), strconv.Quote(r.o.Channel)...)
	prefix = append(prefix, `,"data":`...)
	publish := func(_ context.Context, n uint64) error {
		msg = append(msg[:0], `{"id":`...)
		msg = strconv.AppendUint(msg, n+1, 10)
		msg = append(msg, prefix...)
		msg = f.data(msg, n, time.Now())
		msg = append(msg, '}')
		w.queue(ws.OpText, msg)
		return w.flush()
	}
	closeFn := func() {
		// Let the last acks arrive, then close.
		time.Sleep(100 * time.Millisecond)
		stopRead()
		wg.Wait()
		c.nc.Close()
	}
	return publish, closeFn, nil
}
