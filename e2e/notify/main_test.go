//go:build e2e

// Package notify_test sends rollback notifications end to end: Slack,
// HMAC-signed webhook and PagerDuty Events v2 to real HTTP receivers on
// loopback, results journaled and mirrored into a real sandbox cluster.
package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context { return clitest.Context(t, time.Minute) }

// request is one request a receiver got.
type request struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a real HTTP server on loopback that records requests.
type receiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []request
	delay time.Duration
}

func newReceiver(t *testing.T, delay time.Duration, answer func(w http.ResponseWriter)) *receiver {
	rc := &receiver{delay: delay}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost {
			rc.mu.Lock()
			rc.reqs = append(rc.reqs, request{r.URL.Path, r.Header.Clone(), body})
			rc.mu.Unlock()
		}
		if rc.delay > 0 {
			select {
			case <-time.After(rc.delay):
			case <-r.Context().Done():
				return
			}
		}
		if answer != nil {
			answer(w)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

func pagerDutyAnswer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"success","message":"Event processed"}`)
}
