//go:build e2e

package incident_test

import (
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/webhooktest"
)

// webhookSecret signs the generic webhook; it must never be printed.
const webhookSecret = "whsec-Incident-7Hq2"

// receiver is the real HTTP receiver of the incident's webhook; hookURL is
// the URL the runbook's webhook posts to (its token must never be printed).
type receiver struct {
	*webhooktest.Receiver
	url string
}

// newReceiver starts a receiver that checks the webhook's HMAC signatures
// and answers after delay.
func newReceiver(t *testing.T, delay time.Duration) *receiver {
	t.Helper()
	r := webhooktest.New(t, webhooktest.Options{Secret: webhookSecret, Delay: delay})
	return &receiver{Receiver: r, url: r.URL + "/hooks/rollback?token=tok-Incident-44x"}
}
