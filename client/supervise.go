package client

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/wsgate/wsgate/ws"
)

// errMoving is why a connection is closed to move to a nearer node.
var errMoving = errors.New("client: moving to a nearer node")

// moveGrace is how long a connection left for a nearer node may take to
// answer the requests that wait on it.
const moveGrace = 10 * time.Second

// run is the supervisor goroutine. It uses one connection at a time: it
// attaches cn, watches it, and when it ends reconnects, until Close. A
// connection left for a nearer node is retired on a goroutine of its
// own, which run waits for before it returns.
func (c *Client) run(cn *conn) {
	var retiring sync.WaitGroup
	defer close(c.done)
	defer retiring.Wait()
	attempt := 0 // failed attempts since the last stable connection
	for first := true; cn != nil; first = false {
		if !first { // Dial attached the first
			c.attach(cn)
		}
		start := time.Now()
		next := c.watch(cn)
		if next != nil {
			// A clearly nearer node is connected already: new requests
			// go there, and cn answers those it has before it closes.
			old := cn
			c.detach(old)
			retiring.Go(func() { old.retire(moveGrace, c.ctx.Done()) })
			cn, attempt = next, 0
			continue
		}
		cn.stop(ErrClosed, closeFrame(ws.StatusNormalClosure, "")) // no-op when it ended by itself
		cn.wg.Wait()
		c.detach(cn)
		if c.ctx.Err() != nil {
			return
		}
		lost, err := cn.node, cn.cause()
		c.disp.push(func() { c.emit(StateEvent{State: StateDisconnected, Node: lost, Err: err}) })
		if stable(time.Since(start), c.opts.BackoffMax) {
			attempt = 0
		}
		at := slices.Index(c.plan, lost) + 1 // the next nearest; 0 when it left the plan
		cn = c.reconnect(at, restarting(err), &attempt)
	}
}

// restarting reports whether err is the node's Close with 1012 (service
// restart): a draining node sends it, and the client should move to
// another node at once.
func restarting(err error) bool {
	var ce *ws.CloseError
	return errors.As(err, &ce) && ce.Code == ws.StatusServiceRestart
}

// reconnect tries the nodes of the plan in turn from index at (wrapping
// around), in rounds: it waits a backoff before each round but the first
// when immediate, and tries a round's other nodes each at once after the
// one before failed, so a dead node in the plan costs no wait. After a
// round in which every node failed it surveys the nodes again. It
// returns nil when the Client is closed.
func (c *Client) reconnect(at int, immediate bool, attempt *int) *conn {
	tried := 0
	var failed error // why the previous attempt failed
	for n := 1; ; n++ {
		var delay time.Duration
		if newRound := tried == 0 || tried >= len(c.plan); newRound && !immediate {
			delay = backoff(*attempt, c.opts.BackoffMin, c.opts.BackoffMax, c.rnd.Float64())
			*attempt++
		}
		immediate = false
		if tried >= len(c.plan) {
			if ranked := c.survey(c.ctx); len(ranked) > 0 {
				c.plan = order(ranked, choose(ranked, "", c.opts.margins()))
			}
			at, tried = 0, 0
		}
		node := c.plan[(at+tried)%len(c.plan)]
		tried++
		prev := failed
		c.disp.push(func() { c.emit(StateEvent{State: StateReconnecting, Node: node, Attempt: n, Delay: delay, Err: prev}) })
		if !c.sleep(delay) {
			return nil
		}
		cn, err := c.dial(node)
		if err == nil {
			return cn
		}
		failed = err
		if c.ctx.Err() != nil {
			return nil
		}
	}
}

// sleep waits d; false means the Client was closed meanwhile.
func (c *Client) sleep(d time.Duration) bool {
	if d <= 0 {
		return c.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// watch keeps cn alive until it ends, the Client closes, or a re-probe
// finds a clearly nearer node and connects to it: then it returns that
// new connection.
func (c *Client) watch(cn *conn) *conn {
	ping := time.NewTicker(c.opts.PingInterval / 2)
	defer ping.Stop()
	var reprobe <-chan time.Time // nil: never
	if c.opts.ReprobeInterval > 0 {
		reprobe = time.After(c.reprobeDelay())
	}
	var surveyed chan []probeResult // a survey in flight
	ctx, cancel := context.WithCancel(c.ctx)
	defer func() {
		cancel()
		if surveyed != nil {
			<-surveyed
		}
	}()
	for {
		select {
		case <-cn.lost:
			return nil
		case <-c.ctx.Done():
			return nil
		case <-ping.C:
			if cn.idle() >= c.opts.PingInterval {
				_ = cn.send(controlFrame(ws.OpPing, nil))
			}
		case <-reprobe:
			ch := make(chan []probeResult, 1)
			surveyed = ch
			go func() { ch <- c.survey(ctx) }()
		case ranked := <-surveyed:
			surveyed = nil
			if c.opts.ReprobeInterval > 0 {
				reprobe = time.After(c.reprobeDelay())
			}
			if len(ranked) == 0 {
				continue
			}
			best := choose(ranked, cn.node, c.opts.margins())
			c.plan = order(ranked, best)
			if best == cn.node {
				continue
			}
			if next, err := c.dial(best); err == nil {
				return next
			}
			c.plan = order(ranked, cn.node)
		}
	}
}

// reprobeDelay returns ReprobeInterval spread by up to 10 % either way,
// so that clients started together do not probe the nodes together.
func (c *Client) reprobeDelay() time.Duration {
	d := c.opts.ReprobeInterval
	return d - d/10 + time.Duration(c.rnd.Float64()*float64(d/5))
}

// attach makes cn the connection in use: waiters go ahead, every
// subscription is restored on it, and the node is remembered.
func (c *Client) attach(cn *conn) {
	c.mu.Lock()
	c.conn = cn
	close(c.ready)
	node := cn.node
	c.disp.push(func() { c.emit(StateEvent{State: StateConnected, Node: node}) })
	for _, s := range c.subs {
		c.subscribeLocked(cn, s)
	}
	c.mu.Unlock()
	if c.opts.StateFile != "" && cn.node != c.saved {
		if saveNode(c.opts.StateFile, cn.node) == nil {
			c.saved = cn.node
		}
	}
}

// detach ends the use of cn: requests wait for the next connection.
func (c *Client) detach(cn *conn) {
	c.mu.Lock()
	if c.conn == cn {
		c.conn = nil
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
}
