//go:build e2e

package config_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/rollout"
)

// undoFor returns an Undo of the Deployment web in ns wired like the CLI.
func undoFor(ns, config string, progress *bytes.Buffer) *configs.Undo {
	cs := sb.Clientset
	return &configs.Undo{
		Deployments: cs.AppsV1().Deployments(ns),
		Store:       configs.NewStore(cs, ns),
		Verify: &rollout.Status{
			Clients: rollout.NewClients(cs, ns), Observer: clitest.ProgressTo(progress),
			Verification: rollout.Verification{Timeout: time.Minute, Settle: time.Second},
		},
		Clock:    clock.RealClock{},
		Observer: clitest.ProgressTo(progress),
		Config:   config,
	}
}

// TestConcurrentModificationDetected makes another writer change the
// object between the plan and the write: the write must be refused and the
// other writer's change kept.
func TestConcurrentModificationDetected(t *testing.T) {
	t.Run("unversioned configmap, server-side apply", func(t *testing.T) {
		ns := sb.Namespace(t)
		settingsApp(t, ns)
		if r := rollback(t, ns, "config", "snapshot", "web"); r.Code != 0 {
			t.Fatalf("snapshot: exit %d", r.Code)
		}
		breakSettings(t, ns)
		// Only values change, so the restore is an apply, not an update.
		ctx := ctxT(t)
		c, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
		must(t, err)
		delete(c.Data, "FEATURE_X")
		_, err = sb.Clientset.CoreV1().ConfigMaps(ns).Update(ctx, c, metav1.UpdateOptions{})
		must(t, err)

		var progress bytes.Buffer
		u := undoFor(ns, "settings", &progress)
		u.BeforeWrite = func(ctx context.Context, p *configs.Plan) error {
			c, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
			if err != nil {
				return err
			}
			c.Data["LOG_LEVEL"] = "concurrent-writer"
			_, err = sb.Clientset.CoreV1().ConfigMaps(ns).Update(ctx, c, metav1.UpdateOptions{FieldManager: "other-writer"})
			return err
		}
		_, err = u.Run(ctx, "web")
		if exitcode.Code(err) != exitcode.Refused || !strings.Contains(err.Error(), "(apply): it was changed by someone else") {
			t.Fatalf("err = %v (exit %d), want a refused conflict", err, exitcode.Code(err))
		}
		got, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
		must(t, err)
		if got.Data["LOG_LEVEL"] != "concurrent-writer" || got.Data["SANDBOX_MODE"] != "crash" {
			t.Errorf("the concurrent change was overwritten: %q", got.Data)
		}
	})
	t.Run("versioned, deployment template switch", func(t *testing.T) {
		ns := sb.Namespace(t)
		versionedApp(t, ns)
		ctx := ctxT(t)
		var progress bytes.Buffer
		u := undoFor(ns, "app-config", &progress)
		u.BeforeWrite = func(ctx context.Context, p *configs.Plan) error {
			d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Spec.Template.Spec.Containers[0].Image = "registry.example/vibestack-app:1.1"
			_, err = sb.Clientset.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
			return err
		}
		_, err := u.Run(ctx, "web")
		if exitcode.Code(err) != exitcode.Refused || !strings.Contains(err.Error(), "changed by someone else") {
			t.Fatalf("err = %v (exit %d), want a refused conflict", err, exitcode.Code(err))
		}
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		must(t, err)
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != "registry.example/vibestack-app:1.1" || c.EnvFrom[0].ConfigMapRef.Name != "app-config-v2" {
			t.Errorf("the concurrent change was overwritten: image %s, envFrom %s", c.Image, c.EnvFrom[0].ConfigMapRef.Name)
		}
	})
}
