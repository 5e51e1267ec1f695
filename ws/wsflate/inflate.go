package wsflate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/flate"
)

// tail is what Inflate appends to a message: the trailer RFC 7692 §7.2.2
// restores, then an empty final stored block so the stream ends cleanly
// (with io.EOF) instead of running out of input.
const tail = trailer + "\x01\x00\x00\xff\xff"

// inflateChunk is the first output allocation per message relative to
// the compressed size, and the smallest growth step in bytes.
const (
	inflateRatio    = 4
	minInflateChunk = 512
)

// inflater is a pooled decompressor with its input plumbing.
type inflater struct {
	fr  io.ReadCloser // from flate.NewReader; also a flate.Resetter
	br  *bufio.Reader // gives the decompressor its fast byte-reading path
	src source
}

// source reads a message's payload followed by tail, without copying the
// payload into a new buffer.
type source struct {
	b []byte
	t int // bytes of tail read so far
}

func (s *source) Read(p []byte) (int, error) {
	if len(s.b) > 0 {
		n := copy(p, s.b)
		s.b = s.b[n:]
		return n, nil
	}
	if s.t < len(tail) {
		n := copy(p, tail[s.t:])
		s.t += n
		return n, nil
	}
	return 0, io.EOF
}

func (c *Codec) getInflater(compressed []byte) *inflater {
	f, ok := c.readers.Get().(*inflater)
	if !ok {
		f = new(inflater)
		f.br = bufio.NewReaderSize(&f.src, 4096)
		f.fr = flate.NewReader(f.br)
	}
	f.src = source{b: compressed}
	f.br.Reset(&f.src)
	// Reset with a nil dictionary: nothing of the previous message is kept.
	_ = f.fr.(flate.Resetter).Reset(f.br, nil)
	return f
}

func (c *Codec) putInflater(f *inflater) {
	f.src = source{}
	f.br.Reset(&f.src)
	c.readers.Put(f)
}

// Inflate appends to dst the message whose permessage-deflate payload is
// compressed (RFC 7692 §7.2.2: the trailer 0x00 0x00 0xff 0xff appended,
// then inflated), using a pooled decompressor with an empty window: it
// suits a connection whose peer compresses without context takeover,
// which every response of Negotiate requires. An empty payload inflates
// to an empty message. Data after a final DEFLATE block is ignored.
//
// limit is the largest message in bytes (use the connection's maximum
// message size; a negative limit acts as 0). It is checked while
// inflating: dst never grows by more than limit bytes, so a small
// payload that would inflate to gigabytes costs at most limit bytes of
// output and the decompression work behind them before Inflate returns
// ErrTooLarge (close with 1009). Invalid DEFLATE data returns an error
// wrapping ErrCorrupt (close with 1007). On error dst is returned with
// its original length (its spare capacity may have been written).
//
// compressed is only read, and not retained.
func (c *Codec) Inflate(dst, compressed []byte, limit int64) ([]byte, error) {
	if len(compressed) == 0 {
		return dst, nil
	}
	limit = max(limit, 0)
	c.inflations.Add(1)
	f := c.getInflater(compressed)
	defer c.putInflater(f)
	start := len(dst)
	next := max(int64(len(compressed))*inflateRatio, minInflateChunk)
	for {
		produced := int64(len(dst) - start)
		room := dst[len(dst):cap(dst)]
		if int64(len(room)) > limit-produced {
			room = room[:limit-produced]
		}
		if len(room) == 0 {
			if produced >= limit {
				// Full: one more byte means the message is too large.
				var probe [1]byte
				n, err := f.fr.Read(probe[:])
				switch {
				case n > 0:
					return dst[:start], ErrTooLarge
				case err == io.EOF:
					return dst, nil
				case err != nil:
					return dst[:start], corrupt(err)
				}
				continue
			}
			dst = slices.Grow(dst, int(min(next, limit-produced)))
			next = max(next, int64(cap(dst)-start))
			continue
		}
		n, err := f.fr.Read(room)
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], corrupt(err)
		}
	}
}

// corrupt wraps a decompressor error in ErrCorrupt.
func corrupt(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated stream", ErrCorrupt)
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, err.Error())
}
