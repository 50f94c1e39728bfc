package notify

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/runbook"
)

const token = "T000/B000/XXXXsecretXXXX"

// receiver records the requests it gets; handle decides each answer.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
}

func newReceiver(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, body)
		rc.heads = append(rc.heads, r.Header.Clone())
		n := len(rc.bodies)
		rc.mu.Unlock()
		if handle != nil {
			handle(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() ([][]byte, []http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...), append([]http.Header(nil), rc.heads...)
}

var ev = Event{
	Incident: "inc-20261126-033122-7f3a", App: "vibestack-app", Kind: KindStarted, Actor: "ana@laptop",
	Reason: "v2 crashes", Summary: "rolling back app, config, db",
	Fields:    []Field{{Name: "revision", Value: "5 -> 3"}},
	ReportURL: "incidents/inc-20261126-033122-7f3a.md", Escalation: []string{"primary: Ana (+1 555)"},
	Time: time.Date(2026, 11, 26, 3, 31, 22, 0, time.UTC),
}

func send(t *testing.T, d *Dispatcher, evs ...Event) []Result {
	t.Helper()
	for _, e := range evs {
		d.Send(e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.Wait(ctx)
}

func TestSlackBlocks(t *testing.T) {
	rc := newReceiver(t, nil)
	d := &Dispatcher{Channels: []Channel{NewSlack(rc.URL+"/services/"+token, nil)}}
	failed := ev
	failed.Kind = KindFailed
	res := send(t, d, ev, failed)
	if len(res) != 2 || res[0].Err != "" || res[1].Err != "" {
		t.Fatalf("results %+v", res)
	}
	bodies, _ := rc.got()
	var msg struct {
		Text   string
		Blocks []struct {
			Type     string
			Text     *struct{ Text string }
			Fields   []struct{ Text string }
			Elements []struct{ Text string }
		}
	}
	if err := json.Unmarshal(bodies[1], &msg); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, b := range msg.Blocks {
		types = append(types, b.Type)
	}
	if strings.Join(types, ",") != "header,section,section,context" {
		t.Errorf("block types %v, want header,section,section(escalation),context:\n%s", types, bodies[1])
	}
	all := string(bodies[1])
	for _, want := range []string{"Rollback FAILED: vibestack-app", "*Who*\\nana@laptop", "*Why*\\nv2 crashes", "*revision*\\n5 -\\u003e 3", "primary: Ana", "inc-20261126-033122-7f3a", "report: incidents/"} {
		if !strings.Contains(all, want) {
			t.Errorf("slack payload lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(string(bodies[0]), "Escalation") {
		t.Errorf("escalation shown on start: %s", bodies[0])
	}
}

func TestWebhookSignature(t *testing.T) {
	secret := []byte("hmac-s3cret")
	rc := newReceiver(t, nil)
	res := send(t, &Dispatcher{Channels: []Channel{NewWebhook(rc.URL+"/hook?token=abc", secret, nil)}}, ev)
	if len(res) != 1 || res[0].Err != "" {
		t.Fatalf("results %+v", res)
	}
	bodies, heads := rc.got()
	h := heads[0]
	if err := Verify(secret, h, bodies[0], time.Now(), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v (headers %v)", err, h)
	}
	if h.Get(HeaderEvent) != KindStarted || !strings.HasPrefix(h.Get(HeaderSignature), "sha256=") {
		t.Errorf("headers %v", h)
	}
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		now    time.Time
	}{
		{"wrong secret", []byte("other"), bodies[0], time.Now()},
		{"changed body", secret, append([]byte(" "), bodies[0]...), time.Now()},
		{"replayed late", secret, bodies[0], time.Now().Add(time.Hour)},
	}
	for _, tt := range tests {
		if err := Verify(tt.secret, h, tt.body, tt.now, 5*time.Minute); err == nil {
			t.Errorf("%s: Verify succeeded", tt.name)
		}
	}
	var got Event
	if err := json.Unmarshal(bodies[0], &got); err != nil || got.Incident != ev.Incident || got.Fields[0].Value != "5 -> 3" {
		t.Errorf("body %s: %v", bodies[0], err)
	}
}

func TestPagerDutyTriggerResolve(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success","dedup_key":"x"}`)
	})
	progress, done := ev, ev
	progress.Kind, done.Kind = KindProgress, KindSucceeded
	res := send(t, &Dispatcher{Channels: []Channel{NewPagerDuty("rk-secret", rc.URL+"/v2/enqueue", nil)}}, ev, progress, done)
	if len(res) != 2 || res[0].Err != "" || res[1].Err != "" {
		t.Fatalf("results %+v (progress must not be sent)", res)
	}
	bodies, _ := rc.got()
	want := []struct{ action, severity string }{{"trigger", "warning"}, {"resolve", "info"}}
	for i, w := range want {
		var e struct {
			RoutingKey string `json:"routing_key"`
			Action     string `json:"event_action"`
			DedupKey   string `json:"dedup_key"`
			Payload    struct {
				Summary, Source, Severity string
				Details                   map[string]any `json:"custom_details"`
			}
		}
		if err := json.Unmarshal(bodies[i], &e); err != nil {
			t.Fatal(err)
		}
		if e.RoutingKey != "rk-secret" || e.Action != w.action || e.DedupKey != ev.Incident || e.Payload.Severity != w.severity || e.Payload.Details["reason"] != "v2 crashes" {
			t.Errorf("event %d = %s", i, bodies[i])
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	var calls []Result
	var mu sync.Mutex
	d := &Dispatcher{Channels: []Channel{NewWebhook(rc.URL, nil, nil)}, Backoff: time.Millisecond,
		OnResult: func(r Result) { mu.Lock(); calls = append(calls, r); mu.Unlock() }}
	res := send(t, d, ev)
	if len(res) != 1 || res[0].Attempts != 3 || res[0].Err != "" || len(calls) != 1 {
		t.Fatalf("results %+v, callbacks %+v; want delivered on attempt 3", res, calls)
	}
}

func TestFailuresAreBoundedAndSecretFree(t *testing.T) {
	slow := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	bad := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + l.Addr().String()
	l.Close()

	d := &Dispatcher{
		Channels: []Channel{
			NewSlack(slow.URL+"/services/"+token, nil),
			NewWebhook(down+"/hook/"+token, []byte("hmac-s3cret"), nil),
			NewPagerDuty("rk-"+token, bad.URL, nil),
		},
		Timeout: 100 * time.Millisecond, Attempts: 2, Backoff: 10 * time.Millisecond,
	}
	start := time.Now()
	d.Send(ev)
	// A Send that waited for a delivery would take at least one timeout.
	if el := time.Since(start); el > 90*time.Millisecond {
		t.Errorf("Send blocked for %v", el)
	}
	res := d.Wait(context.Background())
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("deliveries took %v, want bounded by timeout x attempts", el)
	}
	want := map[string]struct {
		attempts int
		err      string
	}{
		"slack":     {2, "slack post (" + strings.TrimPrefix(slow.URL, "http://") + "): timed out"},
		"webhook":   {2, "connection refused"},
		"pagerduty": {1, "HTTP 403 Forbidden"}, // 4xx is not retried
	}
	if len(res) != 3 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		w := want[r.Channel]
		if r.Attempts != w.attempts || !strings.Contains(r.Err, w.err) {
			t.Errorf("%s: %+v, want %d attempts and error with %q", r.Channel, r, w.attempts, w.err)
		}
		for _, s := range []string{token, "XXXXsecret", "hmac-s3cret", "/services/", "/hook/"} {
			if strings.Contains(r.Err, s) {
				t.Errorf("%s result leaks %q: %s", r.Channel, s, r.Err)
			}
		}
		t.Logf("%s: %d attempts: %s", r.Channel, r.Attempts, r.Err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for _, ch := range d.Channels {
		if err := ch.Check(ctx); ch.Name() == "webhook" && (err == nil || strings.Contains(err.Error(), token)) {
			t.Errorf("check of a down webhook: %v", err)
		}
	}
}

func TestOrderPerChannel(t *testing.T) {
	rc := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			time.Sleep(50 * time.Millisecond) // the first is slow; the second must still come after it
		}
	})
	d := &Dispatcher{Channels: []Channel{NewWebhook(rc.URL, nil, nil)}}
	var evs []Event
	for i, k := range []string{KindStarted, KindProgress, KindProgress, KindSucceeded} {
		e := ev
		e.Kind, e.Step = k, string(rune('a'+i))
		evs = append(evs, e)
	}
	send(t, d, evs...)
	bodies, _ := rc.got()
	for i, b := range bodies {
		var e Event
		json.Unmarshal(b, &e)
		if e.Step != evs[i].Step {
			t.Errorf("delivery %d was step %q, want %q", i, e.Step, evs[i].Step)
		}
	}
}

func TestFromRunbook(t *testing.T) {
	n := runbook.Notifications{
		Slack:     &runbook.Slack{WebhookURLFromEnv: "SLACK_URL"},
		Webhook:   &runbook.Webhook{URLFromEnv: "HOOK_URL", HMACSecretFromEnv: "HOOK_SECRET"},
		PagerDuty: &runbook.PagerDuty{RoutingKeyFromEnv: "PD_KEY", EventsURL: "http://127.0.0.1:1"},
	}
	full := map[string]string{"SLACK_URL": "https://hooks.slack.com/services/" + token, "HOOK_URL": "https://h/x", "HOOK_SECRET": "s", "PD_KEY": "k"}
	tests := []struct {
		name     string
		env      map[string]string
		channels int
		wantErr  string
	}{
		{"all set", full, 3, ""},
		{"missing key", map[string]string{"SLACK_URL": full["SLACK_URL"], "HOOK_URL": "https://h/x", "HOOK_SECRET": "s"}, 0, "PD_KEY (the PagerDuty Events v2 routing key) is empty"},
		{"not a url", map[string]string{"SLACK_URL": "hooks.slack.com/" + token, "HOOK_URL": "https://h/x", "HOOK_SECRET": "s", "PD_KEY": "k"}, 0, "SLACK_URL is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chs, secrets, err := FromRunbook(n, func(k string) string { return tt.env[k] }, nil)
			if tt.wantErr == "" {
				if err != nil || len(chs) != tt.channels || !containsAll(secrets, full["SLACK_URL"], "/services/"+token, "https://h/x", "s", "k") {
					t.Fatalf("FromRunbook = %d channels, %d secrets, %v", len(chs), len(secrets), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || outcome.KindOf(err) != outcome.Refused || strings.Contains(err.Error(), token) {
				t.Errorf("err = %v (code %d), want refusal with %q", err, outcome.KindOf(err), tt.wantErr)
			}
		})
	}
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}
