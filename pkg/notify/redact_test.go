package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vibestack/rollback/pkg/redact"
)

// TestNotificationsAreRedacted: a db step error holding the database URL
// with its password, and a known secret, reach no receiver (webhook, Slack,
// PagerDuty) and no delivery result.
func TestNotificationsAreRedacted(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if strings.Contains(r.URL.Path, "enqueue") {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"success","dedup_key":"x"}`))
		}
	}))
	defer srv.Close()
	d := &Dispatcher{
		Channels: []Channel{
			NewWebhook(srv.URL+"/hook", []byte("hmac-S3CRET"), srv.Client()),
			NewSlack(srv.URL+"/services/T0/B0/slack-S3CRET", srv.Client()),
			NewPagerDuty("pd-key-S3CRET", srv.URL+"/v2/enqueue", srv.Client()),
		},
		Redactor: redact.New("known-S3CRET"),
	}
	d.Send(Event{Incident: "inc-1", App: "web", Kind: KindFailed,
		Summary: "step db failed: connect to postgres://app:db-S3CRET@db/shop: refused; HTTPS://u:chk-S3CRET@h/?token=tok-S3CRET",
		Reason:  "known-S3CRET", Fields: []Field{{Name: "error", Value: "password=pw-S3CRET"}}})
	res := d.Wait(context.Background())
	if len(res) != 3 {
		t.Fatalf("results %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 3 {
		t.Fatalf("bodies: %d", len(bodies))
	}
	for _, b := range bodies {
		// PagerDuty needs its routing key in the body; nothing else is secret.
		if strings.Contains(strings.ReplaceAll(b, `"routing_key":"pd-key-S3CRET"`, ""), "S3CRET") {
			t.Errorf("a receiver got a secret: %s", b)
		}
	}
	for _, r := range res {
		if strings.Contains(r.Err, "S3CRET") {
			t.Errorf("result leaks: %+v", r)
		}
	}
}
