package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// endpoint is a secret destination URL: errors name the channel and host only.
type endpoint struct {
	channel string
	raw     string
	host    string
	secrets []string // the URL and anything else that must never be shown
}

func newEndpoint(channel, raw string, extra ...string) (endpoint, error) {
	ep := endpoint{channel: channel, raw: raw, secrets: append(redact.WebhookURLSecrets(raw), extra...)}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ep, fmt.Errorf("%s: the configured URL is not an http(s) URL (value not shown: it holds a token): set it like https://host/path", channel)
	}
	ep.host = u.Host
	return ep, nil
}

// fail returns an error about op that names the channel and host and says
// why (timeout, refused, HTTP status) without the URL or any secret.
func (ep endpoint) fail(op string, err error) error {
	return &deliveryError{msg: fmt.Sprintf("%s %s (%s): %s", ep.channel, op, ep.host, ep.reason(err)), permanent: isPermanent(err)}
}

func (ep endpoint) reason(err error) string {
	var ue *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ue) && ue.Timeout():
		return "timed out"
	case errors.As(err, &ue):
		err = ue.Err // drop "Post <url>:"
	}
	msg := redact.New(ep.secrets...).String(err.Error())
	// A URL quoted by a wrapped error ("Post \"https://...\": ..."): its
	// path may be the token, so only its scheme and host are shown.
	for _, f := range strings.Fields(msg) {
		if t := strings.Trim(f, `"':,`); strings.Contains(t, "://") {
			msg = strings.ReplaceAll(msg, t, redact.Host(t))
		}
	}
	return msg
}

// deliveryError is a delivery failure safe to show.
type deliveryError struct {
	msg       string
	permanent bool
}

// Error returns the message.
func (e *deliveryError) Error() string { return e.msg }

// statusError is an HTTP answer other than 2xx.
type statusError struct{ code int }

// Error returns the message.
func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.code, http.StatusText(e.code))
}

// isPermanent reports whether retrying cannot help: a 4xx answer other than
// 408 (timeout) and 429 (rate limited).
func isPermanent(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code >= 400 && se.code < 500 && se.code != http.StatusRequestTimeout && se.code != http.StatusTooManyRequests
	}
	return false
}

// check sends a request that posts no message: any HTTP answer means the
// destination is reachable.
func (ep endpoint) check(ctx context.Context, hc *http.Client, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, target, nil)
	if err != nil {
		return ep.fail("check", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ep.fail("check", err)
	}
	resp.Body.Close()
	return nil
}

func clientOr(hc *http.Client) *http.Client {
	if hc == nil {
		return safehttp.NewClient(0)
	}
	return hc
}
