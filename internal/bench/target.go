package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// target is where a run connects: the URL and, for 127.x targets, the
// source addresses connections are spread over.
type target struct {
	url     string
	sources []netip.Addr // empty: let the kernel choose
	// deflate, when not nil, makes every connection offer
	// permessage-deflate, send its messages compressed and inflate the
	// server's.
	deflate *wsflate.Codec
}

// resolveTarget checks that rawURL names a loopback host (unless
// allowRemote) and picks up to nSources source addresses 127.0.0.1…N for
// an IPv4 loopback target. Host names are resolved once, here.
func resolveTarget(ctx context.Context, rawURL string, allowRemote bool, nSources int) (target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return target{}, fmt.Errorf("bench: --url: %w", err)
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return target{}, fmt.Errorf("bench: --url: resolve %q: %w", host, err)
		}
		for _, a := range ips {
			addrs = append(addrs, a.Unmap())
		}
	}
	if !allowRemote {
		for _, a := range addrs {
			if !a.IsLoopback() {
				return target{}, fmt.Errorf("bench: --url %q: %s is not a loopback address; load tests go to 127.0.0.0/8 or ::1 unless --allow-remote is given", rawURL, a)
			}
		}
	}
	t := target{url: rawURL}
	v4loop := len(addrs) > 0
	for _, a := range addrs {
		if !a.Is4() || !a.IsLoopback() {
			v4loop = false
		}
	}
	if v4loop && nSources > 1 {
		for i := range nSources {
			t.sources = append(t.sources, netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}))
		}
	}
	return t, nil
}

// dialer returns the net.Dialer for connection i: bound to one of the
// source addresses in turn, with the port chosen at connect time.
func (t target) dialer(i int) *net.Dialer {
	d := &net.Dialer{Control: bindNoPort}
	if len(t.sources) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: t.sources[i%len(t.sources)].AsSlice()}
	}
	return d
}
