package guardcontroller

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/vibestack/rollback/pkg/rollout"
)

// TestEventsAndLogsHideCheckURLCredentials: an upper-case scheme (which the
// controller's own redactor used to miss) and a password holding '@' never
// reach an Event or a log line.
func TestEventsAndLogsHideCheckURLCredentials(t *testing.T) {
	cs := fake.NewClientset()
	var log bytes.Buffer
	r := &recorder{cs: cs, clock: clocktesting.NewFakeClock(time.Unix(0, 0)), identity: "test", log: slog.New(slog.NewTextHandler(&log, nil))}
	d, _ := rollout.InfoOf(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}})
	r.event(context.Background(), d, "Warning", ReasonGuardFailed, "health check %s did not answer 2xx", "HTTPS://admin:pw-S3CRET@web.shop.svc/h?token=T0KEN-S3CRET")
	r.event(context.Background(), d, "Warning", ReasonGuardFailed, "check %s", "http://admin:p@ss-S3CRET@web.shop.svc/")
	evs, err := cs.CoreV1().Events("shop").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(evs.Items) != 2 {
		t.Fatalf("events: %v %v", evs, err)
	}
	for _, e := range evs.Items {
		if strings.Contains(e.Message, "S3CRET") {
			t.Errorf("event message leaks: %q", e.Message)
		}
	}
	if strings.Contains(log.String(), "S3CRET") {
		t.Errorf("log leaks: %q", log.String())
	}
}

func TestSecretsOf(t *testing.T) {
	s := Settings{CheckURLs: []string{"http://u:pw-1234@h/x?token=tok-5678"}, PrometheusURL: "https://p:prom-9999@prom.monitoring.svc:9090"}
	got := strings.Join(secretsOf(s), " ")
	for _, want := range []string{"pw-1234", "tok-5678", "prom-9999"} {
		if !strings.Contains(got, want) {
			t.Errorf("secretsOf misses %s: %s", want, got)
		}
	}
}
