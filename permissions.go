package wsgate

import (
	"encoding/json"
	"fmt"

	"github.com/wsgate/wsgate/internal/perm"
)

// Permissions say what a /ws connection may do: which channels it may
// subscribe to (sub, with or without since) and publish on (pub), and
// which methods it may call. A request for anything else is answered
// forbidden. unsub is always allowed, and Server.Publish is not subject
// to Permissions.
//
// Each list holds patterns of names split at '.' into segments:
//
//	chat.lobby       that name only
//	chat.*           '*' is any one segment without a '/': chat.lobby,
//	                 not chat.a.b nor chat.a/b
//	chat.>           '>', last, is one or more segments: chat.a, chat.a.b
//	>                every name
//	user.{user}.>    {user} (or {sub}) is the connection's Identity.User as
//	                 one segment: user.alice.inbox for alice only; a user
//	                 whose name is not one valid segment matches nothing
//
// An empty or nil list allows nothing. The JSON form is
// {"subscribe":[…],"publish":[…],"call":[…]}, as a JWT claim or the
// backend's answer to a connection carries it.
type Permissions struct {
	Subscribe []string `json:"subscribe"`
	Publish   []string `json:"publish"`
	Call      []string `json:"call"`
}

// grants are Permissions compiled. A nil *grants allows everything.
// Read-only once made: every connection of an identity shares them.
type grants struct {
	subscribe, publish, call perm.List
}

// compile checks p's patterns and compiles them; nil for nil p.
func (p *Permissions) compile() (*grants, error) {
	if p == nil {
		return nil, nil
	}
	var g grants
	var err error
	if g.subscribe, err = perm.CompileList(p.Subscribe); err != nil {
		return nil, fmt.Errorf("wsgate: permissions: subscribe: %w", err)
	}
	if g.publish, err = perm.CompileList(p.Publish); err != nil {
		return nil, fmt.Errorf("wsgate: permissions: publish: %w", err)
	}
	if g.call, err = perm.CompileList(p.Call); err != nil {
		return nil, fmt.Errorf("wsgate: permissions: call: %w", err)
	}
	return &g, nil
}

// permission names what a request asks to do.
type permission int

const (
	permSubscribe permission = iota
	permPublish
	permCall
)

// refusal is the forbidden reply's message for name.
func (p permission) refusal(name string) string {
	verb := [...]string{"subscribe to", "publish on", "call"}[p]
	return fmt.Sprintf("not allowed to %s %q", verb, name)
}

// allows reports whether g lets user do p on name.
func (g *grants) allows(p permission, name, user string) bool {
	if g == nil {
		return true
	}
	l := [...]perm.List{g.subscribe, g.publish, g.call}[p]
	return l.Allows(name, user)
}

// permit reports whether the connection may do p on name, answering
// forbidden to request id when it may not. Before a token is accepted
// nothing reaches here (beforeAuth).
func (ss *session) permit(p permission, id json.RawMessage, name string) bool {
	g, user := ss.s.grants, ""
	if ss.auth != nil {
		if who := ss.auth.id.Load(); who != nil {
			user = who.User
			if who.grants != nil { // it brought Permissions of its own
				g = who.grants
			}
		}
	}
	if g.allows(p, name, user) {
		return true
	}
	ss.replyError(id, CodeForbidden, p.refusal(name))
	return false
}
