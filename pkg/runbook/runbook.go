// Package runbook reads rollback.yaml, the application's rollback runbook:
// where the application runs, what belongs to it, how to check its health,
// whom to tell and in which order to roll back. Parsing is strict: unknown
// keys, wrong types and missing required fields are errors naming file:line.
package runbook

import "strings"

// APIVersion is the only apiVersion a runbook may declare.
const APIVersion = "rollback.vibestack.dev/v1"

// Kind is the only kind a runbook may declare.
const Kind = "Runbook"

// Step names, in the default order.
const (
	// StepApp rolls back the application's workloads (Deployments,
	// StatefulSets, DaemonSets).
	StepApp = "app"
	// StepConfig rolls back the ConfigMaps and Secrets.
	StepConfig = "config"
	// StepDB rolls back the database migrations.
	StepDB = "db"
)

// DefaultSteps is the step order used when a runbook sets none:
// application, then configuration, then database.
var DefaultSteps = []string{StepApp, StepConfig, StepDB}

// DefaultExpectStatus is the HTTP status a health check expects when it sets none.
const DefaultExpectStatus = 200

// Runbook is the parsed content of rollback.yaml.
type Runbook struct {
	// APIVersion must be rollback.vibestack.dev/v1.
	APIVersion string `yaml:"apiVersion"`
	// Kind must be Runbook.
	Kind string `yaml:"kind"`
	// App is the application's name (required); it names the cluster lock.
	App string `yaml:"app"`
	// Clusters lists the kubeconfig contexts and namespaces the app runs in (at least one).
	Clusters []Cluster `yaml:"clusters"`
	// Deployments lists the app's Deployment names. Deployments,
	// StatefulSets, DaemonSets and HelmReleases together name at least
	// one workload.
	Deployments []string `yaml:"deployments,omitempty"`
	// StatefulSets lists the app's StatefulSet names.
	StatefulSets []string `yaml:"statefulSets,omitempty"`
	// DaemonSets lists the app's DaemonSet names.
	DaemonSets []string `yaml:"daemonSets,omitempty"`
	// HelmReleases lists the app's Helm releases, rolled back by the app
	// step through Helm; a Deployment of a listed release is rolled back
	// through its release.
	HelmReleases []HelmRelease `yaml:"helmReleases,omitempty"`
	// Configs lists the ConfigMaps and Secrets that belong to the app.
	Configs []ConfigRef `yaml:"configs,omitempty"`
	// Database describes the app's database; nil when it has none.
	Database *Database `yaml:"database,omitempty"`
	// HealthChecks are run before and after a rollback.
	HealthChecks HealthChecks `yaml:"healthChecks,omitempty"`
	// Notifications are the channels told about the rollback.
	Notifications Notifications `yaml:"notifications,omitempty"`
	// Escalation lists whom to call when the rollback fails.
	Escalation Escalation `yaml:"escalation,omitempty"`
	// FeatureFlags says where the app's feature flags are kept; nil when it has none.
	FeatureFlags *FeatureFlags `yaml:"featureFlags,omitempty"`
	// Steps is the order of the rollback steps (app, config, db); DefaultSteps when empty.
	Steps []string `yaml:"steps,omitempty"`
}

// Cluster is one kubeconfig context and the namespace the app runs in there.
type Cluster struct {
	// Context is the kubeconfig context name (required).
	Context string `yaml:"context"`
	// Namespace is the app's namespace in that cluster (required).
	Namespace string `yaml:"namespace"`
}

// HelmRelease names one Helm release of the app.
type HelmRelease struct {
	// Name is the release's name (required).
	Name string `yaml:"name"`
	// Namespace is the release's namespace when it is not the cluster's.
	Namespace string `yaml:"namespace,omitempty"`
}

// NamespaceIn returns the release's namespace in a cluster whose
// namespace is clusterNamespace.
func (h HelmRelease) NamespaceIn(clusterNamespace string) string {
	if h.Namespace != "" {
		return h.Namespace
	}
	return clusterNamespace
}

// HelmReleaseOf returns the listed release named name in namespace (the
// cluster's namespace is clusterNamespace), or false when none is listed.
func (rb *Runbook) HelmReleaseOf(name, namespace, clusterNamespace string) (HelmRelease, bool) {
	for _, h := range rb.HelmReleases {
		if h.Name == name && h.NamespaceIn(clusterNamespace) == namespace {
			return h, true
		}
	}
	return HelmRelease{}, false
}

// ConfigRef names one ConfigMap or Secret of the app.
type ConfigRef struct {
	// Kind is ConfigMap or Secret (required).
	Kind string `yaml:"kind"`
	// Name is the object's name (required).
	Name string `yaml:"name"`
}

// Database says how to reach the app's database and migrate it. The URL is
// never written in the runbook: it comes from an environment variable or a file.
type Database struct {
	// URLFromEnv names the environment variable holding the database URL.
	URLFromEnv string `yaml:"urlFromEnv,omitempty"`
	// URLFromFile is the path of a file holding the database URL.
	URLFromFile string `yaml:"urlFromFile,omitempty"`
	// MigrationsDir is the directory with the migration files (required).
	MigrationsDir string `yaml:"migrationsDir"`
	// Tool is the migration tool: migrate, goose or auto (default auto).
	Tool string `yaml:"tool,omitempty"`
	// BackupDir is where backups are written before a schema rollback (default "backups").
	BackupDir string `yaml:"backupDir,omitempty"`
}

