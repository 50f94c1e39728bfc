//go:build e2e

// Package preflight_test runs `rollback preflight` end to end against a real
// sandbox control plane (e2e/sandboxenv) and, for the database checks, the
// real PostgreSQL of `make deps` (scripts/ci/install-deps.sh).
package preflight_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context { return clitest.Context(t, 2*time.Minute) }

// run runs the rollback CLI in-process (as the admin unless args name a
// kubeconfig) and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig, Timeout: 2 * time.Minute}, args...).Split()
}

// app is the test application: Deployment "web" whose revision 1
// (web:v1) is stamped known-good and whose revision 2 (web:crash) crashes.
type app struct {
	ns, name string
	v1, v2   string
}

// newApp creates the application in a fresh namespace.
func newApp(t *testing.T, mutate ...func(*appsv1.Deployment)) app {
	t.Helper()
	a := app{ns: sb.Namespace(t), name: "web", v1: "registry.test/web:v1", v2: "registry.test/web:crash"}
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: a.ns, Labels: map[string]string{"app": a.name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": a.name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": a.name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: a.v1}}},
			},
		},
	}
	for _, m := range mutate {
		m(d)
	}
	cs := sb.Clientset.AppsV1().Deployments(a.ns)
	if _, err := cs.Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	waitRevision(t, a, 1)
	eventually(t, "v1 rolled out", func() bool {
		d, err := cs.Get(ctx(t), a.name, metav1.GetOptions{})
		return err == nil && d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas == replicas && d.Status.UpdatedReplicas == replicas
	})
	if err := rollout.MarkGood(ctx(t), rollout.NewClients(sb.Clientset, a.ns), a.name, time.Now()); err != nil {
		t.Fatalf("mark-good: %v", err)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := cs.Get(ctx(t), a.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = a.v2
		_, err = cs.Update(ctx(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("ship v2: %v", err)
	}
	waitRevision(t, a, 2)
	return a
}

// service exposes the app over HTTP and returns its base URL.
func (a app) service(t *testing.T) string {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: a.ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": a.name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if _, err := sb.Clientset.CoreV1().Services(a.ns).Create(ctx(t), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	url, err := sb.Endpoint(ctx(t), a.ns, a.name)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func waitRevision(t *testing.T, a app, n int) {
	t.Helper()
	want := fmt.Sprint(n)
	eventually(t, fmt.Sprintf("revision %d", n), func() bool {
		d, err := sb.Clientset.AppsV1().Deployments(a.ns).Get(ctx(t), a.name, metav1.GetOptions{})
		return err == nil && d.Annotations["deployment.kubernetes.io/revision"] == want && d.Status.ObservedGeneration >= d.Generation
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	clitest.WaitFor(t, 60*time.Second, what, cond)
}

// baseRunbook is the app's runbook without database, monitoring or notifications.
func (a app) runbook() *runbook.Runbook {
	return &runbook.Runbook{
		APIVersion: runbook.APIVersion, Kind: runbook.Kind, App: a.name,
		Clusters:    []runbook.Cluster{{Context: "sandbox", Namespace: a.ns}},
		Deployments: []string{a.name},
		Escalation: runbook.Escalation{
			Primary:         &runbook.Contact{Name: "Ana Primary", Contact: "+1 555 0100"},
			EngineeringLead: &runbook.Contact{Name: "Lee Lead", Contact: "@lee"},
		},
		Steps: []string{runbook.StepApp, runbook.StepConfig},
	}
}

// write writes rb as rollback.yaml in a new directory and returns its path.
func write(t *testing.T, rb *runbook.Runbook) string {
	t.Helper()
	data, err := yaml.Marshal(rb)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rollback.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runbook.Load(path); err != nil {
		t.Fatalf("test runbook does not parse: %v\n%s", err, data)
	}
	return path
}

// closedAddr returns a loopback host:port nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// line returns the first line of out that starts with prefix, or fails.
func line(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting with %q in:\n%s", prefix, out)
	return ""
}
