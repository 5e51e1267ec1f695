package engine

import (
	"net/netip"
	"testing"
)

func TestPeerAddress(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:80":           "127.0.0.1:80",
		"[::ffff:10.1.2.3]:9000": "10.1.2.3:9000", // IPv4-mapped: unmapped
		"[2001:db8::1]:443":      "[2001:db8::1]:443",
		"[::1]:1":                "[::1]:1",
		"[fe80::1%eth0]:8080":    "[fe80::1]:8080", // the zone is dropped
		"[::ffff:0.0.0.0]:65535": "0.0.0.0:65535",
	} {
		var c epollConn
		c.setPeer(netip.MustParseAddrPort(in))
		if got := c.peer().String(); got != want {
			t.Errorf("setPeer(%s): peer %s, want %s", in, got, want)
		}
		if got := c.peerAddr().String(); got != want {
			t.Errorf("setPeer(%s): peerAddr %s, want %s", in, got, want)
		}
	}
}
