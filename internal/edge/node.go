package edge

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// Node is one node of the cluster as /edge/nodes lists it.
type Node struct {
	// ID names the node in the cluster: 1 to MaxIDLen letters, digits,
	// '.', '-' or '_' (CheckID). Two nodes must not share one.
	ID string `json:"node"`
	// Region is where the node runs ("eu-west"), in the same characters
	// as ID, at most MaxIDLen of them; empty when not configured.
	Region string `json:"region"`
	// URL is where clients reach the node: http:// or https://, a host,
	// and perhaps a path (CheckURL). Empty when unknown: a client then
	// uses the address it reached the node at.
	URL string `json:"url"`
	// Conns is the number of WebSocket connections the node holds.
	Conns int `json:"conns"`
	// Load is the share of the node's connection capacity in use, 0 to 1:
	// Conns divided by the node's connection cap, rounded to 0.001. It is
	// 0 for a node without a cap.
	Load float64 `json:"load"`
	// Draining is true while the node takes no new connections (it is
	// shutting down): clients should pick another node.
	Draining bool `json:"draining"`
}

// Limits on a Node's fields, in bytes.
const (
	MaxIDLen  = 64  // Node.ID and Node.Region
	MaxURLLen = 512 // Node.URL
)

// CheckID reports whether id can name a node: 1 to MaxIDLen ASCII
// letters, digits, '.', '-' or '_'. Such an id needs no escaping in JSON,
// a NATS subject or a Prometheus label.
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDLen || !plain(id) {
		return fmt.Errorf("node id %q: want 1 to %d letters, digits, '.', '-' or '_'", id, MaxIDLen)
	}
	return nil
}

// CheckRegion reports whether region can name a region: empty, or what
// CheckID accepts.
func CheckRegion(region string) error {
	if len(region) > MaxIDLen || !plain(region) {
		return fmt.Errorf("region %q: want up to %d letters, digits, '.', '-' or '_'", region, MaxIDLen)
	}
	return nil
}

// CheckURL reports whether u can be a node's public URL: empty, or an
// absolute http:// or https:// URL with a host, no user information, no
// query and no fragment, of at most MaxURLLen bytes.
func CheckURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if len(u) > MaxURLLen || err != nil || (p.Scheme != "http" && p.Scheme != "https") ||
		p.Host == "" || p.User != nil || p.RawQuery != "" || p.ForceQuery || p.Fragment != "" || p.Opaque != "" {
		return fmt.Errorf("public URL %q: want http:// or https://, a host and at most a path, up to %d bytes", u, MaxURLLen)
	}
	return nil
}

// check reports whether n's identity fields pass CheckID, CheckRegion
// and CheckURL, and its figures are in range.
func (n Node) check() error {
	if err := CheckID(n.ID); err != nil {
		return err
	}
	if err := CheckRegion(n.Region); err != nil {
		return err
	}
	if err := CheckURL(n.URL); err != nil {
		return err
	}
	if n.Conns < 0 {
		return fmt.Errorf("conns %d: want 0 or more", n.Conns)
	}
	if !(n.Load >= 0 && n.Load <= 1) { // also false for NaN
		return fmt.Errorf("load %v: want 0 to 1", n.Load)
	}
	return nil
}

// plain reports whether s holds only ASCII letters, digits, '.', '-'
// and '_'.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte(s[i]) {
			return false
		}
	}
	return true
}

func plainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_'
}

// suffixLen is the length of DeriveID's random suffix, in hex digits.
const suffixLen = 6

// DeriveID returns a node id made of the first label of hostname
// ("web1" for "web1.eu.example.com"), its characters CheckID refuses
// replaced by '-', cut to 40 bytes ("node" when nothing is left), then
// '-' and 6 random hex digits: "web1-3f9a2c". The suffix keeps two
// processes on one host apart; it changes at each start, so a node that
// restarts is a new node to its peers (the old one leaves, or expires).
func DeriveID(hostname string) string {
	label, _, _ := strings.Cut(hostname, ".")
	b := []byte(label)
	for i, c := range b {
		if !plainByte(c) {
			b[i] = '-'
		}
	}
	label = strings.Trim(string(b[:min(len(b), 40)]), "-")
	if label == "" {
		label = "node"
	}
	var r [suffixLen / 2]byte
	rand.Read(r[:])
	return label + "-" + hex.EncodeToString(r[:])
}
