//go:build e2e

package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/report"
	"github.com/vibestack/rollback/pkg/runbook"
)

const (
	slackToken = "T0001/B0001/SlackS3cretToken"
	hookToken  = "hook-s3cret-token"
	hmacSecret = "hmac-s3cret-value"
	pdKey      = "pd-routing-s3cret-key"
)

var allSecrets = []string{slackToken, hookToken, hmacSecret, pdKey, "S3cret", "s3cret"}

// setup parses a runbook with the three channels pointed at the given base
// URLs, builds them with FromRunbook, and opens a journal mirrored into a
// fresh namespace whose OnResult records every delivery.
func setup(t *testing.T, slackBase, hookBase, pdBase string) (*notify.Dispatcher, *journal.Journal, string, *strings.Builder) {
	t.Helper()
	rb, err := runbook.Parse("rollback.yaml", []byte(fmt.Sprintf(`apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: vibestack-app
clusters: [{context: sandbox, namespace: shop}]
deployments: [web]
notifications:
  slack: {webhookURLFromEnv: SLACK_WEBHOOK_URL}
  webhook: {urlFromEnv: ROLLBACK_WEBHOOK_URL, hmacSecretFromEnv: ROLLBACK_WEBHOOK_SECRET}
  pagerduty: {routingKeyFromEnv: PAGERDUTY_ROUTING_KEY, eventsURL: %s/v2/enqueue}
`, pdBase)))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SLACK_WEBHOOK_URL":       slackBase + "/services/" + slackToken,
		"ROLLBACK_WEBHOOK_URL":    hookBase + "/hooks/rollback?token=" + hookToken,
		"ROLLBACK_WEBHOOK_SECRET": hmacSecret,
		"PAGERDUTY_ROUTING_KEY":   pdKey,
	}
	channels, secrets, err := notify.FromRunbook(rb.Notifications, func(k string) string { return env[k] }, nil)
	if err != nil || len(channels) != 3 {
		t.Fatalf("FromRunbook: %d channels, %v", len(channels), err)
	}
	ns := sb.Namespace(t)
	j, err := journal.Open(journal.Options{
		Dir: t.TempDir(), Incident: journal.NewID(time.Now()), Actor: "ana@laptop", Redact: secrets,
		Mirror: &journal.ConfigMapMirror{ConfigMaps: sb.Clientset.CoreV1().ConfigMaps(ns), App: "vibestack-app"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	if _, err := j.Append(ctx(t), journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "vibestack-app", "reason": "v2 crashes"}}); err != nil {
		t.Fatal(err)
	}
	log := &strings.Builder{}
	var logMu sync.Mutex
	d := &notify.Dispatcher{
		Channels: channels, Timeout: 300 * time.Millisecond, Attempts: 2, Backoff: 50 * time.Millisecond, Clock: clock.RealClock{},
		OnResult: func(r notify.Result) { // what the orchestrator does: journal every delivery
			e := journal.Entry{Step: "notify", Action: "notify.sent", Result: journal.ResultOK,
				Inputs: map[string]any{"channel": r.Channel, "kind": r.Kind, "attempts": r.Attempts}}
			if r.Err != "" {
				e.Action, e.Result, e.Error = "notify.failed", journal.ResultFailed, r.Err
			}
			if _, err := j.Append(ctx(t), e); err != nil {
				t.Error(err)
			}
			logMu.Lock()
			fmt.Fprintf(log, "%s %s attempts=%d err=%q\n", r.Channel, r.Kind, r.Attempts, r.Err)
			logMu.Unlock()
		},
	}
	return d, j, ns, log
}

