//go:build !linux

package engine

import (
	"bufio"
	"net"

	"github.com/wsgate/wsgate/ws"
	"github.com/wsgate/wsgate/ws/wsflate"
)

// Off Linux there are no epoll loops; New never resolves to Epoll, so
// these are never reached.

type taskKind uint8

const (
	taskSettle taskKind = iota
	taskCloseAll
	taskAbortAll
	taskExit
)

type task struct {
	kind   taskKind
	c      *Conn
	code   ws.StatusCode
	reason string
}

type loop struct{ e *Engine }

func (l *loop) post(task) {}

func (l *loop) flushLater(*Conn) {}

func (e *Engine) serveEpoll(tc *net.TCPConn, br *bufio.Reader, h Handler, pmd wsflate.Params) error {
	return e.serveGoroutine(tc, br, h, pmd)
}

func (c *Conn) sendNowLocked([][]byte, frameKind, bool) { panic("engine: epoll write off Linux") }

func (c *Conn) shutdownWriteLocked() {}

func (c *Conn) flushBatchLocked(iov [][]byte, _ int64) [][]byte { return iov }

func (c *Conn) batchesLocked(int) bool { return false }

func (c *Conn) appendBatchLocked(...[]byte) {}

func (l *loop) loopWrites() uint64 { return 0 }
