package runbook

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vibestack/rollback/pkg/promquery"
)

// locator finds the line of a value in the parsed YAML tree.
type locator struct{ root *yaml.Node }

// line returns the line of the value at path (map keys as strings, list
// indexes as ints), or of its deepest existing parent.
func (l locator) line(path ...any) int {
	n := l.root
	for _, p := range path {
		next := child(n, p)
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

// node returns the node at path, or nil.
func (l locator) node(path ...any) *yaml.Node {
	n := l.root
	for _, p := range path {
		if n = child(n, p); n == nil {
			return nil
		}
	}
	return n
}

func child(n *yaml.Node, p any) *yaml.Node {
	if n == nil {
		return nil
	}
	switch p := p.(type) {
	case string:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					return n.Content[i+1]
				}
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && p < len(n.Content) {
			return n.Content[p]
		}
	}
	return nil
}

var (
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	// helmNameRE is Helm's own rule for release names (helm install
	// refuses any other).
	helmNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// helmNameMax is the longest release name Helm accepts.
const helmNameMax = 53

// validate checks required fields and values; l gives the lines.
func validate(found *issues, rb *Runbook, l locator) {
	need := func(v string, what string, path ...any) bool {
		if strings.TrimSpace(v) == "" {
			found.add(l.line(path...), "missing %s: add it", what)
			return false
		}
		return true
	}
	k8sName := func(v, what string, path ...any) {
		if need(v, what, path...) && (len(v) > 253 || !nameRE.MatchString(v)) {
			found.add(l.line(path...), "%s %q is not a valid Kubernetes name: use lower-case letters, digits, '-' and '.'", what, v)
		}
	}
	env := func(v, what string, path ...any) {
		if need(v, what, path...) && !envRE.MatchString(v) {
			found.add(l.line(path...), "%s is not an environment variable name (value not shown: it may be a secret): write the variable's name (e.g. SLACK_WEBHOOK_URL) and export the value there", what)
		}
	}
	httpURL := func(v, what string, path ...any) {
		if !need(v, what, path...) {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			found.add(l.line(path...), "%s is not an http(s) URL (value not shown: it may hold credentials): write it like https://host/path", what)
		}
	}

	if need(rb.APIVersion, "apiVersion (\""+APIVersion+"\")", "apiVersion") && rb.APIVersion != APIVersion {
		found.add(l.line("apiVersion"), "unsupported apiVersion %q: use %q", rb.APIVersion, APIVersion)
	}
	if need(rb.Kind, "kind (\""+Kind+"\")", "kind") && rb.Kind != Kind {
		found.add(l.line("kind"), "unsupported kind %q: use %q", rb.Kind, Kind)
	}
	k8sName(rb.App, "app (the application's name)", "app")

	if len(rb.Clusters) == 0 {
		found.add(l.line("clusters"), "missing clusters: add at least one \"- context: CONTEXT\" with its namespace")
	}
	seen := map[Cluster]bool{}
	for i, c := range rb.Clusters {
		need(c.Context, fmt.Sprintf("clusters[%d].context (a kubeconfig context)", i), "clusters", i, "context")
		k8sName(c.Namespace, fmt.Sprintf("clusters[%d].namespace", i), "clusters", i, "namespace")
		if seen[c] {
			found.add(l.line("clusters", i), "clusters[%d] repeats context %q namespace %q: remove the duplicate", i, c.Context, c.Namespace)
		}
		seen[c] = true
	}

	if len(rb.Deployments)+len(rb.StatefulSets)+len(rb.DaemonSets)+len(rb.HelmReleases) == 0 {
		found.add(l.line("deployments"), "missing deployments: list the application's Deployment names (and its statefulSets and daemonSets, if any, or its Helm releases under helmReleases)")
	}
	for _, list := range []struct {
		key, kind string
		names     []string
	}{{"deployments", "deployment", rb.Deployments}, {"statefulSets", "statefulset", rb.StatefulSets}, {"daemonSets", "daemonset", rb.DaemonSets}} {
		for i, d := range list.names {
			k8sName(d, fmt.Sprintf("%s[%d]", list.key, i), list.key, i)
			if slices.Index(list.names, d) < i {
				found.add(l.line(list.key, i), "%s %q is listed twice: remove the duplicate", list.kind, d)
			}
		}
	}

	for i, h := range rb.HelmReleases {
		at := []any{"helmReleases", i}
		if need(h.Name, fmt.Sprintf("helmReleases[%d].name (the release's name, as helm list shows it)", i), append(at, "name")...) &&
			(len(h.Name) > helmNameMax || !helmNameRE.MatchString(h.Name)) {
			found.add(l.line(append(at, "name")...), "helmReleases[%d].name %q is not a Helm release name: use at most %d lower-case letters, digits, '-' and '.'", i, h.Name, helmNameMax)
		}
		if h.Namespace != "" {
			k8sName(h.Namespace, fmt.Sprintf("helmReleases[%d].namespace", i), append(at, "namespace")...)
		}
		for j := range i {
			if rb.HelmReleases[j].Name == h.Name {
				found.add(l.line(at...), "helm release %q is listed twice: list each release once", h.Name)
				break
			}
		}
	}

	for i, c := range rb.Configs {
		if need(c.Kind, fmt.Sprintf("configs[%d].kind (ConfigMap or Secret)", i), "configs", i, "kind") && c.Kind != "ConfigMap" && c.Kind != "Secret" {
			found.add(l.line("configs", i, "kind"), "configs[%d].kind %q: use ConfigMap or Secret", i, c.Kind)
		}
		k8sName(c.Name, fmt.Sprintf("configs[%d].name", i), "configs", i, "name")
	}

	if db := rb.Database; db != nil {
		switch {
		case db.URLFromEnv == "" && db.URLFromFile == "" && child(l.node("database"), "url") != nil:
			// reported by checkKeys: "never write the database URL"
		case db.URLFromEnv == "" && db.URLFromFile == "":
			found.add(l.line("database"), "database has no URL source: add urlFromEnv: VARIABLE or urlFromFile: PATH")
		case db.URLFromEnv != "" && db.URLFromFile != "":
			found.add(l.line("database", "urlFromFile"), "database sets both urlFromEnv and urlFromFile: keep exactly one")
		case db.URLFromEnv != "":
			env(db.URLFromEnv, "database.urlFromEnv", "database", "urlFromEnv")
		}
		need(db.MigrationsDir, "database.migrationsDir (the directory of migration files)", "database", "migrationsDir")
		switch db.Tool {
		case "", "migrate", "goose", "auto":
		default:
			found.add(l.line("database", "tool"), "database.tool %q: use migrate, goose or auto", db.Tool)
		}
	}

	for i, h := range rb.HealthChecks.HTTP {
		httpURL(h.URL, fmt.Sprintf("healthChecks.http[%d].url", i), "healthChecks", "http", i, "url")
		if h.ExpectStatus != 0 && (h.ExpectStatus < 100 || h.ExpectStatus > 599) {
			found.add(l.line("healthChecks", "http", i, "expectStatus"), "healthChecks.http[%d].expectStatus %d is not an HTTP status: use 100-599 (default 200)", i, h.ExpectStatus)
		}
	}
	if p := rb.HealthChecks.Prometheus; p != nil {
		httpURL(p.URL, "healthChecks.prometheus.url", "healthChecks", "prometheus", "url")
		if len(p.Queries) == 0 {
			found.add(l.line("healthChecks", "prometheus"), "healthChecks.prometheus has no queries: add \"- name: NAME\" with query and max or min")
		}
		names := map[string]bool{}
		for i, q := range p.Queries {
			at := []any{"healthChecks", "prometheus", "queries", i}
			if need(q.Name, fmt.Sprintf("healthChecks.prometheus.queries[%d].name", i), append(at, "name")...) {
				if names[q.Name] {
					found.add(l.line(append(at, "name")...), "query name %q is used twice: give each query its own name", q.Name)
				}
				names[q.Name] = true
			}
			if need(q.Query, fmt.Sprintf("healthChecks.prometheus.queries[%d].query (PromQL)", i), append(at, "query")...) {
				if err := promquery.Validate(q.Query); err != nil {
					found.add(l.line(append(at, "query")...), "healthChecks.prometheus.queries[%d].query: %v", i, err)
				}
			}
			if (q.Max == nil) == (q.Min == nil) {
				found.add(l.line(at...), "healthChecks.prometheus.queries[%d] must set exactly one of max (highest healthy value) or min (lowest healthy value)", i)
			}
		}
	}

	n := rb.Notifications
	if n.Slack != nil {
		env(n.Slack.WebhookURLFromEnv, "notifications.slack.webhookURLFromEnv", "notifications", "slack", "webhookURLFromEnv")
	}
	if n.Webhook != nil {
		env(n.Webhook.URLFromEnv, "notifications.webhook.urlFromEnv", "notifications", "webhook", "urlFromEnv")
		if n.Webhook.HMACSecretFromEnv != "" {
			env(n.Webhook.HMACSecretFromEnv, "notifications.webhook.hmacSecretFromEnv", "notifications", "webhook", "hmacSecretFromEnv")
		}
	}
	if n.PagerDuty != nil {
		env(n.PagerDuty.RoutingKeyFromEnv, "notifications.pagerduty.routingKeyFromEnv", "notifications", "pagerduty", "routingKeyFromEnv")
		if n.PagerDuty.EventsURL != "" {
			httpURL(n.PagerDuty.EventsURL, "notifications.pagerduty.eventsURL", "notifications", "pagerduty", "eventsURL")
		}
	}

	for _, c := range []struct {
		key string
		c   *Contact
	}{{"primary", rb.Escalation.Primary}, {"secondary", rb.Escalation.Secondary}, {"engineeringLead", rb.Escalation.EngineeringLead}} {
		if c.c != nil {
			need(c.c.Name, "escalation."+c.key+".name", "escalation", c.key, "name")
			need(c.c.Contact, "escalation."+c.key+".contact (phone, Slack handle or e-mail)", "escalation", c.key, "contact")
		}
	}

	if ff := rb.FeatureFlags; ff != nil {
		k8sName(ff.ConfigMap, "featureFlags.configMap", "featureFlags", "configMap")
		if ff.Namespace != "" {
			k8sName(ff.Namespace, "featureFlags.namespace", "featureFlags", "namespace")
		}
	}

	for i, s := range rb.Steps {
		switch {
		case !slices.Contains(DefaultSteps, s):
			found.add(l.line("steps", i), "unknown step %q: use app, config or db", s)
		case slices.Index(rb.Steps, s) < i:
			found.add(l.line("steps", i), "step %q is listed twice: each step runs once", s)
		}
	}
}

// defaults fills in the documented defaults.
func (rb *Runbook) defaults() {
	if len(rb.Steps) == 0 {
		rb.Steps = slices.Clone(DefaultSteps)
	}
	for i := range rb.HealthChecks.HTTP {
		if rb.HealthChecks.HTTP[i].ExpectStatus == 0 {
			rb.HealthChecks.HTTP[i].ExpectStatus = DefaultExpectStatus
		}
	}
	if rb.Database != nil {
		if rb.Database.Tool == "" {
			rb.Database.Tool = "auto"
		}
		if rb.Database.BackupDir == "" {
			rb.Database.BackupDir = "backups"
		}
	}
	if ff := rb.FeatureFlags; ff != nil && ff.Namespace == "" && len(rb.Clusters) > 0 {
		ff.Namespace = rb.Clusters[0].Namespace
	}
}
