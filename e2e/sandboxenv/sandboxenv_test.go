//go:build e2e

package sandboxenv_test

import (
	"context"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func TestStartAndNamespace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes, err := sb.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list nodes: %v", err)
	}
	if len(nodes.Items) == 0 {
		t.Fatal("the sandbox has no nodes")
	}
	ns := sb.Namespace(t)
	got, err := sb.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get namespace %s: %v", ns, err)
	}
	if got.Status.Phase != "Active" {
		t.Errorf("namespace %s is %s, want Active", ns, got.Status.Phase)
	}
	for _, path := range []string{sb.Kubeconfig, sb.RestrictedKubeconfig} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("kubeconfig: %v", err)
		}
	}
}
