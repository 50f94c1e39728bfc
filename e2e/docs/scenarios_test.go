//go:build e2e

package docs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/pkg/clusterlock"
)

// scenarios prepare the environment of the examples that name them. Each
// gets a fresh session: an empty working directory, rollback and
// kubectl-rollback on PATH, and nothing else until the setup adds it.
var scenarios = map[string]func(t *testing.T, s *session){
	// A checkout of the repository: bin/rollback and bin/rollback-sandbox,
	// the sandbox not started yet (the example starts it).
	"checkout": func(t *testing.T, s *session) { s.checkout(t) },
	// kubectl pointed at the sandbox, namespace shop (empty).
	"shop": func(t *testing.T, s *session) { s.namespace(t, "shop") },
}

// holder is user@host of this machine, as the cluster lock and the journal
// record it.
func holder() string { return clusterlock.DefaultHolder() }

// checkout makes the working directory look like a built checkout: bin/
// with both binaries; the sandbox it may start is stopped at the end.
func (s *session) checkout(t *testing.T) {
	t.Helper()
	bin := filepath.Join(s.Work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	sandbox := os.Getenv("ROLLBACK_SANDBOX_BIN")
	if sandbox == "" {
		sandbox = filepath.Join(clitest.RepoRoot(), "bin", "rollback-sandbox")
	}
	for name, target := range map[string]string{"rollback": filepath.Join(s.bin, "rollback"), "rollback-sandbox": sandbox} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	s.Show(s.Work, "/home/oncall/rollback")
	t.Cleanup(func() {
		_ = exec.Command(sandbox, "down", "--dir", filepath.Join(s.Work, ".sandbox")).Run()
	})
}

// namespace creates namespace name in the package's sandbox (waiting for
// an earlier scenario's namespace of that name to go away) and writes the
// kubeconfig ~/.kube/config with it as the current context's namespace.
func (s *session) namespace(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := sb.Clientset
	for {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create namespace %s: %v", name, err)
		}
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		select {
		case <-ctx.Done():
			t.Fatalf("namespace %s of an earlier example is still there: %v", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	s.kubeconfig(t, sb.Kubeconfig, filepath.Join(s.Vars["HOME"], ".kube", "config"), name)
	s.kubeconfig(t, sb.RestrictedKubeconfig, filepath.Join(s.Work, "restricted.kubeconfig"), name)
}

// kubeconfig copies the kubeconfig from to to, with namespace as the
// current context's namespace.
func (s *session) kubeconfig(t *testing.T, from, to, namespace string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(from)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = namespace
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*cfg, to); err != nil {
		t.Fatal(err)
	}
}
