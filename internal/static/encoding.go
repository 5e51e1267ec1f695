package static

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// coding is a content coding the handler can send. On equal weights the
// higher one is preferred: br, then gzip, then identity.
type coding int8

const (
	identity coding = iota
	gzipCoding
	brCoding
	nCodings
)

// token is the coding's name in Accept-Encoding and Content-Encoding.
func (c coding) token() string {
	return [...]string{"identity", "gzip", "br"}[c]
}

// etagSuffix tells the representations of one file apart inside its
// quoted ETag: "3f2a9c1b7e", "3f2a9c1b7e-gz", "3f2a9c1b7e-br".
func (c coding) etagSuffix() string {
	return [...]string{"", "-gz", "-br"}[c]
}

// unlisted is the weight of a coding the field does not name.
const unlisted = -1

// acceptEncoding is a parsed Accept-Encoding field (RFC 9110, section
// 12.5.3): the qvalue, in thousandths, of each coding wsgate can send and
// of "*", or unlisted.
type acceptEncoding struct {
	q    [nCodings]int
	star int
}

// parseAcceptEncoding parses the field's value (several field lines
// joined by commas). Names are compared without regard to case and
// "x-gzip" is gzip (RFC 9110, section 8.4.1.3). An element with a
// malformed qvalue is ignored, and so is a later element naming a coding
// already named: the first one counts. Parameters other than q are
// ignored.
func parseAcceptEncoding(s string) acceptEncoding {
	a := acceptEncoding{q: [nCodings]int{unlisted, unlisted, unlisted}, star: unlisted}
	for elem := range strings.SplitSeq(s, ",") {
		name, params, _ := strings.Cut(elem, ";")
		name = strings.Trim(name, " \t")
		q := 1000
		ok := true
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.Trim(p, " \t"), "=")
			if strings.EqualFold(k, "q") {
				q, ok = parseQ(v)
			}
		}
		if !ok || name == "" {
			continue
		}
		slot := &a.star
		switch {
		case name == "*":
		case strings.EqualFold(name, "br"):
			slot = &a.q[brCoding]
		case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
			slot = &a.q[gzipCoding]
		case strings.EqualFold(name, "identity"):
			slot = &a.q[identity]
		default:
			continue
		}
		if *slot == unlisted {
			*slot = q
		}
	}
	return a
}

// parseQ parses a qvalue ("0", "0.5", "1.000") into thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || s[0] != '0' && s[0] != '1' {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	frac := s[1:]
	if frac[0] != '.' || len(frac) > 4 {
		return 0, false
	}
	scale := 100
	for _, c := range []byte(frac[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

// weight is c's weight in thousandths; 0 refuses it. A coding the field
// does not name takes the weight of "*" when it is listed; identity is
// otherwise acceptable at the lowest weight, so that any coding the
// client names is preferred to it, and other codings are refused.
func (a acceptEncoding) weight(c coding) int {
	if q := a.q[c]; q != unlisted {
		return q
	}
	if a.star != unlisted {
		return a.star
	}
	if c == identity {
		return 1
	}
	return 0
}

// choose picks among the codings available (identity always is) the one
// with the highest weight, br before gzip before identity on a tie. When
// none is acceptable it answers identity, as RFC 9110 (section 12.5.3)
// recommends rather than a 406.
func (a acceptEncoding) choose(available [nCodings]bool) coding {
	best, bestW := identity, 0
	for c := identity; c < nCodings; c++ {
		if w := a.weight(c); (available[c] || c == identity) && w > 0 && w >= bestW {
			best, bestW = c, w
		}
	}
	return best
}

// compress returns b encoded with c at its best compression.
func compress(c coding, b []byte) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch c {
	case brCoding:
		w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
		if _, err = w.Write(b); err == nil {
			err = w.Close()
		}
	case gzipCoding:
		var w *gzip.Writer
		if w, err = gzip.NewWriterLevel(&buf, gzip.BestCompression); err == nil {
			if _, err = w.Write(b); err == nil {
				err = w.Close()
			}
		}
	default:
		return nil, fmt.Errorf("static: no compressor for %s", c.token())
	}
	if err != nil {
		return nil, fmt.Errorf("static: %s: %w", c.token(), err)
	}
	return buf.Bytes(), nil
}
