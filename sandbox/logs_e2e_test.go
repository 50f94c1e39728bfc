//go:build e2e

package sandbox_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/vibestack/rollback/sandbox"
)

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// lineTimes parses the timestamps of `kubectl logs --timestamps` output.
func lineTimes(t *testing.T, out string) []time.Time {
	t.Helper()
	var times []time.Time
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		ts, _, _ := strings.Cut(line, " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("line without timestamp: %q", line)
		}
		times = append(times, at)
	}
	return times
}

// TestKubectlLogs drives `kubectl logs` through the apiserver's pods/log
// proxy to the simulated kubelets: containers (-c), init containers, a
// crash's previous run (--previous), --tail, --since, --since-time,
// --timestamps, -f, and the kubelet's errors for containers that never
// started.
func TestKubectlLogs(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	ctx := testContext(t)
	multi := pod(ns, "multi", "example/web:v1", nil, nil)
	multi.Spec.Containers = append(multi.Spec.Containers, corev1.Container{Name: "sidecar", Image: "example/proxy:v7"})
	multi.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "example/migrate:v1"}}
	missing := []corev1.EnvVar{{Name: "SANDBOX_MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "no-such-config"}, Key: "mode"}}}}
	for _, p := range []*corev1.Pod{
		multi,
		pod(ns, "crash", "example/web:crash-v2", nil, nil),
		pod(ns, "no-config", "example/web:v1", missing, nil),
		pod(ns, "no-image", "example/web:pull-error", nil, nil),
	} {
		if _, err := sb.Clientset.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitPod(t, ns, "multi", 60*time.Second, func(p *corev1.Pod) error {
		if readySince(*p) == nil {
			return errString("not ready")
		}
		return nil
	})

	t.Run("containers", func(t *testing.T) {
		mustContain(t, "logs -c app", kubectl(t, "-n", ns, "logs", "multi", "-c", "app"),
			`msg="starting" container=app image=example/web:v1 version=v1`, `msg="listening"`, `msg="ready to serve requests"`)
		mustContain(t, "logs -c sidecar", kubectl(t, "-n", ns, "logs", "multi", "-c", "sidecar"), "container=sidecar image=example/proxy:v7")
		mustContain(t, "logs -c init", kubectl(t, "-n", ns, "logs", "multi", "-c", "init"), `msg="init complete"`)
		mustContain(t, "logs without -c", kubectl(t, "-n", ns, "logs", "multi"), "container=app")
		if out := kubectl(t, "-n", ns, "logs", "multi", "-c", "app", "--tail=1"); strings.TrimSpace(out) != `level=info msg="ready to serve requests"` {
			t.Errorf("--tail=1: %q", out)
		}
		if out := kubectl(t, "-n", ns, "logs", "multi", "--all-containers", "--prefix"); !strings.Contains(out, "[pod/multi/sidecar]") || !strings.Contains(out, "[pod/multi/init]") {
			t.Errorf("--all-containers --prefix:\n%s", out)
		}
	})

	t.Run("since", func(t *testing.T) {
		// multi writes nothing more once Ready: wait until its last line
		// is more than 3 s old, so --since=2s selects nothing.
		var last time.Time
		eventually(t, 60*time.Second, "last line older than 3s", func(context.Context) (bool, error) {
			times := lineTimes(t, kubectl(t, "-n", ns, "logs", "multi", "-c", "app", "--timestamps"))
			last = times[len(times)-1]
			return time.Since(last) > 3*time.Second, nil
		})
		if out := kubectl(t, "-n", ns, "logs", "multi", "-c", "app", "--since=2s"); out != "" {
			t.Errorf("--since=2s: %q, want nothing", out)
		}
		if out := kubectl(t, "-n", ns, "logs", "multi", "-c", "app", "--since=1h"); strings.Count(out, "\n") != 3 {
			t.Errorf("--since=1h: %q, want the 3 lines", out)
		}
		before := last.Truncate(time.Second).UTC().Format(time.RFC3339)
		if out := kubectl(t, "-n", ns, "logs", "multi", "-c", "app", "--since-time="+before); strings.Count(out, "\n") < 1 {
			t.Errorf("--since-time=%s: %q, want the last line at least", before, out)
		}
		after := last.Add(2 * time.Second).Truncate(time.Second).UTC().Format(time.RFC3339)
		if out := kubectl(t, "-n", ns, "logs", "multi", "-c", "app", "--since-time="+after); out != "" {
			t.Errorf("--since-time=%s: %q, want nothing", after, out)
		}
	})

	t.Run("previous", func(t *testing.T) {
		waitPod(t, ns, "crash", 60*time.Second, crashLoop("Error", 1, 2))
		prev := kubectl(t, "-n", ns, "logs", "crash", "--previous")
		mustContain(t, "logs --previous", prev, `msg="starting"`, `msg="cannot start"`,
			"panic: sandbox mode crash: app cannot start (image example/web:crash-v2)", "goroutine 1 [running]:", "main.main()")
		// The current run is the crashed one while it backs off, or the
		// next one, which starts as every run does.
		mustContain(t, "logs", kubectl(t, "-n", ns, "logs", "crash"), `msg="starting" container=app image=example/web:crash-v2`)
		// -f on a crashing container ends when its run ends.
		mustContain(t, "logs -f", kubectl(t, "-n", ns, "logs", "-f", "crash"), "panic: sandbox mode crash")
		out := kubectlFails(t, "-n", ns, "logs", "multi", "-c", "app", "--previous")
		mustContain(t, "logs --previous of a container that never restarted", out, `previous terminated container "app" in pod "multi" not found`)
	})

	t.Run("never started", func(t *testing.T) {
		waitPod(t, ns, "no-config", 60*time.Second, waiting("CreateContainerConfigError"))
		mustContain(t, "logs of a missing-config container", kubectlFails(t, "-n", ns, "logs", "no-config"),
			`container "app" in pod "no-config" is waiting to start: CreateContainerConfigError`)
		waitPod(t, ns, "no-image", 60*time.Second, waiting("ImagePullBackOff"))
		mustContain(t, "logs of a container whose image cannot be pulled", kubectlFails(t, "-n", ns, "logs", "no-image"),
			`container "app" in pod "no-image" is waiting to start: trying and failing to pull image`)
	})

	t.Run("restricted user", func(t *testing.T) {
		out, err := exec.Command("kubectl", "--kubeconfig", sb.RestrictedKubeconfig, "-n", ns, "logs", "multi", "-c", "app").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ready to serve") {
			t.Errorf("view role reading logs: %v\n%s", err, out)
		}
	})
}

// TestLogsFollowRequests checks that a healthy container logs the requests
// its Service's endpoint routes to it, an http500 one logs its 500s as
// errors, and `kubectl logs -f` streams them as they come.
func TestLogsFollowRequests(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	ctx := testContext(t)
	for name, image := range map[string]string{"web": "example/web:v1", "h5": "example/web:http500-v2"} {
		if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, name, image, 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		if _, err := sb.Clientset.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitRolledOut(t, ns, "web")
	waitRolledOut(t, ns, "h5")
	h5 := endpointURL(t, ns, "h5")
	waitAnswers(t, h5+"/checkout", http.StatusInternalServerError, "http500")
	mustContain(t, "logs of the http500 release", kubectl(t, "-n", ns, "logs", "deploy/h5"),
		`level=error msg="request failed" method=GET path=/checkout status=500 err="internal server error (sandbox mode http500)"`)

	cmd := exec.Command("kubectl", "--kubeconfig", sb.Kubeconfig, "-n", ns, "logs", "-f", "deploy/web")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	await := func(want string) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("kubectl logs -f ended before %q", want)
				}
				if strings.Contains(line, want) {
					return
				}
			case <-deadline:
				t.Fatalf("kubectl logs -f: no line with %q after 60s", want)
			}
		}
	}
	await("ready to serve requests")
	web := endpointURL(t, ns, "web")
	for i := range 3 {
		path := fmt.Sprintf("/order/%d", i)
		if code, _, err := get(web + path); err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, err)
		}
		await(`msg="request" method=GET path=` + path + ` status=200`)
	}
}

// TestKubeletRefusesOtherClients checks that the simulated kubelets answer
// only a client certificate from the kubelet CA, which only the apiserver
// holds.
func TestKubeletRefusesOtherClients(t *testing.T) {
	ctx := testContext(t)
	node, err := sb.Clientset.CoreV1().Nodes().Get(ctx, "sandbox-node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ip string
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
		}
	}
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if ip != sandbox.NodeIP || port == 0 {
		t.Fatalf("node InternalIP %q, kubelet port %d", ip, port)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(fmt.Sprintf("https://%s:%d/healthz", ip, port))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the kubelet answered a client without certificate: %s", resp.Status)
	}
}
