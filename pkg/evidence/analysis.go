package evidence

import (
	"context"

	"github.com/vibestack/rollback/pkg/promquery"
)

// Analysis is guard's analysis of a release it judged bad: every round's
// samples (the Prometheus query results, URL checks and pod checks) and
// the verdict.
type Analysis struct {
	// Verdict is the analysis' verdict (fail, inconclusive), empty when
	// the rollout itself failed.
	Verdict promquery.Outcome `json:"verdict,omitempty"`
	// Reason says why the release was judged bad.
	Reason string `json:"reason"`
	// Rounds are the samples of each round, oldest first.
	Rounds [][]promquery.Sample `json:"rounds"`
}

// Describe names the source.
func (Analysis) Describe() string { return "guard analysis" }

type analysisPart struct{ a Analysis }

func (a Analysis) start(_ context.Context, col *collector) (part, []logTask) {
	col.addJSON("guard/analysis.json", a)
	var failed []failedSample
	for i, round := range a.Rounds {
		for _, s := range round {
			if s.Outcome != promquery.Pass {
				failed = append(failed, failedSample{Round: i + 1, Sample: s})
			}
		}
	}
	if len(failed) > 0 {
		col.addJSON("guard/failed-checks.json", failed)
	}
	return analysisPart{a}, nil
}

// failedSample is a check that failed or was inconclusive in one round.
type failedSample struct {
	Round int `json:"round"`
	promquery.Sample
}

func (p analysisPart) summarize(s *Summary) {
	as := &AnalysisSummary{Verdict: string(p.a.Verdict), Reason: p.a.Reason, Rounds: len(p.a.Rounds)}
	if n := len(p.a.Rounds); n > 0 {
		for _, smp := range p.a.Rounds[n-1] {
			if smp.Outcome != promquery.Pass && len(as.Failed) < maxSummarySamples {
				as.Failed = append(as.Failed, smp)
			}
		}
	}
	s.Analysis = as
}
