package incident

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/runbook"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// healthAfter runs the runbook's health checks until they all pass or
// HealthTimeout passes. An inconclusive check is never a pass.
func (s *session) healthAfter(ctx context.Context) error {
	r := s.r
	hc := r.Runbook.HealthChecks
	if len(hc.HTTP) == 0 && (hc.Prometheus == nil || r.Prometheus == nil) {
		return nil
	}
	timeout := r.HealthTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	deadline := r.Clock.Now().Add(timeout)
	var checks []HealthCheck
	for {
		checks = s.healthRound(ctx)
		if allPass(checks) || !r.Clock.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-r.Clock.After(2 * time.Second):
		}
	}
	s.res.Health = checks
	result := journal.ResultOK
	if !allPass(checks) {
		result = journal.ResultFailed
		s.res.Verdict = VerdictUnhealthy
	}
	s.log(ctx, journal.Entry{Step: "health", Action: "health.checked", Result: result, Inputs: map[string]any{"phase": "after"}, After: checks})
	for _, c := range checks {
		s.progress("  health %s: %s %s", c.Name, c.Outcome, c.Detail)
	}
	if result == journal.ResultFailed {
		return outcome.AsUnhealthy(fmt.Errorf("health checks after the rollback did not pass within %s", timeout))
	}
	return nil
}

// healthRound runs every check once.
func (s *session) healthRound(ctx context.Context) []HealthCheck {
	r := s.r
	var out []HealthCheck
	for _, h := range r.Runbook.HealthChecks.HTTP {
		out = append(out, s.httpCheck(ctx, h))
	}
	if p := r.Runbook.HealthChecks.Prometheus; p != nil && r.Prometheus != nil {
		for _, q := range p.Queries {
			smp := r.Prometheus.Evaluate(ctx, promquery.Check{Name: q.Name, Query: q.Query, Max: q.Max, Min: q.Min},
				map[string]string{"app": r.Runbook.App, "namespace": r.Clusters[0].Namespace})
			out = append(out, HealthCheck{Name: q.Name, Outcome: string(smp.Outcome), Detail: sampleDetail(smp)})
		}
	}
	return out
}

func (s *session) httpCheck(ctx context.Context, h runbook.HTTPCheck) HealthCheck {
	want := h.ExpectStatus
	if want == 0 {
		want = runbook.DefaultExpectStatus
	}
	timeout := h.Timeout.Duration
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := s.r.HTTPClient
	if hc == nil {
		hc = safehttp.NewClient(0)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return HealthCheck{Name: redact.URL(h.URL), Outcome: string(promquery.Inconclusive), Detail: "invalid URL"}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return HealthCheck{Name: redact.URL(h.URL), Outcome: string(promquery.Inconclusive), Detail: "unreachable"}
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return HealthCheck{Name: redact.URL(h.URL), Outcome: string(promquery.Fail), Detail: fmt.Sprintf("status %d, want %d", resp.StatusCode, want)}
	}
	return HealthCheck{Name: redact.URL(h.URL), Outcome: string(promquery.Pass), Detail: fmt.Sprintf("status %d", resp.StatusCode)}
}

func sampleDetail(s promquery.Sample) string {
	if s.Detail != "" {
		return s.Detail
	}
	return fmt.Sprintf("%g", s.Value)
}

func allPass(cs []HealthCheck) bool {
	for _, c := range cs {
		if c.Outcome != string(promquery.Pass) {
			return false
		}
	}
	return true
}
