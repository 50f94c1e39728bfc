//go:build e2e

package incident_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// webhookSecret signs the generic webhook; it must never be printed.
const webhookSecret = "whsec-Incident-7Hq2"

// receiver is a real HTTP server on loopback that records the webhook
// notifications it receives and checks their HMAC signatures.
type receiver struct {
	url   string
	delay time.Duration
	mu    sync.Mutex
	got   []map[string]any
	raw   []string
	bad   int
}

func newReceiver(t *testing.T, delay time.Duration) *receiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	r := &receiver{url: "http://" + l.Addr().String() + "/hooks/rollback?token=tok-Incident-44x", delay: delay}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.WriteHeader(http.StatusOK) // reachability checks
		return
	}
	body, _ := io.ReadAll(req.Body)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(req.Header.Get("X-Rollback-Timestamp") + "." + string(body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var ev map[string]any
	_ = json.Unmarshal(body, &ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !hmac.Equal([]byte(want), []byte(req.Header.Get("X-Rollback-Signature"))) {
		r.bad++
	}
	r.got = append(r.got, ev)
	r.raw = append(r.raw, string(body))
	w.WriteHeader(http.StatusNoContent)
}

// kinds returns the kinds of the events received, in order.
func (r *receiver) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.got {
		k, _ := ev["kind"].(string)
		out = append(out, k)
	}
	return out
}

func (r *receiver) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.raw...)
}

func (r *receiver) badSignatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}
