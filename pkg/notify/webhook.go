package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Headers of a signed webhook request.
const (
	// HeaderTimestamp carries the Unix time of the request in seconds.
	HeaderTimestamp = "X-Rollback-Timestamp"
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>".
	HeaderSignature = "X-Rollback-Signature"
	// HeaderEvent carries the event's kind.
	HeaderEvent = "X-Rollback-Event"
)

// webhookChannel posts the Event as JSON, signed with HMAC-SHA256.
type webhookChannel struct {
	ep     endpoint
	err    error
	secret []byte
	hc     *http.Client
	now    func() time.Time
}

// NewWebhook returns a Channel posting each Event as JSON to url with hc (a
// default client when nil). With a secret, requests carry X-Rollback-Timestamp
// and X-Rollback-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">;
// receivers check them with Verify. X-Rollback-Event carries the kind.
func NewWebhook(url string, secret []byte, hc *http.Client) Channel {
	extra := []string{}
	if len(secret) > 0 {
		extra = append(extra, string(secret))
	}
	ep, err := newEndpoint("webhook", url, extra...)
	return &webhookChannel{ep: ep, err: err, secret: secret, hc: clientOr(hc), now: time.Now}
}

// Name names the channel.
func (w *webhookChannel) Name() string { return "webhook" }

func (w *webhookChannel) secrets() []string { return w.ep.secrets }

// Send delivers ev once.
func (w *webhookChannel) Send(ctx context.Context, ev Event) error {
	if w.err != nil {
		return w.err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhook: encode event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.ep.raw, bytes.NewReader(body))
	if err != nil {
		return w.ep.fail("post", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rollback")
	req.Header.Set(HeaderEvent, ev.Kind)
	req.Header.Set(HeaderTimestamp, ts)
	if len(w.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return w.ep.fail("post", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return w.ep.fail("post", &statusError{code: resp.StatusCode})
	}
	return nil
}

// Check sends a HEAD request, no message: any HTTP answer means reachable.
func (w *webhookChannel) Check(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	return w.ep.check(ctx, w.hc, w.ep.raw)
}

// Sign returns the X-Rollback-Signature value of body sent at timestamp ts
// (Unix seconds, as in X-Rollback-Timestamp): "sha256=" followed by the hex
// HMAC-SHA256 of "<ts>.<body>" keyed with secret.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature says a webhook request's signature does not verify.
var ErrBadSignature = errors.New("bad webhook signature")

// Verify checks a received webhook request: the signature in h must be the
// HMAC of "<timestamp>.<body>" with secret, compared in constant time, and
// the timestamp within tolerance of now (to refuse replays).
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: missing or malformed %s: %w", HeaderTimestamp, ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("verify webhook: timestamp %s is %s away from now (tolerance %s): %w", ts, d.Round(time.Second), tolerance, ErrBadSignature)
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("verify webhook: %s does not match the body: %w", HeaderSignature, ErrBadSignature)
	}
	return nil
}
