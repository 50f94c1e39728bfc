package rollout

import (
	"net/http"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/safehttp"
)

// DefaultCheckTimeout bounds one health-check request when Verification
// has no HTTP client.
const DefaultCheckTimeout = 5 * time.Second

// Verification is how every rollout is watched and verified, by every path
// (app undo and status, config undo, app restart, rollback run, guard, the
// controller, drills): one value, bound to the command-line flags once.
// A rollout is verified when every desired replica of the new revision is
// updated, ready and available, no old replica is left, restart counts stay
// stable over Settle, and every CheckURLs answers 2xx; it fails fast on a
// pod that cannot become healthy by waiting (PodFailureOf).
type Verification struct {
	// Timeout ends a watch with verdict timeout; 0 waits for the context.
	Timeout time.Duration `json:"timeout"`
	// Settle is how long restart counts must stay stable after the rollout.
	Settle time.Duration `json:"settle"`
	// CheckURLs must each answer 2xx after the settle window.
	CheckURLs []string `json:"checkURLs,omitempty"`
	// HTTPClient makes the CheckURLs requests; nil uses one with a
	// DefaultCheckTimeout timeout.
	HTTPClient *http.Client `json:"-"`
	// Clock is injected for tests; nil is the real clock.
	Clock clock.WithTicker `json:"-"`
}

// clock returns v's clock, the real one when unset.
func (v Verification) clock() clock.WithTicker {
	if v.Clock == nil {
		return clock.RealClock{}
	}
	return v.Clock
}

// httpClient returns v's HTTP client, a default one when unset.
func (v Verification) httpClient() *http.Client {
	if v.HTTPClient == nil {
		return safehttp.NewClient(DefaultCheckTimeout)
	}
	return v.HTTPClient
}

// Now returns the time on v's clock.
func (v Verification) Now() time.Time { return v.clock().Now() }

// WithClock returns v with its clock set when unset: callers that already
// hold a clock share it with the verification.
func (v Verification) WithClock(c clock.WithTicker) Verification {
	if v.Clock == nil {
		v.Clock = c
	}
	return v
}
