// Package perm matches method and channel names against the patterns of
// wsgate's Permissions: names split at '.' into segments, where '*' is any
// one segment without a '/', a final '>' is one or more segments, and
// {user} (or {sub}) is the connection's user as one segment.
package perm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wsgate/wsgate/internal/envelope"
)

// ErrPattern is wrapped by the errors of Compile.
var ErrPattern = errors.New("perm: invalid pattern")

// segment kinds.
const (
	literal = iota // equal to text
	one            // '*': any one non-empty segment without '/'
	rest           // '>': one or more segments, last
	user           // {user} or {sub}: the user, as one segment
)

type segment struct {
	kind int
	text string // for literal
}

// Pattern is a compiled pattern. The zero Pattern matches nothing.
// A Pattern is read-only: any goroutine may use it.
type Pattern struct {
	segs []segment
}

// Compile reads a pattern. A segment is '*', '>' (last only), {user},
// {sub}, or literal text that is itself a valid name without a dot (ASCII
// letters, digits, _ : / -, no '/' at either end); no segment is empty.
func Compile(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("%w: empty", ErrPattern)
	}
	var p Pattern
	parts := strings.Split(s, ".")
	for i, part := range parts {
		switch part {
		case "*":
			p.segs = append(p.segs, segment{kind: one})
		case ">":
			if i != len(parts)-1 {
				return Pattern{}, fmt.Errorf("%w: %q: '>' must be the last segment", ErrPattern, s)
			}
			p.segs = append(p.segs, segment{kind: rest})
		case "{user}", "{sub}":
			p.segs = append(p.segs, segment{kind: user})
		default:
			if !literalSegment(part) {
				return Pattern{}, fmt.Errorf("%w: %q: segment %q: want '*', '>', {user}, {sub} or letters, digits and _ : / -", ErrPattern, s, part)
			}
			p.segs = append(p.segs, segment{kind: literal, text: part})
		}
	}
	return p, nil
}

// literalSegment reports whether s can be a literal segment: a valid
// name (envelope.ValidName) without a dot.
func literalSegment(s string) bool {
	return !strings.Contains(s, ".") && envelope.ValidName(s)
}

// Match reports whether name matches p for the connection of user u. A
// {user} segment matches only when u is itself one valid segment, so
// that no user can reach another's names by choosing a name with dots.
func (p Pattern) Match(name, u string) bool {
	if len(p.segs) == 0 {
		return false
	}
	for i, s := range p.segs {
		if s.kind == rest {
			return name != "" // one or more segments left
		}
		seg, after, more := strings.Cut(name, ".")
		switch s.kind {
		case literal:
			if seg != s.text {
				return false
			}
		case one:
			// Not across a '/': a backend method's path stays whole.
			if seg == "" || strings.IndexByte(seg, '/') >= 0 {
				return false
			}
		case user:
			if seg != u || !literalSegment(u) {
				return false
			}
		}
		if !more {
			return i == len(p.segs)-1
		}
		name = after
		if name == "" {
			return false // a trailing dot leaves an empty segment
		}
	}
	return false // the name has segments left over
}

// String returns the pattern as written (with {user} for {sub}).
func (p Pattern) String() string {
	parts := make([]string, len(p.segs))
	for i, s := range p.segs {
		switch s.kind {
		case literal:
			parts[i] = s.text
		case one:
			parts[i] = "*"
		case rest:
			parts[i] = ">"
		case user:
			parts[i] = "{user}"
		}
	}
	return strings.Join(parts, ".")
}

// List is a set of patterns: a name is allowed when one of them matches.
// A nil or empty List allows nothing. Read-only once compiled.
type List []Pattern

// CompileList compiles each pattern, naming the first bad one.
func CompileList(patterns []string) (List, error) {
	l := make(List, 0, len(patterns))
	for _, s := range patterns {
		p, err := Compile(s)
		if err != nil {
			return nil, err
		}
		l = append(l, p)
	}
	return l, nil
}

// Allows reports whether a pattern of l matches name for user u.
func (l List) Allows(name, u string) bool {
	for _, p := range l {
		if p.Match(name, u) {
			return true
		}
	}
	return false
}
