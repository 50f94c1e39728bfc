//go:build e2e

// Package guard_test runs `rollback guard` end to end: the built CLI as its
// own process (the way a CI step runs it) against the sandbox control plane,
// a real Prometheus scraping the sandbox Service endpoint, a load generator,
// and a local webhook receiver.
package guard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/promenv"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/e2e/webhooktest"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/rollout"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

func testCtx(t *testing.T, d time.Duration) context.Context { return clitest.Context(t, d) }

// start runs the built binary with env and args (plus --kubeconfig).
func start(t *testing.T, env map[string]string, args ...string) *clitest.Process {
	t.Helper()
	// Incident journals go to the test's directory, not the user's.
	full := map[string]string{"ROLLBACK_JOURNAL_DIR": t.TempDir()}
	maps.Copy(full, env)
	return clitest.Start(t, clitest.Binary(t), full, append(args, "--kubeconfig", sb.Kubeconfig)...)
}

// guardResult decodes the -o json answer of p.
func guardResult(t *testing.T, p *clitest.Process) *guard.Result {
	t.Helper()
	var r guard.Result
	if err := json.Unmarshal([]byte(p.Stdout()), &r); err != nil {
		t.Fatalf("decode -o json: %v\n%s", err, p.Stdout())
	}
	return &r
}

// app is a guarded Deployment "web" with a Service, load and Prometheus.
type app struct {
	ns   string
	url  string
	prom *promenv.Server
}

// newApp creates Deployment web (2 replicas, progressDeadlineSeconds 600) at
// example/web:v1 behind Service web, stamps it known-good, starts load at
// 20 req/s and (unless noProm) a Prometheus scraping the Service endpoint.
func newApp(t *testing.T, withProm bool) *app {
	t.Helper()
	ctx := testCtx(t, 5*time.Minute)
	ns := sb.Namespace(t)
	replicas, deadline := int32(2), int32(600)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: map[string]string{"app": "web", "app.kubernetes.io/part-of": "shop"}},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			ProgressDeadlineSeconds: &deadline,
			Selector:                &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/web:v1"}}},
			},
		},
	}
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Clientset.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clients := rollout.NewClients(sb.Clientset, ns)
	eventually(t, 60*time.Second, "v1 rolled out and stamped known-good", func() error {
		return rollout.MarkGood(ctx, clients, "web", time.Now())
	})
	url, err := sb.Endpoint(ctx, ns, "web")
	if err != nil {
		t.Fatal(err)
	}
	a := &app{ns: ns, url: url}
	loadCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go promenv.Load(loadCtx, url+"/", 20)
	if withProm {
		a.prom = promenv.Start(ctx, t, func() []promenv.Target {
			return []promenv.Target{{Addr: promenv.HostOf(url), Labels: map[string]string{"namespace": ns, "service": "web"}}}
		})
		if err := a.prom.WaitData(ctx, fmt.Sprintf(`sum(rate(http_requests_total{namespace=%q}[5s])) > 0`, ns), 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// errorRate is the error-ratio query of the tests, a template over the
// Deployment's namespace. "or vector(0)": with no 5xx series at all the
// numerator is an empty vector, which would make every round inconclusive.
const errorRate = `(sum(rate(http_requests_total{namespace="{{.namespace}}",code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{namespace="{{.namespace}}"}[5s]))`

// release sets the image of web (a new revision).
func (a *app) release(t *testing.T, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
	if _, err := sb.Clientset.AppsV1().Deployments(a.ns).Patch(testCtx(t, time.Minute), "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// image returns the current image of web.
func (a *app) image(t *testing.T) string {
	t.Helper()
	d, err := sb.Clientset.AppsV1().Deployments(a.ns).Get(testCtx(t, time.Minute), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// revisions returns web's revisions as `app history` sees them.
func (a *app) history(t *testing.T) *rollout.HistoryResult {
	t.Helper()
	h := rollout.History{Clients: rollout.NewClients(sb.Clientset, a.ns)}
	res, err := h.Run(testCtx(t, time.Minute), "web")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// revision returns revision n of web.
func (a *app) revision(t *testing.T, n int64) rollout.Revision {
	t.Helper()
	for _, r := range a.history(t).Revisions {
		if r.Number == n {
			return r
		}
	}
	t.Fatalf("web has no revision %d", n)
	return rollout.Revision{}
}

func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// newReceiver starts the real HTTP receiver of guard's webhook.
func newReceiver(t *testing.T) *webhooktest.Receiver {
	return webhooktest.New(t, webhooktest.Options{Secret: webhookSecret})
}

// runbookFile writes a runbook for web in ns with a generic webhook whose
// URL and HMAC secret come from GUARD_WEBHOOK_URL and GUARD_WEBHOOK_SECRET.
func runbookFile(t *testing.T, ns string) string {
	t.Helper()
	return writeRunbook(t, ns, `notifications:
  webhook:
    urlFromEnv: GUARD_WEBHOOK_URL
    hmacSecretFromEnv: GUARD_WEBHOOK_SECRET
`)
}

// writeRunbook writes rollback.yaml of app shop-web (Deployment web in ns,
// context sandbox) with the YAML sections rest into a new directory and
// returns its path.
func writeRunbook(t *testing.T, ns, rest string) string {
	t.Helper()
	rb := fmt.Sprintf(`apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: shop-web
clusters:
  - context: sandbox
    namespace: %s
deployments:
  - web
`, ns) + rest
	p := filepath.Join(t.TempDir(), "rollback.yaml")
	if err := os.WriteFile(p, []byte(rb), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
