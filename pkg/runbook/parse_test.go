package runbook

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vibestack/rollback/pkg/outcome"
)

const minimal = `apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: shop
clusters:
  - context: prod
    namespace: shop
deployments: [web]
`

func TestExampleParses(t *testing.T) {
	rb, err := Parse("example.yaml", Example())
	if err != nil {
		t.Fatalf("Example() does not parse: %v", err)
	}
	if rb.App != "vibestack-app" || rb.Deployments[0] != "vibestack-app-deployment" || rb.Configs[0].Name != "vibestack-config" {
		t.Errorf("example is not the VibeStack app: %+v", rb)
	}
	if rb.Escalation.Primary == nil || rb.Escalation.Secondary == nil || rb.Escalation.EngineeringLead == nil {
		t.Errorf("example lacks escalation contacts: %+v", rb.Escalation)
	}
	if got := rb.HealthChecks.HTTP[0].Timeout.Seconds(); got != 5 {
		t.Errorf("http timeout = %vs, want 5s", got)
	}
}

// TestExampleHelmReleases: the commented helmReleases of the example parse
// once uncommented.
func TestExampleHelmReleases(t *testing.T) {
	text := strings.NewReplacer("# helmReleases:", "helmReleases:", "#   - name: vibestack-app", "  - name: vibestack-app",
		"#     namespace: vibestack", "    namespace: vibestack").Replace(string(Example()))
	rb, err := Parse("example.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []HelmRelease{{Name: "vibestack-app", Namespace: "vibestack"}}
	if diff := cmp.Diff(want, rb.HelmReleases); diff != "" {
		t.Errorf("helmReleases (-want +got):\n%s", diff)
	}
}

func TestHelmReleases(t *testing.T) {
	rb, err := Parse("rollback.yaml", []byte(strings.Replace(minimal, "deployments: [web]\n",
		"helmReleases:\n  - name: web\n  - name: api.v2\n    namespace: backend\n", 1)))
	if err != nil {
		t.Fatalf("a runbook with helm releases and no deployments: %v", err)
	}
	if got := rb.HelmReleases[0].NamespaceIn("shop"); got != "shop" {
		t.Errorf("namespace of web = %q, want the cluster's", got)
	}
	if h, ok := rb.HelmReleaseOf("api.v2", "backend", "shop"); !ok || h.Name != "api.v2" {
		t.Errorf("HelmReleaseOf(api.v2, backend) = %+v %v", h, ok)
	}
	if _, ok := rb.HelmReleaseOf("web", "other", "shop"); ok {
		t.Error("web is listed in the cluster's namespace, not in other")
	}
}

func TestParseDefaults(t *testing.T) {
	rb, err := Parse("rollback.yaml", []byte(minimal+`database: {urlFromEnv: DB_URL, migrationsDir: m}
healthChecks: {http: [{url: "http://x/healthz"}]}
featureFlags: {configMap: flags}
`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultSteps, rb.Steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if rb.HealthChecks.HTTP[0].ExpectStatus != 200 || rb.Database.Tool != "auto" || rb.Database.BackupDir != "backups" || rb.FeatureFlags.Namespace != "shop" {
		t.Errorf("defaults not applied: %+v %+v %+v", rb.HealthChecks.HTTP[0], rb.Database, rb.FeatureFlags)
	}
}

func TestParseWorkloads(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"deployments only", minimal, []string{"deployment/web"}},
		{"every kind", minimal + "statefulSets: [db, queue]\ndaemonSets: [agent]\n", []string{"deployment/web", "statefulset/db", "statefulset/queue", "daemonset/agent"}},
		{"no deployments", strings.Replace(minimal, "deployments: [web]\n", "statefulSets: [db]\n", 1), []string{"statefulset/db"}},
		{"same name, other kind", minimal + "statefulSets: [web]\n", []string{"deployment/web", "statefulset/web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := Parse("rollback.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range rb.Workloads() {
				got = append(got, w.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, the first one with file:line
	}{
		{"empty", ``, []string{"rollback.yaml:1: empty runbook", "rollback init"}},
		{"syntax", "app: [\n", []string{"rollback.yaml:1: invalid YAML"}},
		{"not a mapping", "- a\n", []string{"rollback.yaml:1: a runbook must be a mapping"}},
		{"two documents", minimal + "---\napp: x\n", []string{"rollback.yaml:8: more than one YAML document"}},
		{"unknown top-level key", minimal + "deploymnets: [x]\n", []string{`rollback.yaml:8: unknown key "deploymnets" in the runbook`, "deployments"}},
		{"unknown nested key", strings.Replace(minimal, "namespace: shop", "namespace: shop\n    contex: x", 1), []string{`rollback.yaml:7: unknown key "contex" in clusters[0]`, "use one of context, namespace"}},
		{"inline database url", minimal + "database:\n  url: postgres://u:p@h/db\n  migrationsDir: m\n", []string{"rollback.yaml:9: database.url", "urlFromEnv", "urlFromFile"}},
		{"wrong type list", strings.Replace(minimal, "deployments: [web]", "deployments: web", 1), []string{"rollback.yaml:7: wrong type: got a string, want a list"}},
		{"wrong type int", minimal + "healthChecks:\n  http:\n    - url: http://x/\n      expectStatus: ok\n", []string{"rollback.yaml:11: wrong type: got a string, want a whole number"}},
		{"wrong type mapping", minimal + "database: yes\n", []string{"rollback.yaml:8: wrong type: got a string, want a mapping"}},
		{"bad duration", minimal + "healthChecks:\n  http:\n    - url: http://x/\n      timeout: soon\n", []string{`rollback.yaml:11: invalid duration "soon"`}},
		{"duplicate key", minimal + "app: other\n", []string{"rollback.yaml:8:", `"app" already defined`}},
		{"missing apiVersion", strings.Replace(minimal, "apiVersion: rollback.vibestack.dev/v1\n", "", 1), []string{"rollback.yaml:1: missing apiVersion"}},
		{"wrong apiVersion", strings.Replace(minimal, "dev/v1", "dev/v2", 1), []string{`rollback.yaml:1: unsupported apiVersion "rollback.vibestack.dev/v2": use "rollback.vibestack.dev/v1"`}},
		{"wrong kind", strings.Replace(minimal, "kind: Runbook", "kind: Deployment", 1), []string{`rollback.yaml:2: unsupported kind "Deployment"`}},
		{"missing app", strings.Replace(minimal, "app: shop\n", "", 1), []string{"rollback.yaml:1: missing app"}},
		{"bad app name", strings.Replace(minimal, "app: shop", "app: Shop_App", 1), []string{`rollback.yaml:3: app (the application's name) "Shop_App" is not a valid Kubernetes name`}},
		{"missing clusters", strings.Replace(minimal, "clusters:\n  - context: prod\n    namespace: shop\n", "", 1), []string{"rollback.yaml:1: missing clusters"}},
		{"missing context", strings.Replace(minimal, "  - context: prod\n    namespace: shop", "  - namespace: shop", 1), []string{"rollback.yaml:5: missing clusters[0].context"}},
		{"duplicate cluster", strings.Replace(minimal, "deployments:", "  - {context: prod, namespace: shop}\ndeployments:", 1), []string{"rollback.yaml:7: clusters[1] repeats"}},
		{"missing deployments", strings.Replace(minimal, "deployments: [web]\n", "", 1), []string{"rollback.yaml:1: missing deployments"}},
		{"helm release without name", minimal + "helmReleases:\n  - namespace: shop\n", []string{"rollback.yaml:9: missing helmReleases[0].name"}},
		{"helm release bad name", minimal + "helmReleases:\n  - name: Web_1\n", []string{`rollback.yaml:9: helmReleases[0].name "Web_1" is not a Helm release name`}},
		{"helm release too long", minimal + "helmReleases:\n  - name: " + strings.Repeat("a", 54) + "\n", []string{"rollback.yaml:9: helmReleases[0].name", "at most 53"}},
		{"helm release bad namespace", minimal + "helmReleases:\n  - name: web\n    namespace: Shop\n", []string{`rollback.yaml:10: helmReleases[0].namespace "Shop" is not a valid Kubernetes name`}},
		{"helm release twice", minimal + "helmReleases:\n  - name: web\n  - name: web\n    namespace: other\n", []string{`rollback.yaml:10: helm release "web" is listed twice`}},
		{"helm release unknown key", minimal + "helmReleases:\n  - name: web\n    chart: ./web\n", []string{`rollback.yaml:10: unknown key "chart" in helmReleases[0]: remove it or use one of name, namespace`}},
		{"helm releases not a list", minimal + "helmReleases: web\n", []string{"rollback.yaml:8: wrong type: got a string, want a list"}},
		{"duplicate deployment", strings.Replace(minimal, "[web]", "[web, web]", 1), []string{`rollback.yaml:7: deployment "web" is listed twice`}},
		{"duplicate statefulset", minimal + "statefulSets: [db, db]\n", []string{`rollback.yaml:8: statefulset "db" is listed twice`}},
		{"bad daemonset name", minimal + "daemonSets: [Agent_1]\n", []string{`rollback.yaml:8: daemonSets[0] "Agent_1" is not a valid Kubernetes name`}},
		{"statefulsets lower case", minimal + "statefulsets: [db]\n", []string{`rollback.yaml:8: unknown key "statefulsets" in the runbook`, "statefulSets"}},
		{"daemonsets wrong type", minimal + "daemonSets: agent\n", []string{"rollback.yaml:8: wrong type: got a string, want a list"}},
		{"bad config kind", minimal + "configs:\n  - kind: Configmap\n    name: c\n", []string{`rollback.yaml:9: configs[0].kind "Configmap": use ConfigMap or Secret`}},
		{"missing config name", minimal + "configs:\n  - kind: Secret\n", []string{"rollback.yaml:9: missing configs[0].name"}},
		{"database without url source", minimal + "database:\n  migrationsDir: m\n", []string{"rollback.yaml:9: database has no URL source"}},
		{"database both sources", minimal + "database:\n  urlFromEnv: A\n  urlFromFile: /a\n  migrationsDir: m\n", []string{"rollback.yaml:10: database sets both"}},
		{"database env is a url", minimal + "database:\n  urlFromEnv: postgres://h/db\n  migrationsDir: m\n", []string{"rollback.yaml:9: database.urlFromEnv is not an environment variable name"}},
		{"database missing migrationsDir", minimal + "database:\n  urlFromFile: /run/db-url\n", []string{"rollback.yaml:9: missing database.migrationsDir"}},
		{"database bad tool", minimal + "database:\n  urlFromEnv: A\n  migrationsDir: m\n  tool: flyway\n", []string{`rollback.yaml:11: database.tool "flyway": use migrate, goose or auto`}},
		{"http bad url", minimal + "healthChecks:\n  http:\n    - url: vibestack/healthz\n", []string{"rollback.yaml:10: healthChecks.http[0].url is not an http(s) URL"}},
		{"http missing url", minimal + "healthChecks:\n  http:\n    - expectStatus: 200\n", []string{"rollback.yaml:10: missing healthChecks.http[0].url"}},
		{"http bad status", minimal + "healthChecks:\n  http:\n    - url: http://x/\n      expectStatus: 42\n", []string{"rollback.yaml:11: healthChecks.http[0].expectStatus 42 is not an HTTP status"}},
		{"prometheus no queries", minimal + "healthChecks:\n  prometheus:\n    url: http://p:9090\n", []string{"rollback.yaml:10: healthChecks.prometheus has no queries"}},
		{"prometheus both max and min", minimal + "healthChecks:\n  prometheus:\n    url: http://p:9090\n    queries:\n      - {name: a, query: up, max: 1, min: 0}\n", []string{"rollback.yaml:12: healthChecks.prometheus.queries[0] must set exactly one of max"}},
		{"prometheus neither max nor min", minimal + "healthChecks:\n  prometheus:\n    url: http://p:9090\n    queries:\n      - {name: a, query: up}\n", []string{"rollback.yaml:12: healthChecks.prometheus.queries[0] must set exactly one"}},
		{"prometheus max not a number", minimal + "healthChecks:\n  prometheus:\n    url: http://p:9090\n    queries:\n      - {name: a, query: up, max: lots}\n", []string{"rollback.yaml:12: wrong type: got a string, want a number"}},
		{"prometheus duplicate name", minimal + "healthChecks:\n  prometheus:\n    url: http://p:9090\n    queries:\n      - {name: a, query: up, max: 1}\n      - {name: a, query: up, min: 1}\n", []string{`rollback.yaml:13: query name "a" is used twice`}},
		{"prometheus missing query", minimal + "healthChecks:\n  prometheus:\n    url: http://p:9090\n    queries:\n      - {name: a, max: 1}\n", []string{"rollback.yaml:12: missing healthChecks.prometheus.queries[0].query"}},
		{"slack inline url", minimal + "notifications:\n  slack:\n    webhookURLFromEnv: https://hooks.slack.com/services/T/B/X\n", []string{"rollback.yaml:10: notifications.slack.webhookURLFromEnv", "not an environment variable name"}},
		{"slack inline url key", minimal + "notifications:\n  slack:\n    webhookURL: https://hooks.slack.com/x\n", []string{`rollback.yaml:10: unknown key "webhookURL" in notifications.slack: remove it or use one of webhookURLFromEnv`}},
		{"webhook missing url", minimal + "notifications:\n  webhook:\n    hmacSecretFromEnv: S\n", []string{"rollback.yaml:10: missing notifications.webhook.urlFromEnv"}},
		{"pagerduty bad eventsURL", minimal + "notifications:\n  pagerduty:\n    routingKeyFromEnv: PD_KEY\n    eventsURL: ftp://pd.example/v2\n", []string{"rollback.yaml:11: notifications.pagerduty.eventsURL is not an http(s) URL"}},
		{"pagerduty bad env", minimal + "notifications:\n  pagerduty:\n    routingKeyFromEnv: 1abc\n", []string{"rollback.yaml:10: notifications.pagerduty.routingKeyFromEnv is not"}},
		{"escalation missing contact", minimal + "escalation:\n  primary:\n    name: Ana\n", []string{"rollback.yaml:10: missing escalation.primary.contact"}},
		{"escalation unknown role", minimal + "escalation:\n  tertiary: {name: a, contact: b}\n", []string{`rollback.yaml:9: unknown key "tertiary" in escalation`}},
		{"feature flags missing configMap", minimal + "featureFlags:\n  namespace: shop\n", []string{"rollback.yaml:9: missing featureFlags.configMap"}},
		{"unknown step", minimal + "steps: [app, cfg]\n", []string{`rollback.yaml:8: unknown step "cfg": use app, config or db`}},
		{"duplicate step", minimal + "steps:\n  - app\n  - db\n  - app\n", []string{`rollback.yaml:11: step "app" is listed twice`}},
		{"unknown key behind an alias", minimal + "configs:\n  - &c {kind: ConfigMap, name: x}\nfeatureFlags: *c\n", []string{`rollback.yaml:9: unknown field kind: remove it`}},
		{"several problems", minimal + "foo: 1\nsteps: [x]\nbar: 2\n", []string{"3 problems", "rollback.yaml:9: unknown step", "rollback.yaml:8: unknown key \"foo\"", "rollback.yaml:10: unknown key \"bar\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := Parse("rollback.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want error containing %q", rb, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error is %T, want *ParseError", err)
			}
			if code := outcome.KindOf(err); code != outcome.Refused {
				t.Errorf("exit code %d, want %d (refused)", code, outcome.Refused)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseNeverEchoesSecrets(t *testing.T) {
	for _, doc := range []string{
		minimal + "database:\n  url: postgres://u:hunter2@h/db\n  migrationsDir: m\n",
		minimal + "database: postgres://u:hunter2@h/db\n",
		minimal + "database:\n  urlFromEnv: postgres://u:hunter2@h/db\n  migrationsDir: m\n",
		minimal + "notifications:\n  slack:\n    webhookURLFromEnv: https://hooks.slack.com/services/T0/B0/hunter2\n",
		minimal + "notifications:\n  webhook: {urlFromEnv: W, hmacSecretFromEnv: hunter2-secret!}\n",
		minimal + "notifications:\n  pagerduty: {routingKeyFromEnv: [hunter2]}\n",
		minimal + "healthChecks:\n  prometheus: {url: \"ftp://u:hunter2@p\", queries: [{name: a, query: up, max: 1}]}\n",
	} {
		_, err := Parse("rollback.yaml", []byte(doc))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the secret or is missing: %v\nfor:\n%s", err, doc)
		}
	}
}

func TestLoadAndDiscover(t *testing.T) {
	dir := t.TempDir()
	if _, err := Discover(dir); !errors.Is(err, ErrNotFound) || outcome.KindOf(err) != outcome.Refused {
		t.Fatalf("Discover(empty dir) = %v, want ErrNotFound", err)
	}
	if _, err := Load(filepath.Join(dir, "rollback.yaml")); err == nil || !strings.Contains(err.Error(), "rollback init") {
		t.Fatalf("Load(missing) = %v, want a hint to run rollback init", err)
	}
	yml := filepath.Join(dir, "rollback.yml")
	if err := os.WriteFile(yml, Example(), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Discover(dir)
	if err != nil || p != yml {
		t.Fatalf("Discover = %q, %v; want %q", p, err, yml)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("Load(example) = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rollback.yaml"), []byte(minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Discover(dir); err == nil || !strings.Contains(err.Error(), "delete one") {
		t.Fatalf("Discover(both) = %v, want ambiguity error", err)
	}
}

func TestParseReportsUnknownKeysWithValueProblems(t *testing.T) {
	_, err := Parse("rollback.yaml", []byte(minimal+"database:\n  url: postgres://h/db\n  migrationsDir: m\nsteps: [app, database]\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Issues) != 2 {
		t.Fatalf("want 2 issues (inline url, unknown step), got %v", err)
	}
	if !strings.Contains(pe.Issues[0].Message, "urlFromEnv") || !strings.Contains(pe.Issues[1].Message, `unknown step "database"`) {
		t.Errorf("issues = %+v", pe.Issues)
	}
}
