//go:build e2e

// Package deploy_test checks the Helm chart of the guard controller
// (deploy/chart/rollback-guard) against the Kustomize package (deploy/ and
// deploy/namespaced/): rendered with Helm's own Go library, it gives the
// same RBAC, and installed into the sandbox with it, the ServiceAccount may
// do exactly what the namespaced install grants.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/kube"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

var chartDir = filepath.Join(clitest.RepoRoot(), "deploy", "chart", "rollback-guard")

// object is one rendered manifest, reduced to what RBAC comparisons need.
type object struct {
	Kind     string         `json:"kind"`
	Metadata map[string]any `json:"metadata"`
	Rules    any            `json:"rules,omitempty"`
	RoleRef  any            `json:"roleRef,omitempty"`
	Subjects any            `json:"subjects,omitempty"`
	Spec     any            `json:"spec,omitempty"`
}

func (o object) key() string {
	ns, _ := o.Metadata["namespace"].(string)
	return fmt.Sprintf("%s %s/%s", o.Kind, ns, o.Metadata["name"])
}

// decode splits YAML documents into objects.
func decode(t *testing.T, manifests string) []object {
	t.Helper()
	var out []object
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifests)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatalf("decode %s: %v", doc, err)
		}
		if o.Kind != "" {
			out = append(out, o)
		}
	}
	return out
}

// renderChart renders the chart as release rollback-guard in namespace ns
// with Helm's engine, as `helm template` does.
func renderChart(t *testing.T, ns string, values map[string]any) string {
	t.Helper()
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, common.ReleaseOptions{Name: "rollback-guard", Namespace: ns, IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatalf("render chart: %v", err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if strings.HasSuffix(n, ".yaml") {
			b.WriteString("---\n" + files[n] + "\n")
		}
	}
	return b.String()
}

func kustomize(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("kubectl", "kustomize", filepath.Join(clitest.RepoRoot(), dir)).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	return string(out)
}

// rbacOf returns the RBAC objects (and the admission policies) of objs by
// key, without labels (Helm adds its own).
func rbacOf(objs []object) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		switch o.Kind {
		case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "NetworkPolicy":
		default:
			continue
		}
		c := o
		c.Metadata = map[string]any{"name": o.Metadata["name"], "namespace": o.Metadata["namespace"]}
		b, _ := json.Marshal(c)
		// Kustomize and Helm fold the long CEL expressions differently;
		// blank space does not change what they say.
		out[o.key()] = strings.Join(strings.Fields(strings.ReplaceAll(string(b), `\n`, " ")), " ")
	}
	return out
}

