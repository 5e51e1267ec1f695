package wsgate

// Permissions say what a /ws connection may do: which channels it may
// subscribe to (sub, with or without since) and publish on (pub), and
// which methods it may call. A request for anything else is answered
// forbidden. unsub is always allowed, and Server.Publish is not subject
// to Permissions.
//
// Each list holds patterns of names split at '.' into segments:
//
//	chat.lobby       that name only
//	chat.*           '*' is any one segment: chat.lobby, not chat.a.b
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
