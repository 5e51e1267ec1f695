package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/wsgate/wsgate"
	"github.com/wsgate/wsgate/internal/perm"
)

// permissionOptions are the flags of what a /ws connection may do.
type permissionOptions struct {
	subscribe, publish, call string // comma-separated patterns
	claim                    string // JWT claim with a user's own Permissions
}

func (o *permissionOptions) register(fs *flag.FlagSet) {
	const patterns = "comma-separated patterns of names split at '.': '*' is one segment (never across a '/'), a final '>' one or more, {user} (or {sub}) the user's name; '>' allows all, empty nothing"
	fs.StringVar(&o.subscribe, "allow-subscribe", ">", "channels a /ws client may subscribe to, unless its token or the backend says otherwise: "+patterns)
	fs.StringVar(&o.publish, "allow-publish", ">", "channels a /ws client may publish on, unless its token or the backend says otherwise: "+patterns)
	fs.StringVar(&o.call, "allow-call", ">", "methods a /ws client may call, unless its token or the backend says otherwise: "+patterns)
	fs.StringVar(&o.claim, "auth-permissions-claim", "wsgate", "with --auth jwt, the claim holding a user's own permissions, {\"subscribe\":[…],\"publish\":[…],\"call\":[…]} (a list left out allows nothing); a token without it gets the --allow-* flags; empty: ignore tokens' permissions")
}

// permissions returns Config.Permissions for the flags. New checks the
// patterns.
func (o permissionOptions) permissions() *wsgate.Permissions {
	return &wsgate.Permissions{
		Subscribe: splitList(o.subscribe),
		Publish:   splitList(o.publish),
		Call:      splitList(o.call),
	}
}

// fromClaims returns the Permissions a token's claims carry in the
// --auth-permissions-claim claim: nil when there is none (the flags'
// apply), an error when it is not a permissions object.
func (o permissionOptions) fromClaims(claims map[string]any) (*wsgate.Permissions, error) {
	v, ok := claims[o.claim]
	if o.claim == "" || !ok {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("claim %q: %w", o.claim, err)
	}
	var p wsgate.Permissions
	if _, isObject := v.(map[string]any); !isObject {
		return nil, fmt.Errorf("claim %q: want an object {\"subscribe\":[…],\"publish\":[…],\"call\":[…]}", o.claim)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("claim %q: want lists of pattern strings: %w", o.claim, err)
	}
	return &p, nil
}

// withClaims wraps a JWT Config.Authenticate so that each identity
// carries the permissions of its token's claim. A token whose claim is
// not a permissions object is refused.
func (o permissionOptions) withClaims(authenticate func(context.Context, string) (wsgate.Identity, error)) func(context.Context, string) (wsgate.Identity, error) {
	return func(ctx context.Context, token string) (wsgate.Identity, error) {
		id, err := authenticate(ctx, token)
		if err != nil {
			return id, err
		}
		if id.Permissions, err = o.fromClaims(id.Claims); err != nil {
			return wsgate.Identity{}, fmt.Errorf("invalid token: %w", err)
		}
		return id, nil
	}
}

// check validates the patterns of the --allow-* flags.
func (o permissionOptions) check() error {
	for _, f := range []struct{ name, value string }{
		{"--allow-subscribe", o.subscribe}, {"--allow-publish", o.publish}, {"--allow-call", o.call},
	} {
		if _, err := perm.CompileList(splitList(f.value)); err != nil {
			return fmt.Errorf("wsgate: %s: %s", f.name, strings.TrimPrefix(err.Error(), "perm: "))
		}
	}
	return nil
}
