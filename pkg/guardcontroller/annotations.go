package guardcontroller

// Annotations a Deployment, StatefulSet or DaemonSet carries to opt in and configure its guard, and
// the one the controller writes.
const (
	// AnnotationPrefix is the prefix of every guard annotation.
	AnnotationPrefix = "rollback.vibestack.dev/guard"
	// AnnotationGuard opts a workload in when it is "enabled".
	AnnotationGuard = AnnotationPrefix
	// AnnotationConfig names a ConfigMap in the workload's namespace with the settings.
	AnnotationConfig = AnnotationPrefix + "-config"
	// AnnotationState is written by the controller: the JSON State of the guard.
	AnnotationState = AnnotationPrefix + "-state"

	// AnnotationBake is how long the release must stay healthy after its rollout (Go duration).
	AnnotationBake = AnnotationPrefix + "-bake"
	// AnnotationInterval is the time between two analysis rounds.
	AnnotationInterval = AnnotationPrefix + "-interval"
	// AnnotationFailureLimit is how many failed rounds are tolerated.
	AnnotationFailureLimit = AnnotationPrefix + "-failure-limit"
	// AnnotationConsecutiveErrorLimit is how many inconclusive rounds in a row end the analysis.
	AnnotationConsecutiveErrorLimit = AnnotationPrefix + "-consecutive-error-limit"
	// AnnotationOnInconclusive is rollback, pass or fail.
	AnnotationOnInconclusive = AnnotationPrefix + "-on-inconclusive"
	// AnnotationCheckURLs is a comma-separated list of http(s) URLs that must answer 2xx.
	AnnotationCheckURLs = AnnotationPrefix + "-check-urls"
	// AnnotationPrometheusURL is the Prometheus server the queries go to.
	AnnotationPrometheusURL = AnnotationPrefix + "-prometheus-url"
	// AnnotationTimeout bounds the watch of the rollout and of the rollback.
	AnnotationTimeout = AnnotationPrefix + "-timeout"
	// AnnotationSettle is the settle window of the rollback's verification.
	AnnotationSettle = AnnotationPrefix + "-settle"

	// EnabledValue is the value of AnnotationGuard that opts in.
	EnabledValue = "enabled"
)

// Phases of a guard (State.Phase).
const (
	PhaseWatching    = "watching"
	PhaseBaking      = "baking"
	PhasePassed      = "passed"
	PhaseRollingBack = "rolling-back"
	PhaseRolledBack  = "rolled-back"
	PhaseFailed      = "failed"
)

// settingKeys maps every accepted setting annotation to its ConfigMap key.
var settingKeys = map[string]string{
	AnnotationBake:                  "bake",
	AnnotationInterval:              "interval",
	AnnotationFailureLimit:          "failure-limit",
	AnnotationConsecutiveErrorLimit: "consecutive-error-limit",
	AnnotationOnInconclusive:        "on-inconclusive",
	AnnotationCheckURLs:             "check-urls",
	AnnotationPrometheusURL:         "prometheus-url",
	AnnotationTimeout:               "timeout",
	AnnotationSettle:                "settle",
}
