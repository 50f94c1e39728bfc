//go:build e2e

// Package controller_test runs `rollback guard --controller` as real
// processes against a real sandbox control plane: leader election between two
// replicas, a leader killed during a bake, and the shipped RBAC of deploy/.
package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

func ctx(t *testing.T) context.Context { return clitest.Context(t, 3*time.Minute) }

// controllerProc is one `rollback guard --controller` process.
type controllerProc struct {
	name string
	*clitest.Process
}

// startController runs the controller binary with kubeconfig and extra args.
func startController(t *testing.T, name, kubeconfig string, args ...string) *controllerProc {
	t.Helper()
	return startControllerEnv(t, name, kubeconfig, nil, args...)
}

// startControllerEnv runs the controller binary with env added to its environment.
func startControllerEnv(t *testing.T, name, kubeconfig string, env map[string]string, args ...string) *controllerProc {
	t.Helper()
	full := append([]string{"guard", "--controller", "--kubeconfig", kubeconfig, "--identity", name,
		"--health-addr", "127.0.0.1:0", "--journal-dir", t.TempDir(), "--allow-url", "http://127.0.0.1:*"}, args...)
	p := &controllerProc{name: name, Process: clitest.Start(t, clitest.Binary(t), env, full...)}
	t.Logf("started controller %s (pid %d): rollback %s", name, p.Pid(), strings.Join(full, " "))
	t.Cleanup(func() {
		// SIGTERM first: the controller releases the Lease.
		p.Stop(15 * time.Second)
		t.Logf("controller %s output:\n%s", name, p.output())
	})
	return p
}

// startReplicas starts replica-a and replica-b guarding ns with their Lease
// in leaseNS (3 s lease), and waits until replica-a leads and replica-b
// campaigns.
func startReplicas(t *testing.T, ns, leaseNS string) (a, b *controllerProc) {
	t.Helper()
	lease := []string{"-n", ns, "--lease-namespace", leaseNS, "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"}
	a = startController(t, "replica-a", sb.Kubeconfig, lease...)
	eventually(t, 30*time.Second, "replica-a leads", func() bool { return a.has("replica-a: became the leader") })
	b = startController(t, "replica-b", sb.Kubeconfig, lease...)
	eventually(t, 30*time.Second, "replica-b campaigns", func() bool { return b.has("campaigning for lease") })
	return a, b
}

// output returns what the process printed on stdout and stderr.
func (p *controllerProc) output() string { return p.Stdout() + p.Stderr() }

func (p *controllerProc) has(s string) bool { return strings.Contains(p.output(), s) }

// readyz returns the body of the process's /readyz.
func (p *controllerProc) readyz(t *testing.T) string {
	t.Helper()
	m := healthLine.FindStringSubmatch(p.output())
	if m == nil {
		t.Fatalf("%s printed no health address", p.name)
	}
	resp, err := http.Get("http://" + m[1] + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz of %s: %v", p.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

var healthLine = regexp.MustCompile(`health endpoints on http://([0-9.:]+)/healthz`)

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	clitest.WaitFor(t, timeout, what, cond)
}

// guardAnnotations opts a Deployment in with the given settings.
func guardAnnotations(settings map[string]string) map[string]string {
	a := map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue}
	for k, v := range settings {
		a[guardcontroller.AnnotationPrefix+"-"+k] = v
	}
	return a
}

// newDeployment creates Deployment name (2 replicas, label app=name) at image.
func newDeployment(t *testing.T, ns, name, image string, annotations map[string]string) {
	t.Helper()
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx(t), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s: %v", name, err)
	}
}

// setImage ships image as a new revision.
func setImage(t *testing.T, ns, name, image string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctx(t), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("set image %s: %v", image, err)
	}
}