func events(id string) []notify.Event {
	base := notify.Event{Incident: id, App: "vibestack-app", Actor: "ana@laptop", Reason: "v2 crashes", Time: time.Now(),
		Escalation: []string{"primary: Ana Ops (+1 555 0100)"}}
	started, progress, done := base, base, base
	started.Kind, started.Summary = notify.KindStarted, "rolling back app, config, db"
	progress.Kind, progress.Step, progress.Summary = notify.KindProgress, "app", "deployment/web back on revision 3"
	progress.Fields = []notify.Field{{Name: "revision", Value: "5 -> 3"}, {Name: "image", Value: "vibestack/web:v2 -> v1"}}
	done.Kind, done.Summary, done.ReportURL = notify.KindSucceeded, "all steps done", "incidents/"+id+".md"
	return []notify.Event{started, progress, done}
}

func TestThreeChannels(t *testing.T) {
	slack := newReceiver(t, 0, nil)
	hook := newReceiver(t, 0, nil)
	pd := newReceiver(t, 0, pagerDutyAnswer)
	d, j, ns, log := setup(t, slack.srv.URL, hook.srv.URL, pd.srv.URL)
	for _, ch := range d.Channels {
		if err := ch.Check(ctx(t)); err != nil {
			t.Errorf("check %s: %v", ch.Name(), err)
		}
	}
	if n := len(slack.requests()) + len(hook.requests()) + len(pd.requests()); n != 0 {
		t.Errorf("Check posted %d messages", n)
	}
	for _, ev := range events(j.ID()) {
		d.Send(ev)
	}
	results := d.Wait(ctx(t))
	if len(results) != 8 { // 3 slack + 3 webhook + 2 pagerduty (no progress)
		t.Fatalf("results %+v", results)
	}
	for _, r := range results {
		if r.Err != "" || r.Attempts != 1 {
			t.Errorf("result %+v", r)
		}
	}

	// Slack: Block Kit messages at the webhook path.
	sr := slack.requests()
	if len(sr) != 3 || sr[0].path != "/services/"+slackToken {
		t.Fatalf("slack got %d requests", len(sr))
	}
	var msg struct {
		Text   string
		Blocks []map[string]any
	}
	if err := json.Unmarshal(sr[1].body, &msg); err != nil || len(msg.Blocks) < 3 || msg.Blocks[0]["type"] != "header" {
		t.Errorf("slack progress message: %v\n%s", err, sr[1].body)
	}
	for _, want := range []string{"Rollback progress: vibestack-app", "5 -\\u003e 3", "ana@laptop", "v2 crashes", j.ID()} {
		if !bytes.Contains(sr[1].body, []byte(want)) {
			t.Errorf("slack progress lacks %q: %s", want, sr[1].body)
		}
	}
	// Webhook: JSON Event, signed.
	hr := hook.requests()
	if len(hr) != 3 {
		t.Fatalf("webhook got %d requests", len(hr))
	}
	for i, r := range hr {
		if err := notify.Verify([]byte(hmacSecret), r.header, r.body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook %d: %v", i, err)
		}
		var ev notify.Event
		if err := json.Unmarshal(r.body, &ev); err != nil || ev.Incident != j.ID() || r.header.Get(notify.HeaderEvent) != ev.Kind {
			t.Errorf("webhook %d body %s: %v", i, r.body, err)
		}
	}
	// PagerDuty: trigger then resolve, one dedup key.
	pr := pd.requests()
	if len(pr) != 2 || pr[0].path != "/v2/enqueue" {
		t.Fatalf("pagerduty got %+v", pr)
	}
	for i, want := range []string{"trigger", "resolve"} {
		var e map[string]any
		json.Unmarshal(pr[i].body, &e)
		if e["event_action"] != want || e["dedup_key"] != j.ID() || e["routing_key"] != pdKey {
			t.Errorf("pagerduty event %d: %s", i, pr[i].body)
		}
	}
	j.Flush(ctx(t)) // the mirror is written in the background
	mirror, err := journal.ReadMirror(ctx(t), sb.Clientset.CoreV1().ConfigMaps(ns), j.ID())
	if err != nil || len(mirror) != 9 {
		t.Fatalf("mirror: %d entries, %v", len(mirror), err)
	}
	t.Logf("deliveries:\n%s", log)
}

