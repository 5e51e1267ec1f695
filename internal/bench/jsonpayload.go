package bench

import (
	"fmt"
	"strconv"
)

// This file makes the JSON bodies of --payload json: for a size n, a
// template of exactly n bytes, built once, whose numbers are rewritten
// in place for every message. A message of 4 KiB looks like
//
//	{"conn":"000007","seq":"000000000042","items":[
//	 {"id":1000,"sym":"ACME","venue":"XNAS","bid":412.07,"ask":388.91,
//	  "last":927.30,"vol":518302,"ts":1764000518302,"halted":false},
//	 ... 30 or so records ...],"note":"padding to the exact size"}
//
// (on one line). Every number is written with a fixed width, so a
// message's size never changes; the prices, volumes and timestamps are
// drawn from the connection id and the sequence number, so consecutive
// messages differ in about a fifth of their bytes and a compressor cannot
// send one as a reference to the one before.

// jsonHead and jsonTail enclose the records; the conn and seq strings are
// zero-padded decimal numbers of connDigits and seqDigits.
const (
	jsonHead   = `{"conn":"000000","seq":"000000000000","items":[`
	jsonTail   = `],"note":"`
	jsonEnd    = `"}`
	connDigits = 6
	seqDigits  = 12
	connOff    = len(`{"conn":"`)
	seqOff     = connOff + connDigits + len(`","seq":"`)
)

// MinJSONSize is the smallest --size of --payload json, in bytes: an
// object without records or padding.
const MinJSONSize = len(jsonHead) + len(jsonTail) + len(jsonEnd)

// Record fields: symbols and venues cycle with the record's index.
var (
	jsonSymbols = [...]string{"ACME", "GLOBX", "INIT", "UMBR", "STARK", "WAYNE", "CYBD", "SOYL", "TYRL", "OSCP", "MASS", "PLNX", "VANDL", "HOOLI", "DUNMF", "WONKA"}
	jsonNames   = [...]string{"Acme Corporation", "Globex Holdings", "Initech Software", "Umbrella Pharmaceuticals", "Stark Industries", "Wayne Enterprises", "Cyberdyne Systems", "Soylent Foods", "Tyrell Corporation", "Oscorp Technologies", "Massive Dynamic", "Planet Express", "Vandelay Industries", "Hooli Technologies", "Dunder Mifflin Paper", "Wonka Confectionery"}
	jsonVenues  = [...]string{"XNAS", "XNYS", "BATS", "ARCX"}
)

// jsonNote is the text the padding repeats.
const jsonNote = "quotes snapshot, prices in USD, volumes in shares; "

// fieldKind says how a variable field of the template is written.
type fieldKind uint8

const (
	fieldCents  fieldKind = iota // the 2 digits after a price's point
	fieldVol                     // 6 digits, 100000 to 999999
	fieldMillis                  // the last 3 digits of a timestamp
)

// jsonField is a span of the template rewritten for each message.
type jsonField struct {
	off  int32
	kind fieldKind
}

// jsonTemplate is the skeleton of every --payload json message of one
// size. It is read-only once built and shared by all connections.
type jsonTemplate struct {
	buf    []byte
	fields []jsonField
}

// newJSONTemplate builds the template for messages of exactly n bytes,
// n at least MinJSONSize.
func newJSONTemplate(n int) (*jsonTemplate, error) {
	if n < MinJSONSize {
		return nil, fmt.Errorf("bench: json payloads need at least %d bytes, not %d", MinJSONSize, n)
	}
	t := &jsonTemplate{buf: make([]byte, 0, n)}
	t.buf = append(t.buf, jsonHead...)
	budget := n - MinJSONSize // bytes left for records and padding
	var rec []byte
	var fields []jsonField
	for i := 0; ; i++ {
		rec, fields = appendRecord(rec[:0], fields[:0], i)
		sep := 0
		if i > 0 {
			sep = 1
		}
		if sep+len(rec) > budget {
			break
		}
		if sep == 1 {
			t.buf = append(t.buf, ',')
		}
		base := int32(len(t.buf))
		for _, f := range fields {
			t.fields = append(t.fields, jsonField{off: base + f.off, kind: f.kind})
		}
		t.buf = append(t.buf, rec...)
		budget -= sep + len(rec)
	}
	t.buf = append(t.buf, jsonTail...)
	for i := 0; i < budget; i++ {
		t.buf = append(t.buf, jsonNote[i%len(jsonNote)])
	}
	t.buf = append(t.buf, jsonEnd...)
	return t, nil
}

// appendRecord appends record i to rec and the offsets of its variable
// fields (relative to the record) to fields. A record's prices keep
// their whole dollars and its timestamp its second from message to
// message, as quotes of one moment do; cents, volumes and milliseconds
// change.
func appendRecord(rec []byte, fields []jsonField, i int) ([]byte, []jsonField) {
	vary := func(kind fieldKind, digits string) {
		fields = append(fields, jsonField{off: int32(len(rec)), kind: kind})
		rec = append(rec, digits...)
	}
	dollars := 100 + i*37%800
	price := func(name string, d int) {
		rec = append(rec, `,"`+name+`":`...)
		rec = strconv.AppendInt(rec, int64(d), 10)
		rec = append(rec, '.')
		vary(fieldCents, "00")
	}
	rec = append(rec, `{"id":`...)
	rec = strconv.AppendInt(rec, int64(1000+i), 10)
	rec = append(rec, `,"sym":"`...)
	rec = append(rec, jsonSymbols[i%len(jsonSymbols)]...)
	rec = append(rec, `","name":"`...)
	rec = append(rec, jsonNames[i%len(jsonNames)]...)
	rec = append(rec, `","venue":"`...)
	rec = append(rec, jsonVenues[i%len(jsonVenues)]...)
	rec = append(rec, `","currency":"USD","class":"common stock","session":"regular"`...)
	price("bid", dollars)
	price("ask", dollars+1)
	price("last", dollars)
	rec = append(rec, `,"vol":`...)
	vary(fieldVol, "100000")
	rec = append(rec, `,"ts":1764000000`...)
	vary(fieldMillis, "000")
	rec = append(rec, `,"halted":false}`...)
	return rec, fields
}

// size is the length of every message made from t, in bytes.
func (t *jsonTemplate) size() int { return len(t.buf) }

// fill writes message seq of connection id into dst, which must be
// t.size() bytes long. The same id and seq always give the same bytes.
func (t *jsonTemplate) fill(dst []byte, id int, seq uint64) {
	copy(dst, t.buf)
	putDigits(dst[connOff:connOff+connDigits], uint64(id))
	putDigits(dst[seqOff:seqOff+seqDigits], seq)
	s := uint64(id)<<40 ^ seq
	for _, f := range t.fields {
		v := splitmix(&s)
		b := dst[f.off:]
		switch f.kind {
		case fieldCents:
			putDigits(b[:2], v%100)
		case fieldVol:
			putDigits(b[:6], 100000+v%900000)
		case fieldMillis:
			putDigits(b[:3], v%1000)
		}
	}
}

// putDigits writes v in decimal into all of b, zero-padded on the left;
// higher digits that do not fit are dropped.
func putDigits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// splitmix advances s and returns the next value of the SplitMix64
// sequence: cheap, and good enough to make numbers look unrelated.
func splitmix(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
