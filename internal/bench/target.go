package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"

	"github.com/wsgate/wsgate/ws/wsflate"
)

// target is where a run connects: the URLs (connection i goes to
// urls[i % len(urls)]) and, for 127.x targets, the source addresses
// connections are spread over.
type target struct {
	urls    []string
	sources []netip.Addr // empty: let the kernel choose
	// deflate, when not nil, makes every connection offer
	// permessage-deflate, send its messages compressed and inflate the
	// server's.
	deflate *wsflate.Codec
}

// urlFor is the URL connection i dials.
func (t target) urlFor(i int) string { return t.urls[i%len(t.urls)] }

// first is t with its first URL only: where a fanout's publisher goes.
func (t target) first() target {
	t.urls = t.urls[:1]
	return t
}

// resolveTarget checks that every URL of rawURLs names a loopback host
// (unless allowRemote) and, when they are all IPv4 loopback, picks up to
// nSources source addresses 127.0.0.1…N. Host names are resolved once,
// here.
func resolveTarget(ctx context.Context, rawURLs []string, allowRemote bool, nSources int) (target, error) {
	t := target{urls: rawURLs}
	v4loop := len(rawURLs) > 0
	for _, rawURL := range rawURLs {
		addrs, err := resolveURL(ctx, rawURL, allowRemote)
		if err != nil {
			return target{}, err
		}
		for _, a := range addrs {
			if !a.Is4() || !a.IsLoopback() {
				v4loop = false
			}
		}
	}
	if v4loop && nSources > 1 {
		for i := range nSources {
			t.sources = append(t.sources, netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}))
		}
	}
	return t, nil
}

// resolveURL returns the addresses of rawURL's host, refusing those off
// the loopback unless allowRemote.
func resolveURL(ctx context.Context, rawURL string, allowRemote bool) ([]netip.Addr, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bench: --url: %w", err)
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("bench: --url: resolve %q: %w", host, err)
		}
		for _, a := range ips {
			addrs = append(addrs, a.Unmap())
		}
	}
	if !allowRemote {
		for _, a := range addrs {
			if !a.IsLoopback() {
				return nil, fmt.Errorf("bench: --url %q: %s is not a loopback address; load tests go to 127.0.0.0/8 or ::1 unless --allow-remote is given", rawURL, a)
			}
		}
	}
	return addrs, nil
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