func TestReceiverDownAndSlow(t *testing.T) {
	slow := newReceiver(t, time.Second, nil) // slack answers after the 300ms timeout
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() // webhook: connection refused
	l.Close()
	pd := newReceiver(t, 0, pagerDutyAnswer)
	d, j, ns, log := setup(t, slow.srv.URL, down, pd.srv.URL)

	start := time.Now()
	for _, ev := range events(j.ID()) {
		d.Send(ev)
	}
	// A Send that waited for a delivery would take at least one client
	// timeout (300ms) per event; the bound leaves room for a loaded machine.
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Errorf("Send blocked for %v", el)
	}
	// A caller that cannot wait longer gets the results so far, at once.
	short, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	partial := d.Wait(short)
	cancel()
	// Waiting for everything takes about 2s (below); a Wait that honours
	// its context returns long before.
	if el := time.Since(start); el > 1200*time.Millisecond || len(partial) == 8 {
		t.Errorf("Wait(100ms) returned %d results after %v", len(partial), el)
	}
	// Meanwhile the rollback goes on: the journal is usable at once.
	if _, err := j.Append(ctx(t), journal.Entry{Step: "app", Action: "step.completed", Target: "deployment/web", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	results := d.Wait(ctx(t))
	elapsed := time.Since(start)
	// 3 slack events x 2 attempts x 300ms + backoff, in order: about 2s; a
	// delivery that waited for the slow receiver's answers would take 6s
	// and more.
	if elapsed > 5*time.Second {
		t.Errorf("Wait took %v", elapsed)
	}
	t.Logf("all deliveries done after %v:\n%s", elapsed.Round(time.Millisecond), log)
	byChannel := map[string][]notify.Result{}
	for _, r := range results {
		byChannel[r.Channel] = append(byChannel[r.Channel], r)
	}
	for _, r := range byChannel["slack"] {
		if r.Attempts != 2 || !strings.Contains(r.Err, "slack post ("+strings.TrimPrefix(slow.srv.URL, "http://")+"): timed out") {
			t.Errorf("slow slack: %+v", r)
		}
	}
	for _, r := range byChannel["webhook"] {
		if r.Attempts != 2 || !strings.Contains(r.Err, "connection refused") {
			t.Errorf("down webhook: %+v", r)
		}
	}
	if len(byChannel["slack"]) != 3 || len(byChannel["webhook"]) != 3 || len(byChannel["pagerduty"]) != 2 || byChannel["pagerduty"][0].Err != "" {
		t.Errorf("results %+v", results)
	}
	for _, ch := range d.Channels {
		err := ch.Check(ctx(t))
		if (ch.Name() == "webhook") != (err != nil) {
			t.Errorf("check %s: %v", ch.Name(), err)
		}
	}

	// The failures are in the journal, the mirror and the report; no secret anywhere.
	if _, err := j.Append(ctx(t), journal.Entry{Action: journal.ActionIncidentClosed, Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	var rep bytes.Buffer
	if err := report.Write(&rep, j.Entries()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(rep.String(), "| FAILED: "); n != 6 {
		t.Errorf("report lists %d failed notifications, want 6:\n%s", n, rep.String())
	}
	local := readAll(t, j)
	cm, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx(t), journal.MirrorName(j.ID()), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmJSON, _ := json.Marshal(cm)
	resJSON, _ := json.Marshal(results)
	for what, text := range map[string]string{"results": string(resJSON), "journal file": local, "cluster mirror": string(cmJSON), "report": rep.String(), "log": log.String()} {
		for _, s := range allSecrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains secret %q", what, s)
			}
		}
	}
	if !strings.Contains(string(cmJSON), "notify.failed") {
		t.Errorf("mirror lacks notify.failed")
	}
}

func readAll(t *testing.T, j *journal.Journal) string {
	t.Helper()
	data, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
