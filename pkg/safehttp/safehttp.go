// Package safehttp makes the HTTP clients rollback talks to health checks,
// Prometheus and notification receivers with: every response body read is
// capped, and the guard controller's client never connects to link-local or
// cloud metadata addresses, whatever a URL or a redirect says.
package safehttp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// MaxBody is the most of a response body any reader gets: a health check,
// a Prometheus answer and a receiver's reply are all far smaller.
const MaxBody = 4 << 20

// ErrBodyTooLarge ends the read of a response body longer than the cap.
var ErrBodyTooLarge = errors.New("response body too large")

// NewClient returns a client with timeout (0: none besides the caller's
// context) whose response bodies are capped at MaxBody.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: LimitBodies(http.DefaultTransport.(*http.Transport).Clone(), MaxBody)}
}

// NewGuardedClient returns a client like NewClient that also refuses to
// connect to a forbidden address (see Forbidden), checked on the resolved
// address of every connection, and checks every redirect target with
// allow (nil allows them).
func NewGuardedClient(timeout time.Duration, allow func(*url.URL) error) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: refuseForbidden}
	tr.DialContext = d.DialContext
	tr.Proxy = nil // a proxy would connect for us, unchecked
	c := &http.Client{Timeout: timeout, Transport: LimitBodies(tr, MaxBody)}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if allow != nil {
			if err := allow(req.URL); err != nil {
				return fmt.Errorf("redirect refused: %w", err)
			}
		}
		return nil
	}
	return c
}

// refuseForbidden is a net.Dialer Control hook: it sees the address actually
// dialled, after name resolution.
func refuseForbidden(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip, err := netip.ParseAddr(host); err == nil && Forbidden(ip) {
		return fmt.Errorf("connection to %s refused: link-local and cloud metadata addresses are never contacted", ip)
	}
	return nil
}

// metadataAddrs are cloud metadata services outside the link-local ranges.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// MetadataHosts are host names of cloud metadata services.
var MetadataHosts = []string{"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal", "metadata.azure.internal"}

// Forbidden reports whether ip must never be contacted: unspecified,
// link-local (169.254.0.0/16, fe80::/10, where cloud metadata services
// listen) or a known metadata address.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() {
		return true
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return true
		}
	}
	return false
}

// ForbiddenHost reports whether host (a name or an IP literal, without
// port) names a forbidden address or a metadata service.
func ForbiddenHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return Forbidden(ip)
	}
	for _, m := range MetadataHosts {
		if host == m {
			return true
		}
	}
	return false
}

// LimitBodies returns rt with every response body capped at max bytes: a
// read past it fails with ErrBodyTooLarge.
func LimitBodies(rt http.RoundTripper, max int64) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &limitTransport{rt: rt, max: max}
}

type limitTransport struct {
	rt  http.RoundTripper
	max int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, max: t.max}
	return resp, nil
}

// limitedBody fails a read past its limit instead of cutting it silently,
// so a truncated answer is never taken for a whole one.
type limitedBody struct {
	rc        io.ReadCloser
	left, max int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, b.max)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