// TestChartMatchesKustomize: the chart gives the Kustomize package's RBAC,
// admission policies and NetworkPolicy, cluster-wide (default values) and
// namespaced (namespaces: [shop]); its controller gets the -n flag and the
// allowlist in its settings ConfigMap.
func TestChartMatchesKustomize(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not installed")
	}
	for _, tc := range []struct {
		name, dir string
		values    map[string]any
	}{
		{"cluster-wide", "deploy", nil},
		{"namespaced", "deploy/namespaced", map[string]any{"namespaces": []any{"shop"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			helmObjs := decode(t, renderChart(t, "rollback-system", tc.values))
			kust := rbacOf(decode(t, kustomize(t, tc.dir)))
			helm := rbacOf(helmObjs)
			for k, want := range kust {
				if got, ok := helm[k]; !ok {
					t.Errorf("the chart lacks %s", k)
				} else if got != want {
					t.Errorf("%s differs:\nchart     %s\nkustomize %s", k, got, want)
				}
			}
			for k := range helm {
				if _, ok := kust[k]; !ok {
					t.Errorf("the chart has %s, the Kustomize package does not", k)
				}
			}
			t.Logf("%d objects compared", len(kust))
		})
	}
	raw := renderChart(t, "rollback-system", map[string]any{"namespaces": []any{"a", "b"}, "allowURLs": []any{"https://*.example.com", "http://prom.example.com:9090"}})
	for _, want := range []string{"--namespace=a,b", `allowURLs: "https://*.example.com\nhttp://prom.example.com:9090"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("the chart with namespaces and allowURLs lacks %q", want)
		}
	}
}

// TestChartHelmReleasesRole: helmReleases.namespaces gives, in each
// namespace, the Role and RoleBinding of deploy/helm-releases.yaml (as
// `kubectl apply -n NAMESPACE` creates them); by default, none.
func TestChartHelmReleasesRole(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(clitest.RepoRoot(), "deploy", "helm-releases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"shop", "pay"} {
		file := decode(t, string(data))
		for i := range file {
			file[i].Metadata["namespace"] = ns
		}
		want := rbacOf(file)
		got := rbacOf(decode(t, renderChart(t, "rollback-system", map[string]any{"helmReleases": map[string]any{"namespaces": []any{"shop", "pay"}}})))
		if len(want) != 2 {
			t.Fatalf("deploy/helm-releases.yaml: %d objects, want a Role and a RoleBinding", len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok {
				t.Errorf("the chart lacks %s", k)
			} else if g != w {
				t.Errorf("%s differs:\nchart %s\nfile  %s", k, g, w)
			}
		}
	}
	for k := range rbacOf(decode(t, renderChart(t, "rollback-system", nil))) {
		if strings.Contains(k, "rollback-guard-helm") {
			t.Errorf("the chart with default values has %s", k)
		}
	}
}

// TestChartInstallsNamespaced installs the chart with Helm's library into
// the sandbox (namespaced: one guarded namespace) and checks the
// ServiceAccount's permissions: the guarded namespace, its Lease and
// settings, the Helm releases of the namespace helmReleases names, and
// nothing elsewhere.
func TestChartInstallsNamespaced(t *testing.T) {
	guarded, other, releases := sb.Namespace(t), sb.Namespace(t), sb.Namespace(t)
	release := "rollback-system"
	if _, err := sb.Clientset.CoreV1().Namespaces().Get(context.Background(), release, metav1.GetOptions{}); err != nil {
		sbCreateNamespace(t, release)
	}
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := sb.Kubeconfig
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	flags.Namespace = &release
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, release, "secret"); err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = "rollback-guard", release
	install.Timeout = 2 * time.Minute
	install.WaitStrategy = kube.HookOnlyStrategy
	rel, err := install.RunWithContext(clitest.Context(t, 3*time.Minute), ch, map[string]any{"namespaces": []any{guarded}, "allowURLs": []any{"http://127.0.0.1:*"},
		"helmReleases": map[string]any{"namespaces": []any{releases}}})
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	t.Logf("installed %T", rel)
	t.Cleanup(func() {
		u := action.NewUninstall(cfg)
		u.Timeout = time.Minute
		u.WaitStrategy = kube.HookOnlyStrategy
		if _, err := u.Run("rollback-guard"); err != nil {
			t.Logf("helm uninstall: %v", err)
		}
	})
	_, sa := sb.ServiceAccount(t, release, "rollback-guard")
	review := func(ra authzv1.ResourceAttributes) bool {
		r, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authzv1.SelfSubjectAccessReview{
			Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	for _, tt := range []struct {
		name string
		ra   authzv1.ResourceAttributes
		want bool
	}{
		{"patch deployments in the guarded namespace", authzv1.ResourceAttributes{Namespace: guarded, Verb: "patch", Group: "apps", Resource: "deployments"}, true},
		{"watch pods in the guarded namespace", authzv1.ResourceAttributes{Namespace: guarded, Verb: "watch", Resource: "pods"}, true},
		{"its own lease", authzv1.ResourceAttributes{Namespace: release, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "rollback-guard-controller"}, true},
		{"its own settings", authzv1.ResourceAttributes{Namespace: release, Verb: "get", Resource: "configmaps", Name: "rollback-guard-settings"}, true},
		{"patch deployments in another namespace", authzv1.ResourceAttributes{Namespace: other, Verb: "patch", Group: "apps", Resource: "deployments"}, false},
		{"watch deployments in every namespace", authzv1.ResourceAttributes{Verb: "watch", Group: "apps", Resource: "deployments"}, false},
		{"configmaps in kube-system", authzv1.ResourceAttributes{Namespace: "kube-system", Verb: "patch", Resource: "configmaps"}, false},
		{"secrets in the guarded namespace", authzv1.ResourceAttributes{Namespace: guarded, Verb: "get", Resource: "secrets"}, false},
		{"Helm's release storage where helmReleases names", authzv1.ResourceAttributes{Namespace: releases, Verb: "update", Resource: "secrets"}, true},
		{"a chart's StatefulSet where helmReleases names", authzv1.ResourceAttributes{Namespace: releases, Verb: "create", Group: "apps", Resource: "statefulsets"}, true},
		{"Helm's release storage elsewhere", authzv1.ResourceAttributes{Namespace: other, Verb: "update", Resource: "secrets"}, false},
	} {
		if got := review(tt.ra); got != tt.want {
			t.Errorf("%s: allowed=%t, want %t", tt.name, got, tt.want)
		}
	}
	cm, err := sb.Clientset.CoreV1().ConfigMaps(release).Get(context.Background(), "rollback-guard-settings", metav1.GetOptions{})
	if err != nil || cm.Data["allowURLs"] != "http://127.0.0.1:*" {
		t.Errorf("settings ConfigMap: %v %v", cm.Data, err)
	}
}

func sbCreateNamespace(t *testing.T, name string) {
	t.Helper()
	out, err := exec.Command("kubectl", "--kubeconfig", sb.Kubeconfig, "create", "namespace", name).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("AlreadyExists")) {
		t.Fatalf("create namespace %s: %v: %s", name, err, out)
	}
}