// setAnnotation changes one annotation of Deployment name.
func setAnnotation(t *testing.T, ns, name, key, value string) {
	t.Helper()
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Patch(ctx(t), name, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }

func revision(d *appsv1.Deployment) string { return d.Annotations["deployment.kubernetes.io/revision"] }

// state returns the guard state of Deployment name (zero State when none).
func state(t *testing.T, ns, name string) guardcontroller.State {
	t.Helper()
	s, err := guardcontroller.ReadState(getDeployment(t, ns, name))
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return guardcontroller.State{}
	}
	return *s
}

func newService(t *testing.T, ns, name string) string { return sb.Service(t, ns, name) }

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	return sb.Deployment(t, ns, name)
}

func waitRolledOut(t *testing.T, ns, name string) { sb.WaitRolledOut(t, ns, name) }

// markGood stamps the current revision known-good, as CI would.
func markGood(t *testing.T, ns, name string) {
	t.Helper()
	waitRolledOut(t, ns, name)
	if err := rollout.MarkGood(ctx(t), rollout.NewClients(sb.Clientset, ns), name, time.Now()); err != nil {
		t.Fatalf("mark-good %s: %v", name, err)
	}
}

// events returns the reasons of the controller's Events on Deployment name, oldest first.
func events(t *testing.T, cs kubernetes.Interface, ns, name string) []corev1.Event {
	t.Helper()
	list, err := cs.CoreV1().Events(ns).List(ctx(t), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name + ",involvedObject.kind=Deployment"})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.Source.Component == guardcontroller.Component {
			out = append(out, e)
		}
	}
	return out
}

func countReason(evs []corev1.Event, reason string) int {
	n := 0
	for _, e := range evs {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

func logEvents(t *testing.T, evs []corev1.Event) {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s %-24s %-22s %s\n", e.Type, e.Reason, e.Source.Host, e.Message)
	}
	t.Logf("events on the deployment:\n%s", b.String())
}

// journalEntries returns every entry of every incident journal mirrored in ns.
func journalEntries(t *testing.T, ns string) map[string][]journal.Entry {
	t.Helper()
	cms := sb.Clientset.CoreV1().ConfigMaps(ns)
	sums, err := journal.ListMirror(ctx(t), cms)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]journal.Entry{}
	for _, s := range sums {
		es, err := journal.ReadMirror(ctx(t), cms, s.Incident)
		if err != nil {
			t.Fatal(err)
		}
		out[s.Incident] = es
	}
	return out
}

// secretToken stands for a credential in a check URL's query string.
const secretToken = "sekret-e2e-token-4711"

// assertNoSecret greps the controllers' output, the Events, the state
// annotation and the journal mirror for secretToken.
func assertNoSecret(t *testing.T, ns, name string, procs ...*controllerProc) {
	t.Helper()
	for _, p := range procs {
		if strings.Contains(p.output(), secretToken) {
			t.Errorf("the token is in %s's output", p.name)
		}
	}
	for _, e := range events(t, sb.Clientset, ns, name) {
		if strings.Contains(e.Message, secretToken) {
			t.Errorf("the token is in Event %s: %s", e.Reason, e.Message)
		}
	}
	if strings.Contains(getDeployment(t, ns, name).Annotations[guardcontroller.AnnotationState], secretToken) {
		t.Errorf("the token is in the state annotation")
	}
	cms, err := sb.Clientset.CoreV1().ConfigMaps(ns).List(ctx(t), metav1.ListOptions{LabelSelector: journal.LabelIncident})
	if err != nil {
		t.Fatal(err)
	}
	if len(cms.Items) == 0 {
		t.Errorf("no journal mirror to check")
	}
	redacted := 0
	for _, cm := range cms.Items {
		for k, v := range cm.Data {
			if strings.Contains(v, secretToken) {
				t.Errorf("the token is in journal mirror %s key %s", cm.Name, k)
			}
			redacted += strings.Count(v, journal.Redacted)
		}
	}
	t.Logf("journal mirror: %d values redacted", redacted)
}
