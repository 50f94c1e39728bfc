//go:build e2e

package config_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestUndoToBadVersionFailsFast rolls back to a version that is itself bad:
// the shared watch reports the crash loop quickly with exit code 3.
func TestUndoToBadVersionFailsFast(t *testing.T) {
	ns := sb.Namespace(t)
	versionedApp(t, ns)
	ctx := ctxT(t)
	c, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, "app-config-v1", metav1.GetOptions{})
	must(t, err)
	c.Data["SANDBOX_MODE"] = "crash"
	_, err = sb.Clientset.CoreV1().ConfigMaps(ns).Update(ctx, c, metav1.UpdateOptions{})
	must(t, err)

	start := time.Now()
	r := rollback(t, ns, "config", "undo", "web", "--config", "app-config", "--to", "v1", "--yes", "--settle", "1s", "--timeout", "60s")
	took := time.Since(start)
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3 (applied but unhealthy)", r.Code)
	}
	if !strings.Contains(r.All(), "CrashLoopBackOff") {
		t.Error("output does not name the CrashLoopBackOff")
	}
	if !strings.Contains(r.Stdout, "unhealthy") {
		t.Error("result line does not say unhealthy")
	}
	if took > 20*time.Second {
		t.Errorf("took %s to report the crash loop, want fail-fast (< 20s)", took)
	}
	t.Logf("reported unhealthy after %s", took.Round(time.Millisecond))
}
