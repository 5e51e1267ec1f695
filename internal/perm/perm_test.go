package perm

import (
	"errors"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, name, user string
		want                bool
	}{
		{"chat.lobby", "chat.lobby", "", true},
		{"chat.lobby", "chat.lobby2", "", false},
		{"chat.lobby", "chat", "", false},
		{"chat.lobby", "chat.lobby.x", "", false},
		{"chat.*", "chat.lobby", "", true},
		{"chat.*", "chat.a.b", "", false},
		{"chat.*", "chat", "", false},
		{"chat.*", "chat.", "", false},
		{"chat.*", "chatroom.x", "", false},
		{"*.lobby", "chat.lobby", "", true},
		{"*", "ticks", "", true},
		{"*", "a.b", "", false},
		{"chat.>", "chat.a", "", true},
		{"chat.>", "chat.a.b.c", "", true},
		{"chat.>", "chat", "", false},
		{"chat.>", "chat.", "", false},
		{">", "anything.at.all", "", true},
		{">", "x", "", true},
		{"a.*.c", "a..c", "", false},
		{"user.{user}.>", "user.alice.inbox", "alice", true},
		{"user.{user}.>", "user.alice.inbox", "bob", false},
		{"user.{sub}.*", "user.alice.inbox", "alice", true},
		{"user.{sub}.*", "user.alice", "alice", false},
		{"user.{user}", "user.alice", "alice", true},
		// A user whose name has dots cannot reach another user's names.
		{"user.{user}.>", "user.a.b.inbox", "a.b", false},
		{"user.{user}.>", "user.a.b.inbox", "a", true},
		{"user.{user}", "user.", "", false},
		{"user.{user}", "user.x*", "x*", false},
		{"orders/list", "orders/list", "", true},
		{"market.*", "market.x/y", "", false}, // '*' stops at '/'
		{"market.>", "market.x/y", "", true},
		{"market.history", "market.history", "", true},
	} {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.name, tt.user); got != tt.want {
			t.Errorf("%q.Match(%q, user %q) = %v, want %v", tt.pattern, tt.name, tt.user, got, tt.want)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, s := range []string{"", ".", "a.", ".a", "a..b", "a.>.b", ">.a", "a*", "a.b*", "{user}x", "{users}", "a b", "chat.é", "a.#", "orders/*"} {
		if _, err := Compile(s); !errors.Is(err, ErrPattern) {
			t.Errorf("Compile(%q) = %v, want ErrPattern", s, err)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{"a.*.>": "a.*.>", "user.{sub}.x": "user.{user}.x", "x": "x"} {
		p, err := Compile(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.String(); got != want {
			t.Errorf("Compile(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func TestList(t *testing.T) {
	l, err := CompileList([]string{"chat.*", "user.{user}.>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		want bool
	}{{"chat.x", true}, {"user.ann.box", true}, {"user.bob.box", false}, {"ticks", false}} {
		if got := l.Allows(tt.name, "ann"); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (List{}).Allows("x", "") || List(nil).Allows("x", "") {
		t.Error("an empty List allows a name")
	}
	if _, err := CompileList([]string{"ok", "bad..x"}); err == nil || !strings.Contains(err.Error(), "bad..x") {
		t.Errorf("CompileList error %v, want one naming the bad pattern", err)
	}
}

// FuzzMatch checks Match against a reference that splits both sides.
func FuzzMatch(f *testing.F) {
	for _, s := range [][3]string{{"chat.*", "chat.x", ""}, {"a.>", "a.b.c", ""}, {"user.{user}.>", "user.u.x", "u"}, {">", "a..b", ""}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pattern, name, user string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		if got, want := p.Match(name, user), reference(pattern, name, user); got != want {
			t.Fatalf("%q.Match(%q, %q) = %v, reference %v", pattern, name, user, got, want)
		}
	})
}

// reference matches the plain way: split both at '.', compare segment by
// segment.
func reference(pattern, name, user string) bool {
	ps, ns := strings.Split(pattern, "."), strings.Split(name, ".")
	for i, p := range ps {
		if p == ">" { // one or more segments of any content
			return i < len(ns) && strings.Join(ns[i:], ".") != ""
		}
		if i >= len(ns) || ns[i] == "" {
			return false
		}
		switch p {
		case "*":
			if strings.Contains(ns[i], "/") {
				return false
			}
		case "{user}", "{sub}":
			if ns[i] != user || !literalSegment(user) {
				return false
			}
		default:
			if ns[i] != p {
				return false
			}
		}
	}
	return len(ns) == len(ps)
}

// BenchmarkAllows: a list of four patterns, the name matching the last,
// as a request's check on the event loop does.
func BenchmarkAllows(b *testing.B) {
	l, err := CompileList([]string{"market.*", "user.{user}.>", "admin.>", "chat.*.messages"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !l.Allows("chat.lobby.messages", "ada") {
			b.Fatal("no match")
		}
	}
}
