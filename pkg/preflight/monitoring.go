package preflight

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/runbook"
)

// monitoringJobs returns one job per Prometheus query and HTTP health check.
func (o *Options) monitoringJobs() []job {
	var jobs []job
	hc := o.Runbook.HealthChecks
	if p := hc.Prometheus; p != nil {
		for _, q := range p.Queries {
			jobs = append(jobs, o.prometheusJob(p.URL, q))
		}
	}
	for _, h := range hc.HTTP {
		jobs = append(jobs, o.httpJob(h))
	}
	return jobs
}

// queryVars are the template variables of a Prometheus query at preflight:
// the first cluster's namespace and the first workload (as guard.Vars
// names them).
func (o *Options) queryVars() map[string]string {
	v := map[string]string{"app": o.Runbook.App, "label_app": o.Runbook.App}
	if len(o.Runbook.Clusters) > 0 {
		v["namespace"] = o.Runbook.Clusters[0].Namespace
	}
	if ws := o.Runbook.Workloads(); len(ws) > 0 {
		v["deployment"], v["workload"], v["kind"] = ws[0].Name, ws[0].Name, strings.ToLower(ws[0].Kind)
	}
	return v
}

// prometheusJob evaluates one query: a breach is a warning (expected during
// an incident); no answer is unknown, because a rollback that cannot be
// verified is not safe to start.
func (o *Options) prometheusJob(promURL string, q runbook.PrometheusQuery) job {
	return func(ctx context.Context) []Check {
		ch := Check{Group: GroupMonitoring, Name: "prometheus " + q.Name}
		if o.Prometheus == nil {
			ch.Status, ch.Detail = Unknown, "no Prometheus client"
			ch.Fix = "cannot verify the rollback without monitoring: check healthChecks.prometheus.url in the runbook"
			return []Check{ch}
		}
		s := o.Prometheus.Evaluate(ctx, promquery.Check{Name: q.Name, Query: q.Query, Max: q.Max, Min: q.Min}, o.queryVars())
		bound := threshold(q.Max, q.Min)
		switch s.Outcome {
		case promquery.Pass:
			ch.Status, ch.Detail = OK, fmt.Sprintf("%s (healthy: %s)", formatValue(s.Value), bound)
		case promquery.Fail:
			ch.Status, ch.Detail = Warn, fmt.Sprintf("%s breaches %s (expected during an incident; the rollback should bring it back)", formatValue(s.Value), bound)
		default:
			ch.Status = Unknown
			ch.Detail = s.Detail
			if ch.Detail == "" {
				ch.Detail = "no answer from Prometheus at " + redact.Host(promURL)
			}
			ch.Fix = fmt.Sprintf("cannot verify the rollback without monitoring: make Prometheus at %s reachable and the query return one series, or fix the query %q in the runbook", redact.Host(promURL), q.Name)
		}
		return []Check{ch}
	}
}

func threshold(maxV, minV *float64) string {
	switch {
	case maxV != nil && minV != nil:
		return fmt.Sprintf("between %s and %s", formatValue(*minV), formatValue(*maxV))
	case maxV != nil:
		return "<= " + formatValue(*maxV)
	case minV != nil:
		return ">= " + formatValue(*minV)
	}
	return "no threshold"
}

func formatValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// httpJob GETs one health URL: another status than expected is a warning
// (the app is unhealthy, which is why we roll back); no answer is unknown.
func (o *Options) httpJob(h runbook.HTTPCheck) job {
	return func(ctx context.Context) []Check {
		shown := redact.URL(h.URL)
		ch := Check{Group: GroupMonitoring, Name: "http " + shown}
		if h.Timeout.Duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, h.Timeout.Duration)
			defer cancel()
		}
		want := h.ExpectStatus
		if want == 0 {
			want = runbook.DefaultExpectStatus
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
		if err != nil {
			ch.Status, ch.Detail, ch.Fix = Unknown, "invalid URL", "fix the URL in the runbook's healthChecks.http"
			return []Check{ch}
		}
		resp, err := o.HTTPClient.Do(req)
		if err != nil {
			ch.Status = Unknown
			ch.Detail = "no answer: " + urlErr(err)
			ch.Fix = "cannot verify the rollback without this health check: make " + shown + " reachable from here (port-forward, VPN) or fix the runbook"
			return []Check{ch}
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			ch.Status = Warn
			ch.Detail = fmt.Sprintf("status %d, healthy is %d (expected during an incident)", resp.StatusCode, want)
			return []Check{ch}
		}
		ch.Status, ch.Detail = OK, fmt.Sprintf("status %d", resp.StatusCode)
		return []Check{ch}
	}
}

// urlErr returns the cause of a client error without the URL it carries.
func urlErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}
