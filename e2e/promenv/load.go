package promenv

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Load sends rps GET requests per second to rawURL until ctx ends, so that
// the sandbox endpoint's http_requests_total counters move (the endpoint
// only counts what it serves). Errors are ignored: a 5xx is the point.
func Load(ctx context.Context, rawURL string, rps int) {
	if rps <= 0 {
		rps = 20
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(time.Second / time.Duration(rps))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
			if err != nil {
				return
			}
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
}

// HostOf returns the host:port of a URL, for a Target.
func HostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return u.Host + ":80"
	}
	return u.Host
}
