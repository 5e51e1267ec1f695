package wsflate

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times and reports CPU time per operation next to wall
// time: on a shared machine it is the steadier figure.
func loop(b *testing.B, f func()) {
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkDeflate4KJSON(b *testing.B) {
	msg := jsonish(4096)
	b.SetBytes(int64(len(msg)))
	for _, tt := range []struct {
		name  string
		level Level
		w     Window
	}{
		{"default", 0, WindowFull},
		{"level6", 6, WindowFull},
		{"huffman", LevelHuffmanOnly, WindowFull},
		{"small-window", 0, WindowSmall},
	} {
		b.Run(tt.name, func(b *testing.B) {
			c, err := New(Options{Level: tt.level})
			if err != nil {
				b.Fatal(err)
			}
			var out []byte
			var ok bool
			loop(b, func() { out, ok = c.Deflate(out[:0], msg, tt.w) })
			if !ok {
				b.Fatal("not compressed")
			}
			b.ReportMetric(float64(len(out))/float64(len(msg)), "ratio")
		})
	}
	// Context takeover: one connection's Stream compresses a stream of
	// similar messages (a counter up front), each referring back to the
	// ones before it.
	b.Run("context-takeover", func(b *testing.B) {
		c, err := New(Options{Mode: ModeContextTakeover})
		if err != nil {
			b.Fatal(err)
		}
		_, p := c.Negotiate([]string{Name})
		s := c.NewStream(p)
		defer s.Close()
		m := bytes.Clone(msg)
		var out []byte
		var ok bool
		i := 0
		loop(b, func() {
			i++
			m[2], m[3] = byte('0'+i%10), byte('0'+i/10%10)
			out, ok = s.Deflate(out[:0], m)
		})
		if !ok {
			b.Fatal("not compressed")
		}
		b.ReportMetric(float64(len(out))/float64(len(msg)), "ratio")
	})
	// Peers: the same work with one reused writer and no pool.
	b.Run("peer-klauspost-writer", func(b *testing.B) {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, 1)
		loop(b, func() {
			buf.Reset()
			fw.Reset(&buf)
			_, _ = fw.Write(msg)
			_ = fw.Flush()
		})
	})
	b.Run("peer-stdlib-writer", func(b *testing.B) {
		var buf bytes.Buffer
		fw, _ := stdflate.NewWriter(&buf, 1)
		loop(b, func() {
			buf.Reset()
			fw.Reset(&buf)
			_, _ = fw.Write(msg)
			_ = fw.Flush()
		})
	})
}

func BenchmarkInflate4KJSON(b *testing.B) {
	msg := jsonish(4096)
	var c Codec
	z, ok := c.Deflate(nil, msg, WindowFull)
	if !ok {
		b.Fatal("not compressed")
	}
	b.SetBytes(int64(len(msg)))
	b.Run("codec", func(b *testing.B) {
		dst := make([]byte, 0, len(msg))
		loop(b, func() {
			var err error
			if dst, err = c.Inflate(dst[:0], z, 1<<20); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("codec-nil-dst", func(b *testing.B) {
		loop(b, func() {
			if _, err := c.Inflate(nil, z, 1<<20); err != nil {
				b.Fatal(err)
			}
		})
	})
	withTail := append(bytes.Clone(z), tail...)
	b.Run("peer-klauspost-reader", func(b *testing.B) {
		var src bytes.Reader
		fr := flate.NewReader(&src)
		var out bytes.Buffer
		loop(b, func() {
			src.Reset(withTail)
			_ = fr.(flate.Resetter).Reset(&src, nil)
			out.Reset()
			if _, err := io.Copy(&out, fr); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("peer-stdlib-reader", func(b *testing.B) {
		var src bytes.Reader
		fr := stdflate.NewReader(&src)
		var out bytes.Buffer
		loop(b, func() {
			src.Reset(withTail)
			_ = fr.(stdflate.Resetter).Reset(&src, nil)
			out.Reset()
			if _, err := io.Copy(&out, fr); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkIdleConnMemory measures the heap a connection keeps between
// messages after it sent and received one compressed 4 KB message: only
// its Params with no context takeover, its Stream's compressor with it.
// The figure is the bytes/conn metric; the loop itself is not timed work.
func BenchmarkIdleConnMemory(b *testing.B) {
	msg := jsonish(4096)
	for _, tt := range []struct {
		name  string
		mode  Mode
		conns int
	}{
		{"no-context-takeover", ModeNoContextTakeover, 10000},
		{"context-takeover", ModeContextTakeover, 50},
	} {
		b.Run(tt.name, func(b *testing.B) {
			type conn struct {
				params Params
				stream *Stream
			}
			var perConn float64
			for b.Loop() {
				c, err := New(Options{Mode: tt.mode, MaxContexts: tt.conns})
				if err != nil {
					b.Fatal(err)
				}
				offers := []string{Name}
				before := heapInUse()
				conns := make([]conn, tt.conns)
				for i := range conns {
					_, p := c.Negotiate(offers)
					conns[i] = conn{params: p, stream: c.NewStream(p)}
					var z []byte
					if conns[i].stream != nil {
						z, _ = conns[i].stream.Deflate(nil, msg)
					} else {
						z, _ = c.Deflate(nil, msg, p.ServerWindow())
					}
					if _, err := c.Inflate(nil, z, 1<<20); err != nil {
						b.Fatal(err)
					}
				}
				after := heapInUse()
				// conns itself: 16 bytes each (Params and a pointer).
				perConn = float64(int64(after)-int64(before))/float64(tt.conns) - 16
				for _, cn := range conns {
					if cn.stream != nil {
						cn.stream.Close()
					}
				}
				runtime.KeepAlive(conns)
			}
			b.ReportMetric(max(perConn, 0), "bytes/conn")
		})
	}
}

// heapInUse returns live heap bytes after two collections (the second one
// empties sync.Pools, whose victims survive the first).
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
