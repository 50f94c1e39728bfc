// Package webhooktest is the real HTTP receiver of the end-to-end tests'
// notifications (generic webhook, Slack, PagerDuty): it records every POST,
// checks the generic webhook's HMAC signature when it knows the secret, can
// answer slowly or fail on purpose, and answers as each service does.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Receiver is one HTTP server on loopback.
type Receiver struct {
	// URL is the server's base URL (http://127.0.0.1:PORT).
	URL string

	secret []byte
	delay  time.Duration
	mu     sync.Mutex
	posts  []Post
	bad    int
}

// Post is one notification received.
type Post struct {
	Path string
	Body string
	// Event is the body decoded as JSON (nil when it is not).
	Event map[string]any
}

// Options say how the receiver answers.
type Options struct {
	// Secret, when set, is the generic webhook's HMAC secret: a POST whose
	// X-Rollback-Signature does not match is counted (BadSignatures).
	Secret string
	// Delay is how long each POST waits before the answer (a slow receiver).
	Delay time.Duration
}

// New starts a receiver that stops when the test ends. Paths under
// /services/ (Slack's webhooks) answer 500, /v2/enqueue (PagerDuty's
// Events API) 202 with PagerDuty's body, anything else 204; GET answers
// 200 (reachability checks).
func New(t testing.TB, o Options) *Receiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{URL: "http://" + l.Addr().String(), secret: []byte(o.Secret), delay: o.Delay}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

// ServeHTTP records a POST and answers it.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, _ := io.ReadAll(req.Body)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	p := Post{Path: req.URL.Path, Body: string(body)}
	_ = json.Unmarshal(body, &p.Event)
	r.mu.Lock()
	if len(r.secret) > 0 && !strings.HasPrefix(req.URL.Path, "/services/") && !strings.HasPrefix(req.URL.Path, "/v2/") {
		mac := hmac.New(sha256.New, r.secret)
		mac.Write([]byte(req.Header.Get("X-Rollback-Timestamp") + "." + string(body)))
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(req.Header.Get("X-Rollback-Signature"))) {
			r.bad++
		}
	}
	r.posts = append(r.posts, p)
	r.mu.Unlock()
	switch {
	case strings.HasPrefix(req.URL.Path, "/services/"):
		w.WriteHeader(http.StatusInternalServerError)
	case strings.HasPrefix(req.URL.Path, "/v2/enqueue"):
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// Posts returns every POST received, in order.
func (r *Receiver) Posts() []Post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Post(nil), r.posts...)
}

// Kinds returns the "kind" of every event received, in order.
func (r *Receiver) Kinds() []string {
	var out []string
	for _, p := range r.Posts() {
		k, _ := p.Event["kind"].(string)
		out = append(out, k)
	}
	return out
}

// Bodies returns every body received, in order.
func (r *Receiver) Bodies() []string {
	var out []string
	for _, p := range r.Posts() {
		out = append(out, p.Body)
	}
	return out
}

// BadSignatures counts the webhook POSTs whose HMAC signature was wrong.
func (r *Receiver) BadSignatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}
