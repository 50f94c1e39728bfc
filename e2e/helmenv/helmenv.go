// Package helmenv drives Helm releases for end-to-end tests and
// benchmarks: the chart testdata/web (a Deployment, a ConfigMap and a
// Secret), installed and upgraded through Helm's library as `helm install`
// and `helm upgrade` would; the helm CLI built from the module version
// rollback links (bin/helm, built by scripts/ci/install-deps.sh) as the
// referee of what Helm recorded; and the rollback-helm program that
// rollback runs for Helm releases.
//
//	r := helmenv.NewRelease(t, sb.Kubeconfig, ns, "web")
//	r.Install("1.0.0", helmenv.Values("vibestack/app:v1", "s3cret", 2))
//	h := helmenv.History(t, sb.Kubeconfig, ns, "web") // helm history -o json
package helmenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// root is the module's root directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Chart is the path of the chart testdata/web. Its values: image, replicas
// (2), logLevel, apiKey (in the Secret) and deploymentAnnotations.
func Chart() string { return filepath.Join(root(), "e2e", "helmenv", "testdata", "web") }

// Values are the chart's values for image, apiKey and replicas.
func Values(image, apiKey string, replicas int) map[string]any {
	return map[string]any{"image": image, "apiKey": apiKey, "replicas": replicas}
}

// Release drives one release through Helm's library.
type Release struct {
	t     testing.TB
	ns    string
	name  string
	cfg   *action.Configuration
	chart *chart.Chart
}

// NewRelease returns release name in namespace ns of the cluster of kubeconfig.
func NewRelease(t testing.TB, kubeconfig, ns, name string) *Release {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(Chart())
	if err != nil {
		t.Fatal(err)
	}
	return &Release{t: t, ns: ns, name: name, cfg: cfg, chart: ch}
}

// Config is Helm's action configuration of the release (its storage).
func (r *Release) Config() *action.Configuration { return r.cfg }

func (r *Release) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	r.t.Cleanup(cancel)
	return ctx
}

// Install installs chart version v with values; a failure fails the test.
func (r *Release) Install(version string, values map[string]any) {
	r.t.Helper()
	i := action.NewInstall(r.cfg)
	i.ReleaseName, i.Namespace, i.WaitStrategy, i.Timeout = r.name, r.ns, kube.HookOnlyStrategy, time.Minute
	r.chart.Metadata.Version, r.chart.Metadata.AppVersion = version, version
	if _, err := i.RunWithContext(r.ctx(), r.chart, values); err != nil {
		r.t.Fatalf("helm install %s: %v", r.name, err)
	}
}

// Upgrade upgrades to chart version v with values and returns Helm's
// error (a failed upgrade is recorded as a failed revision).
func (r *Release) Upgrade(version string, values map[string]any) error {
	r.t.Helper()
	u := action.NewUpgrade(r.cfg)
	u.Namespace, u.WaitStrategy, u.Timeout = r.ns, kube.HookOnlyStrategy, time.Minute
	r.chart.Metadata.Version, r.chart.Metadata.AppVersion = version, version
	_, err := u.RunWithContext(r.ctx(), r.name, r.chart, values)
	return err
}

// CLIBinary is bin/helm (scripts/ci/install-deps.sh builds it), or helm
// on PATH.
func CLIBinary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(root(), "bin", "helm")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Fatal("the helm CLI is missing: run `make deps` (scripts/ci/install-deps.sh builds it into bin/helm)")
	return ""
}

// CLI runs the helm CLI against the cluster of kubeconfig and returns its
// output; a failure fails the test.
func CLI(t testing.TB, kubeconfig string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, CLIBinary(t), append(args, "--kubeconfig", kubeconfig)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Revision is one line of `helm history -o json`.
type Revision struct {
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
	Chart       string `json:"chart"`
	Description string `json:"description"`
}

// Revisions is a release's history as the helm CLI prints it.
type Revisions []Revision

// Line returns revision n as `N STATUS CHART "DESCRIPTION"`, "" when absent.
func (h Revisions) Line(n int) string {
	for _, r := range h {
		if r.Revision == n {
			return fmt.Sprintf("%d %s %s %q", r.Revision, r.Status, r.Chart, r.Description)
		}
	}
	return ""
}

// History is `helm history NAME -n NS -o json`, the referee.
func History(t testing.TB, kubeconfig, ns, name string) Revisions {
	t.Helper()
	var h Revisions
	out := CLI(t, kubeconfig, "history", name, "-n", ns, "-o", "json")
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("helm history -o json: %v\n%s", err, out)
	}
	return h
}

// Status is `helm status NAME -n NS -o json`: the current revision and its status.
func Status(t testing.TB, kubeconfig, ns, name string) (int, string) {
	t.Helper()
	var st struct {
		Version int `json:"version"`
		Info    struct {
			Status string `json:"status"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(CLI(t, kubeconfig, "status", name, "-n", ns, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Version, st.Info.Status
}

// built is the rollback-helm program Program built, once per test process.
var built struct {
	once sync.Once
	path string
	err  error
}

// Program returns the rollback-helm program: $ROLLBACK_HELM_BIN when that
// file exists, else bin/rollback-helm when $ROLLBACK_BIN is bin/rollback
// (make build builds both), else ./cmd/rollback-helm built once into a
// temporary directory that RemoveProgram deletes. Tests hand it to rollback
// as ROLLBACK_HELM_BIN.
func Program(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ROLLBACK_HELM_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if b := os.Getenv("ROLLBACK_BIN"); b != "" {
		p := filepath.Join(filepath.Dir(b), "rollback-helm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "rollback-helm-e2e-")
		if err != nil {
			built.err = fmt.Errorf("build rollback-helm: %w", err)
			return
		}
		built.path = filepath.Join(dir, "rollback-helm")
		cmd := exec.Command("go", "build", "-o", built.path, "./cmd/rollback-helm")
		cmd.Dir = root()
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build rollback-helm: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// RemoveProgram deletes the program Program built, if any; call it from
// TestMain after the tests ran.
func RemoveProgram() {
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
}
