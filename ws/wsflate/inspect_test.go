package wsflate

import (
	"errors"
	"fmt"
)

// inspect is a small, slow DEFLATE decoder (RFC 1951) written for the
// tests: a third implementation besides klauspost's and the standard
// library's, which also reports the longest back-reference distance and
// the block types, so tests can check the window a stream needs. It
// decodes stream (a whole message with the RFC 7692 trailer restored)
// until a final block or the end of input at a block boundary.
func inspect(stream []byte) (out []byte, st streamStats, err error) {
	br := bitReader{b: stream}
	for {
		if br.atEnd() {
			return out, st, nil
		}
		final := br.bits(1) == 1
		typ := br.bits(2)
		switch typ {
		case 0:
			st.stored++
			br.align()
			n := br.bits(16)
			if br.bits(16) != ^n&0xffff {
				return out, st, errors.New("inspect: stored block LEN/NLEN mismatch")
			}
			for range n {
				out = append(out, byte(br.bits(8)))
			}
		case 1, 2:
			lit, dist := fixedCodes()
			if typ == 2 {
				st.dynamic++
				if lit, dist, err = br.dynamicCodes(); err != nil {
					return out, st, err
				}
			} else {
				st.fixed++
			}
			if out, err = br.codes(out, lit, dist, &st); err != nil {
				return out, st, err
			}
		default:
			return out, st, errors.New("inspect: reserved block type")
		}
		if br.err != nil {
			return out, st, br.err
		}
		if final {
			return out, st, nil
		}
	}
}

type streamStats struct {
	stored, fixed, dynamic int
	matches                int
	maxDist                int
}

type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) atEnd() bool { return r.pos >= 8*len(r.b) }

func (r *bitReader) align() { r.pos = (r.pos + 7) &^ 7 }

// bits reads n bits, least significant first.
func (r *bitReader) bits(n int) int {
	v := 0
	for i := range n {
		if r.pos >= 8*len(r.b) {
			r.err = errors.New("inspect: unexpected end of input")
			return 0
		}
		v |= int(r.b[r.pos/8]>>(r.pos%8)&1) << i
		r.pos++
	}
	return v
}

// huffman is a canonical code: counts per length, symbols in code order.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) huffman {
	var h huffman
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]int
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + h.count[l-1]
	}
	h.symbol = make([]int, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	return h
}

// decode reads one symbol, one bit at a time (codes are packed starting
// with their most significant bit).
func (r *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		code |= r.bits(1)
		if r.err != nil {
			return 0, r.err
		}
		if n := h.count[l]; code-n < first {
			return h.symbol[index+code-first], nil
		} else {
			index += n
			first = (first + n) << 1
			code <<= 1
		}
	}
	return 0, errors.New("inspect: invalid Huffman code")
}

func fixedCodes() (lit, dist huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	return newHuffman(l), newHuffman(d)
}

var clOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (r *bitReader) dynamicCodes() (lit, dist huffman, err error) {
	nlen, ndist, ncode := r.bits(5)+257, r.bits(5)+1, r.bits(4)+4
	var cl [19]int
	for i := range ncode {
		cl[clOrder[i]] = r.bits(3)
	}
	clh := newHuffman(cl[:])
	lengths := make([]int, 0, nlen+ndist)
	for len(lengths) < nlen+ndist {
		sym, err := r.decode(&clh)
		if err != nil {
			return lit, dist, err
		}
		rep, val := 1, sym
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return lit, dist, errors.New("inspect: repeat with no previous length")
			}
			val, rep = lengths[len(lengths)-1], 3+r.bits(2)
		case 17:
			val, rep = 0, 3+r.bits(3)
		case 18:
			val, rep = 0, 11+r.bits(7)
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	if len(lengths) > nlen+ndist {
		return lit, dist, errors.New("inspect: too many code lengths")
	}
	return newHuffman(lengths[:nlen]), newHuffman(lengths[nlen:]), nil
}

var (
	lenBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	dstBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	dstExtra = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func (r *bitReader) codes(out []byte, lit, dist huffman, st *streamStats) ([]byte, error) {
	for {
		sym, err := r.decode(&lit)
		if err != nil {
			return out, err
		}
		switch {
		case sym < 256:
			out = append(out, byte(sym))
		case sym == 256:
			return out, nil
		case sym-257 < len(lenBase):
			n := lenBase[sym-257] + r.bits(lenExtra[sym-257])
			ds, err := r.decode(&dist)
			if err != nil {
				return out, err
			}
			if ds >= len(dstBase) {
				return out, fmt.Errorf("inspect: bad distance symbol %d", ds)
			}
			d := dstBase[ds] + r.bits(dstExtra[ds])
			if d > len(out) {
				return out, fmt.Errorf("inspect: distance %d before the start", d)
			}
			st.matches++
			st.maxDist = max(st.maxDist, d)
			for range n {
				out = append(out, out[len(out)-d])
			}
		default:
			return out, fmt.Errorf("inspect: bad length symbol %d", sym)
		}
	}
}
