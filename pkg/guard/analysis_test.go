package guard

import (
	"testing"

	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
)

const (
	P = promquery.Pass
	F = promquery.Fail
	I = promquery.Inconclusive
)

func TestAnalysis(t *testing.T) {
	tests := []struct {
		name         string
		failureLimit int
		errorLimit   int
		rounds       []promquery.Outcome
		bakeOverAt   int // index of the first round evaluated after the bake time is up
		want         promquery.Outcome
		wantAt       int // index of the round that ends the analysis
	}{
		{name: "all pass", errorLimit: 4, rounds: []promquery.Outcome{P, P, P, P}, bakeOverAt: 3, want: P, wantAt: 3},
		{name: "first failure rolls back (default limit 0)", errorLimit: 4, rounds: []promquery.Outcome{P, F}, bakeOverAt: 9, want: F, wantAt: 1},
		{name: "failure limit 1 tolerates one", failureLimit: 1, errorLimit: 4, rounds: []promquery.Outcome{F, P, F}, bakeOverAt: 9, want: F, wantAt: 2},
		{name: "failure limit 1, one failure then passes", failureLimit: 1, errorLimit: 4, rounds: []promquery.Outcome{F, P, P}, bakeOverAt: 2, want: P, wantAt: 2},
		{name: "5 inconclusive in a row end it (limit 4)", errorLimit: 4, rounds: []promquery.Outcome{P, I, I, I, I, I}, bakeOverAt: 9, want: I, wantAt: 5},
		{name: "a pass resets the run of inconclusive rounds", errorLimit: 2, rounds: []promquery.Outcome{I, I, P, I, I, P}, bakeOverAt: 5, want: P, wantAt: 5},
		{name: "bake never ends on an inconclusive round", errorLimit: 4, rounds: []promquery.Outcome{P, P, I, I, I, I, I}, bakeOverAt: 2, want: I, wantAt: 6},
		{name: "bake over on inconclusive, then a pass", errorLimit: 4, rounds: []promquery.Outcome{P, I, P}, bakeOverAt: 1, want: P, wantAt: 2},
		{name: "only inconclusive never passes", errorLimit: 0, rounds: []promquery.Outcome{I}, bakeOverAt: 0, want: I, wantAt: 0},
		{name: "bake over on a tolerated failure goes on", failureLimit: 1, errorLimit: 4, rounds: []promquery.Outcome{P, F, P}, bakeOverAt: 1, want: P, wantAt: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Analysis{FailureLimit: tt.failureLimit, ConsecutiveErrorLimit: tt.errorLimit}
			for i, o := range tt.rounds {
				v := a.Add(o, i >= tt.bakeOverAt)
				if v == "" {
					continue
				}
				if v != tt.want || i != tt.wantAt {
					t.Fatalf("ended %s at round %d, want %s at round %d (%s)", v, i, tt.want, tt.wantAt, a.String())
				}
				return
			}
			t.Fatalf("analysis did not end, want %s at round %d (%s)", tt.want, tt.wantAt, a.String())
		})
	}
}

func TestRoundOutcome(t *testing.T) {
	s := func(o ...promquery.Outcome) []promquery.Sample {
		var out []promquery.Sample
		for _, x := range o {
			out = append(out, promquery.Sample{Outcome: x})
		}
		return out
	}
	tests := []struct {
		name string
		in   []promquery.Sample
		want promquery.Outcome
	}{
		{"all pass", s(P, P), P},
		{"one fail wins", s(P, I, F), F},
		{"inconclusive without fail", s(P, I), I},
		{"empty round passes", nil, P},
	}
	for _, tt := range tests {
		if got := RoundOutcome(tt.in); got != tt.want {
			t.Errorf("%s: got %s want %s", tt.name, got, tt.want)
		}
	}
}

func TestVars(t *testing.T) {
	d := &rollout.WorkloadInfo{Workload: rollout.Workload{Kind: rollout.KindStatefulSet, Namespace: "shop", Name: "web"},
		Labels: map[string]string{"app.kubernetes.io/name": "web", "team": "pay"}}
	v := Vars(d, 7)
	want := map[string]string{"namespace": "shop", "deployment": "web", "workload": "web", "kind": "statefulset", "revision": "7",
		"label_app_kubernetes_io_name": "web", "label_team": "pay"}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %q, want %q", k, v[k], w)
		}
	}
	if q, err := promquery.Expand(`x{ns="{{.namespace}}",app="{{.label_app_kubernetes_io_name}}"}`, v); err != nil || q != `x{ns="shop",app="web"}` {
		t.Errorf("expand: %q %v", q, err)
	}
}

func TestValidate(t *testing.T) {
	one := 1.0
	ok := Guard{Interval: 1}
	tests := []struct {
		name string
		mut  func(*Guard)
		bad  bool
	}{
		{"defaults", func(*Guard) {}, false},
		{"zero interval", func(g *Guard) { g.Interval = 0 }, true},
		{"negative bake", func(g *Guard) { g.Bake = -1 }, true},
		{"bad on-inconclusive", func(g *Guard) { g.OnInconclusive = "ignore" }, true},
		{"query without url", func(g *Guard) { g.Checks = []promquery.Check{{Query: "up", Min: &one}} }, true},
		{"query without threshold", func(g *Guard) {
			g.PrometheusURL = "http://p:9090"
			g.Checks = []promquery.Check{{Query: "up"}}
		}, true},
		{"query with both thresholds", func(g *Guard) {
			g.PrometheusURL = "http://p:9090"
			g.Checks = []promquery.Check{{Query: "up", Min: &one, Max: &one}}
		}, true},
		{"good query", func(g *Guard) {
			g.PrometheusURL = "http://p:9090"
			g.Checks = []promquery.Check{{Query: `up{namespace="{{.namespace}}"}`, Min: &one}}
		}, false},
		{"broken template", func(g *Guard) {
			g.PrometheusURL = "http://p:9090"
			g.Checks = []promquery.Check{{Query: `up{{`, Min: &one}}
		}, true},
	}
	for _, tt := range tests {
		g := ok
		tt.mut(&g)
		if err := g.Validate(); (err != nil) != tt.bad {
			t.Errorf("%s: err %v, want bad=%v", tt.name, err, tt.bad)
		}
	}
}
