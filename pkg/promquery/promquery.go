// Package promquery evaluates Prometheus queries against thresholds through
// the Prometheus HTTP API. A query with no data, a NaN value or an
// unreachable server is inconclusive, never healthy.
package promquery

// Outcome is the verdict of one evaluation.
type Outcome string

// Outcomes.
const (
	// Pass: the value is within its threshold.
	Pass Outcome = "pass"
	// Fail: the value breaches its threshold.
	Fail Outcome = "fail"
	// Inconclusive: no data, NaN, several series, or Prometheus unreachable.
	Inconclusive Outcome = "inconclusive"
)

// Check is one query and its threshold: the value must be <= Max, or >= Min.
type Check struct {
	// Name labels the check in output.
	Name string `json:"name"`
	// Query is PromQL with placeholders ({{.namespace}}, {{.deployment}}, {{.label_app}} ...; see Placeholders).
	Query string `json:"query"`
	// Max is the highest healthy value, nil when unused.
	Max *float64 `json:"max,omitempty"`
	// Min is the lowest healthy value, nil when unused.
	Min *float64 `json:"min,omitempty"`
}

// Sample is the result of evaluating one Check once.
type Sample struct {
	// Check is the check's name.
	Check string `json:"check"`
	// Query is the query as sent, templates expanded.
	Query string `json:"query"`
	// Value is the query's value; meaningless when Outcome is Inconclusive.
	Value float64 `json:"value"`
	// Outcome is pass, fail or inconclusive.
	Outcome Outcome `json:"outcome"`
	// Detail explains a fail or inconclusive outcome, e.g. "no data", "0.31 > max 0.05".
	Detail string `json:"detail,omitempty"`
}
