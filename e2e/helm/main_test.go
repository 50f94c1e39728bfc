//go:build e2e

// Package helm_test rolls Helm releases back end to end on the sandbox:
// charts installed and upgraded through Helm's library, rollback helm run
// in-process, and the helm CLI (built from the same module version) as the
// referee of what Helm recorded.
package helm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/command"
	helmcmd "github.com/vibestack/rollback/internal/command/helm"
	"github.com/vibestack/rollback/internal/iostreams"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) { os.Exit(sandboxenv.RunTests(m, &sb)) }

func ctx(t *testing.T) context.Context { return clitest.Context(t, 3*time.Minute) }

// rollbackHelm runs rollback-helm in-process (the helm group the rollback
// binary runs) and returns exit code, stdout, stderr.
func rollbackHelm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	f := command.NewFactory(io)
	f.Helm = helmcmd.New
	args = append(args, "--kubeconfig", sb.Kubeconfig)
	code := command.ExecuteWith(ctx(t), f, args)
	t.Logf("rollback %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	return code, out.String(), errOut.String()
}

// helmCLI runs the helm CLI built from the module rollback links.
func helmCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx(t), helmBinary(t), append(args, "--kubeconfig", sb.Kubeconfig)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// helmBinary is bin/helm (scripts/ci/install-deps.sh builds it), or helm
// on PATH at the module's version.
func helmBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(clitest.RepoRoot(), "bin", "helm")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Fatal("the helm CLI is missing: run `make deps` (scripts/ci/install-deps.sh builds it into bin/helm)")
	return ""
}

// release drives a release through Helm's library, as `helm install` and
// `helm upgrade` would.
type release struct {
	t     *testing.T
	ns    string
	name  string
	cfg   *action.Configuration
	chart *chart.Chart
}

func newRelease(t *testing.T, ns, name string) *release {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &sb.Kubeconfig, &ns
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(filepath.Join("testdata", "web"))
	if err != nil {
		t.Fatal(err)
	}
	return &release{t: t, ns: ns, name: name, cfg: cfg, chart: ch}
}

// install installs chart version v with values.
func (r *release) install(version string, values map[string]any) {
	r.t.Helper()
	i := action.NewInstall(r.cfg)
	i.ReleaseName, i.Namespace, i.WaitStrategy, i.Timeout = r.name, r.ns, kube.HookOnlyStrategy, time.Minute
	r.chart.Metadata.Version, r.chart.Metadata.AppVersion = version, version
	if _, err := i.RunWithContext(ctx(r.t), r.chart, values); err != nil {
		r.t.Fatalf("helm install %s: %v", r.name, err)
	}
}

// upgrade upgrades to chart version v with values; it returns Helm's error
// (a failed upgrade is recorded as a failed revision).
func (r *release) upgrade(version string, values map[string]any) error {
	r.t.Helper()
	u := action.NewUpgrade(r.cfg)
	u.Namespace, u.WaitStrategy, u.Timeout = r.ns, kube.HookOnlyStrategy, time.Minute
	r.chart.Metadata.Version, r.chart.Metadata.AppVersion = version, version
	_, err := u.RunWithContext(ctx(r.t), r.name, r.chart, values)
	return err
}

func values(image, apiKey string, replicas int) map[string]any {
	return map[string]any{"image": image, "apiKey": apiKey, "replicas": replicas}
}

// helmHistory is `helm history -o json` as the CLI prints it.
type helmHistory []struct {
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
	Chart       string `json:"chart"`
	Description string `json:"description"`
}

func refereeHistory(t *testing.T, ns, name string) helmHistory {
	t.Helper()
	var h helmHistory
	out := helmCLI(t, "history", name, "-n", ns, "-o", "json")
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("helm history -o json: %v\n%s", err, out)
	}
	return h
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, w := range secrets {
		if strings.Contains(s, w) {
			t.Errorf("%s shows the secret %q", what, w)
		}
	}
}

func revisionLine(h helmHistory, n int) string {
	for _, r := range h {
		if r.Revision == n {
			return fmt.Sprintf("%d %s %s %q", r.Revision, r.Status, r.Chart, r.Description)
		}
	}
	return ""
}

var metav1GetOptions = metav1.GetOptions{}
