package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/runbook"
)

// closedURL returns an http URL on a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func byName(checks []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range checks {
		m[c.Group+" "+c.Name] = c
	}
	return m
}

func TestHTTPHealthChecks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	closed := closedURL(t)
	tests := []struct {
		name   string
		url    string
		expect int
		want   Status
		shown  string
	}{
		{"healthy", srv.URL + "/healthz", 200, OK, "http " + srv.URL + "/healthz"},
		{"unhealthy is a warning", srv.URL + "/broken", 200, Warn, "http " + srv.URL + "/broken"},
		{"expected status", srv.URL + "/broken", 500, OK, "http " + srv.URL + "/broken"},
		{"no answer is unknown", closed + "/healthz?token=s3cr3t-token", 200, Unknown, "http " + closed + "/healthz?token=xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Options{Runbook: &runbook.Runbook{App: "a", HealthChecks: runbook.HealthChecks{
				HTTP: []runbook.HTTPCheck{{URL: tt.url, ExpectStatus: tt.expect}}}}}
			rep, err := o.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c, ok := byName(rep.Checks)["monitoring "+tt.shown]
			if !ok {
				t.Fatalf("no check %q in %+v", tt.shown, rep.Checks)
			}
			if c.Status != tt.want {
				t.Errorf("status %q, want %q (%s)", c.Status, tt.want, c.Detail)
			}
			if b, _ := json.Marshal(rep); strings.Contains(string(b), "s3cr3t") {
				t.Errorf("token in report: %s", b)
			}
		})
	}
}

func TestPrometheusUnreachableIsUnknown(t *testing.T) {
	maxV := 0.05
	url := closedURL(t)
	pc, err := promquery.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Prometheus: pc, Runbook: &runbook.Runbook{App: "a", HealthChecks: runbook.HealthChecks{
		Prometheus: &runbook.PrometheusChecks{URL: url, Queries: []runbook.PrometheusQuery{{Name: "error-rate", Query: "up", Max: &maxV}}}}}}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := byName(rep.Checks)["monitoring prometheus error-rate"]
	if c.Status != Unknown || !strings.Contains(c.Fix, "cannot verify the rollback without monitoring") {
		t.Errorf("check = %+v, want unknown with the monitoring fix", c)
	}
	if rep.Go {
		t.Error("GO without monitoring")
	}
}

// fakeChannel is a notification channel whose Check returns err.
type fakeChannel struct {
	name string
	err  error
}

func (f fakeChannel) Name() string                             { return f.name }
func (f fakeChannel) Send(context.Context, notify.Event) error { return nil }
func (f fakeChannel) Check(context.Context) error              { return f.err }

func TestNotifications(t *testing.T) {
	env := map[string]string{
		"SLACK_URL": "https://hooks.slack.test/services/T000/B000/sl4ck-t0ken",
		"HOOK_URL":  "https://hooks.example.test/rollback?sig=abc",
	}
	rb := &runbook.Runbook{App: "a", Notifications: runbook.Notifications{
		Slack:     &runbook.Slack{WebhookURLFromEnv: "SLACK_URL"},
		Webhook:   &runbook.Webhook{URLFromEnv: "HOOK_URL", HMACSecretFromEnv: "HOOK_SECRET"},
		PagerDuty: &runbook.PagerDuty{RoutingKeyFromEnv: "PD_KEY"},
	}}
	o := &Options{Runbook: rb, Getenv: func(k string) string { return env[k] },
		Channels: []notify.Channel{fakeChannel{name: "slack", err: errors.New("post https://hooks.slack.test/services/T000/B000/sl4ck-t0ken: 404")}}}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := byName(rep.Checks)
	for name, want := range map[string]Status{"slack": Warn, "webhook": Fail, "pagerduty": Fail} {
		if c := got["notifications "+name]; c.Status != want {
			t.Errorf("%s: %q, want %q (%s)", name, c.Status, want, c.Detail)
		}
	}
	if c := got["notifications webhook"]; !strings.Contains(c.Detail, "HOOK_SECRET") {
		t.Errorf("webhook detail %q does not name the missing variable", c.Detail)
	}
	if c := got["notifications slack"]; !strings.Contains(c.Detail, "https://hooks.slack.test") {
		t.Errorf("slack detail %q does not name the host", c.Detail)
	}
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), "sl4ck-t0ken") || strings.Contains(string(b), "T000/B000") {
		t.Errorf("webhook token in report: %s", b)
	}
}