// HealthChecks are the checks that say whether the app is healthy.
type HealthChecks struct {
	// HTTP checks GET a URL and compare the status.
	HTTP []HTTPCheck `yaml:"http,omitempty"`
	// Prometheus checks compare query results with thresholds; nil when none.
	Prometheus *PrometheusChecks `yaml:"prometheus,omitempty"`
}

// HTTPCheck is one URL and the status it must answer with.
type HTTPCheck struct {
	// URL is an http or https URL (required).
	URL string `yaml:"url"`
	// ExpectStatus is the expected HTTP status (default 200).
	ExpectStatus int `yaml:"expectStatus,omitempty"`
	// Timeout bounds one request, as a Go duration such as 5s (default 5s).
	Timeout Duration `yaml:"timeout,omitempty"`
}

// PrometheusChecks are queries against one Prometheus server.
type PrometheusChecks struct {
	// URL is the Prometheus server's http or https URL (required).
	URL string `yaml:"url"`
	// Queries are the PromQL queries and their thresholds (at least one).
	Queries []PrometheusQuery `yaml:"queries"`
}

// PrometheusQuery is one PromQL query whose value must stay at or below Max,
// or at or above Min (exactly one of them is set).
type PrometheusQuery struct {
	// Name labels the query in output (required, unique).
	Name string `yaml:"name"`
	// Query is the PromQL expression (required).
	Query string `yaml:"query"`
	// Max is the highest healthy value.
	Max *float64 `yaml:"max,omitempty"`
	// Min is the lowest healthy value.
	Min *float64 `yaml:"min,omitempty"`
}

// Notifications are the channels told about a rollback. Every secret URL or
// key comes from an environment variable.
type Notifications struct {
	// Slack posts to an incoming webhook; nil when not used.
	Slack *Slack `yaml:"slack,omitempty"`
	// Webhook posts HMAC-signed JSON; nil when not used.
	Webhook *Webhook `yaml:"webhook,omitempty"`
	// PagerDuty sends Events API v2 events; nil when not used.
	PagerDuty *PagerDuty `yaml:"pagerduty,omitempty"`
}

// Slack is a Slack incoming webhook.
type Slack struct {
	// WebhookURLFromEnv names the environment variable holding the webhook URL (required).
	WebhookURLFromEnv string `yaml:"webhookURLFromEnv"`
}

// Webhook is a generic JSON webhook signed with HMAC-SHA256.
type Webhook struct {
	// URLFromEnv names the environment variable holding the URL (required).
	URLFromEnv string `yaml:"urlFromEnv"`
	// HMACSecretFromEnv names the environment variable holding the signing secret.
	HMACSecretFromEnv string `yaml:"hmacSecretFromEnv,omitempty"`
}

// PagerDuty is a PagerDuty Events API v2 integration.
type PagerDuty struct {
	// RoutingKeyFromEnv names the environment variable holding the routing key (required).
	RoutingKeyFromEnv string `yaml:"routingKeyFromEnv"`
	// EventsURL overrides the Events API endpoint (default DefaultPagerDutyEventsURL),
	// for example for a proxy or a test receiver; an http or https URL.
	EventsURL string `yaml:"eventsURL,omitempty"`
}

// DefaultPagerDutyEventsURL is the PagerDuty Events API v2 endpoint used when
// a runbook sets no pagerduty.eventsURL.
const DefaultPagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

// Escalation lists the people to call, in order.
type Escalation struct {
	// Primary is the primary on-call DevOps/SRE.
	Primary *Contact `yaml:"primary,omitempty"`
	// Secondary is the secondary on-call DevOps/SRE.
	Secondary *Contact `yaml:"secondary,omitempty"`
	// EngineeringLead is the engineering lead.
	EngineeringLead *Contact `yaml:"engineeringLead,omitempty"`
}

// Contact is one person or team and how to reach them.
type Contact struct {
	// Name is the person or team (required).
	Name string `yaml:"name"`
	// Contact is how to reach them: phone, Slack handle, e-mail (required).
	Contact string `yaml:"contact"`
}

// FeatureFlags says which ConfigMap holds the app's feature flags (one key per flag).
type FeatureFlags struct {
	// ConfigMap is the ConfigMap's name (required).
	ConfigMap string `yaml:"configMap"`
	// Namespace is its namespace (default: the first cluster's namespace).
	Namespace string `yaml:"namespace,omitempty"`
}

// Workload is one workload of the runbook: its kind and name.
type Workload struct {
	// Kind is Deployment, StatefulSet or DaemonSet.
	Kind string
	// Name is the workload's name.
	Name string
}

// String returns the workload as kubectl names it: deployment/web,
// statefulset/db, daemonset/agent.
func (w Workload) String() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// Workloads lists the runbook's workloads: its Deployments, then its
// StatefulSets, then its DaemonSets, each in the order written.
func (rb *Runbook) Workloads() []Workload {
	var out []Workload
	for _, l := range []struct {
		kind  string
		names []string
	}{{"Deployment", rb.Deployments}, {"StatefulSet", rb.StatefulSets}, {"DaemonSet", rb.DaemonSets}} {
		for _, n := range l.names {
			out = append(out, Workload{Kind: l.kind, Name: n})
		}
	}
	return out
}

// Describe returns the workload for a sentence: "statefulset db".
func (w Workload) Describe() string { return strings.ToLower(w.Kind) + " " + w.Name }
