//go:build e2e

// Package helmrun_test rolls Helm releases back as targets of the other
// paths, end to end on the sandbox: `rollback run` with a runbook listing
// helmReleases (killed at every journal boundary and resumed), `rollback
// guard` of a Helm-managed Deployment, and the guard controller. Releases
// are installed through Helm's library from the chart of e2e/helmenv; the
// helm CLI of the same module version is the referee.
package helmrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/helmtarget"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	code := clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) })
	helmenv.RemoveProgram()
	os.Exit(code)
}

func ctx(t *testing.T) context.Context { return clitest.Context(t, 3*time.Minute) }

// secrets are the values of the chart's Secret in badRelease: never in any
// output, journal or report.
var secrets = []string{"s3cret-one", "s3cret-two", "s3cret-three"}

// badRelease installs release web in ns at v1 (good, marked by CI), then
// upgrades it to v2 (crash-looping) and v3 (failed: the API rejects its
// Deployment): `helm rollback web` would go to the crash-looping v2.
func badRelease(t *testing.T, ns string) *helmenv.Release {
	t.Helper()
	r := goodRelease(t, ns)
	if err := r.Upgrade("2.0.0", helmenv.Values("vibestack/app:crash", "s3cret-two", 2)); err != nil {
		t.Fatalf("upgrade to v2: %v", err)
	}
	if err := r.Upgrade("3.0.0", helmenv.Values("vibestack/app:v3", "s3cret-three", -1)); err == nil {
		t.Fatal("upgrade to v3 with replicas -1 succeeded; want Helm to record a failed revision")
	}
	return r
}

// goodRelease installs release web in ns at v1, rolled out and marked good
// with `rollback helm mark-good`, as CI would after a deploy.
func goodRelease(t *testing.T, ns string, annotations ...map[string]string) *helmenv.Release {
	t.Helper()
	r := helmenv.NewRelease(t, sb.Kubeconfig, ns, "web")
	v := helmenv.Values("vibestack/app:v1", "s3cret-one", 2)
	if len(annotations) > 0 {
		v["deploymentAnnotations"] = annotations[0]
	}
	r.Install("1.0.0", v)
	sb.WaitRolledOut(t, ns, "web")
	if res := rollbackHelm(t, nil, "helm", "mark-good", "web", "-n", ns, "--settle", "0s"); res.Code != 0 {
		t.Fatalf("mark-good: exit %d", res.Code)
	}
	return r
}

// env is the environment of every rollback process: rollback-helm to run,
// and journals in the test's directory.
func env(t *testing.T, extra map[string]string) map[string]string {
	e := map[string]string{"ROLLBACK_HELM_BIN": helmenv.Program(t)}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// start runs the rollback binary (plus --kubeconfig) as its own process.
func start(t *testing.T, extra map[string]string, args ...string) *clitest.Process {
	t.Helper()
	return clitest.Start(t, clitest.Binary(t), env(t, extra), append(args, "--kubeconfig", sb.Kubeconfig)...)
}

// rollbackHelm runs the rollback binary to completion.
func rollbackHelm(t *testing.T, extra map[string]string, args ...string) clitest.Result {
	t.Helper()
	return start(t, extra, args...).Wait(t, 4*time.Minute)
}

// writeRunbook writes a runbook for app shop in ns listing deployments and
// the release web (when releases), with the app step only.
func writeRunbook(t *testing.T, dir, ns string, deployments []string, releases bool) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: rollback.vibestack.dev/v1\nkind: Runbook\napp: shop\nclusters:\n  - context: sandbox\n    namespace: %s\n", ns)
	if len(deployments) > 0 {
		fmt.Fprintf(&b, "deployments: [%s]\n", strings.Join(deployments, ", "))
	}
	if releases {
		b.WriteString("helmReleases:\n  - name: web\n")
	}
	b.WriteString("steps: [app]\n")
	path := filepath.Join(dir, "rollback.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var incidentID = regexp.MustCompile(`inc-\d{8}-\d{6}-[0-9a-f]{4}`)

// rollbackHistory is `rollback helm history web -o json`: rollback's marks.
func rollbackHistory(t *testing.T, ns string) *helmtarget.HistoryResult {
	t.Helper()
	r := rollbackHelm(t, nil, "helm", "history", "web", "-n", ns, "-o", "json")
	var h helmtarget.HistoryResult
	if err := json.Unmarshal([]byte(r.Stdout), &h); err != nil {
		t.Fatalf("rollback helm history -o json: %v", err)
	}
	return &h
}

func healthOf(h *helmtarget.HistoryResult, revision int) string {
	for _, r := range h.Revisions {
		if r.Revision == revision {
			return r.Health
		}
	}
	return ""
}

func image(t *testing.T, ns string) string {
	return sb.Deployment(t, ns, "web").Spec.Template.Spec.Containers[0].Image
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, s string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(s, w) {
			t.Errorf("%s contains %q", what, w)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