func TestNoChannelsIsAWarning(t *testing.T) {
	rep, err := (&Options{Runbook: &runbook.Runbook{App: "a"}}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := byName(rep.Checks)["notifications channels"]; c.Status != Warn || !rep.Go {
		t.Errorf("check %+v, go %t; want a warning and GO", c, rep.Go)
	}
}

func TestDatabaseChecks(t *testing.T) {
	closed := strings.TrimPrefix(closedURL(t), "http://")
	tests := []struct {
		name  string
		steps []string
		url   string
		want  map[string]Status
	}{
		{"no url", nil, "", map[string]Status{"database url": Fail}},
		{"unreachable", nil, "postgres://app:pa55w0rd-x@" + closed + "/shop", map[string]Status{"database connection": Fail}},
		{"db not in steps", []string{"app"}, "", map[string]Status{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Options{Steps: tt.steps, DatabaseURL: tt.url, Timeout: 20 * time.Second, Runbook: &runbook.Runbook{App: "a", Steps: runbook.DefaultSteps,
				Database: &runbook.Database{URLFromEnv: "DATABASE_URL", MigrationsDir: t.TempDir(), BackupDir: t.TempDir()}}}
			rep, err := o.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := byName(rep.Checks)
			n := 0
			for k := range got {
				if strings.HasPrefix(k, "database ") {
					n++
				}
			}
			if len(tt.want) == 0 && n > 0 {
				t.Errorf("database checked without the db step: %+v", rep.Checks)
			}
			for name, st := range tt.want {
				if got[name].Status != st || got[name].Fix == "" {
					t.Errorf("%s: %+v, want %q with a fix", name, got[name], st)
				}
			}
			if b, _ := json.Marshal(rep); strings.Contains(string(b), "pa55w0rd") {
				t.Errorf("password in report: %s", b)
			}
		})
	}
}

func TestDeploymentChecksWithFakeCluster(t *testing.T) {
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	cs := fakeAuthz("alice", false)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop",
		Labels: map[string]string{"argocd.argoproj.io/instance": "shop-web"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}}}
	if _, err := cs.AppsV1().Deployments("shop").Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := &Options{Clock: clocktesting.NewFakeClock(when), Runbook: &runbook.Runbook{App: "web", Deployments: []string{"web", "missing"}},
		Clusters: []Cluster{{Context: "prod", Namespace: "shop", Client: cs}, {Context: "gone", Namespace: "shop", Err: errors.New(`context "gone" not found`)}}}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Check{}
	for _, c := range rep.Checks {
		got[c.Cluster+" "+c.Group+" "+c.Name] = c
	}
	for key, want := range map[string]Status{
		"prod revisions web":     Fail, // no earlier revision
		"prod revisions missing": Fail,
		"prod owners web":        Fail,
		"prod pods web":          OK,
		"gone access kubeconfig": Fail,
	} {
		if got[key].Status != want {
			t.Errorf("%s: %+v, want %q", key, got[key], want)
		}
	}
	if !strings.Contains(got["prod owners web"].Fix, "argocd app set shop-web --sync-policy none") {
		t.Errorf("owners fix %q", got["prod owners web"].Fix)
	}
	if rep.Go || rep.Problems != 4 {
		t.Errorf("go %t with %d problems, want NO-GO with 4", rep.Go, rep.Problems)
	}
}
