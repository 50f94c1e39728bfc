package drill

import (
	"fmt"
	"sort"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Previous returns the earlier drills of app kept in the journal directory,
// newest first.
func Previous(dir, app string) ([]Timing, error) {
	list, err := journal.List(dir)
	if err != nil {
		return nil, err
	}
	var out []Timing
	for _, s := range list {
		if s.App != app {
			continue
		}
		entries, err := journal.Read(dir, s.Incident)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Action != "drill.completed" {
				continue
			}
			t := Timing{Incident: s.Incident, Time: e.Time}
			t.Detect = seconds(e.Inputs["detectSeconds"])
			t.Recover = seconds(e.Inputs["recoverSeconds"])
			t.Verdict, _ = e.Inputs["verdict"].(string)
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, nil
}

func seconds(v any) rollout.Duration {
	f, _ := v.(float64)
	return rollout.Duration(time.Duration(f * float64(time.Second)))
}

// comparison describes res against the previous drills, e.g.
// "detect 4.1s (median of 3 earlier passed drills 5.0s), recover 9.8s (median 10.2s)".
func comparison(res *Result) string {
	var det, rec []time.Duration
	for _, p := range res.Previous {
		if p.Verdict == VerdictPassed {
			det = append(det, time.Duration(p.Detect))
			rec = append(rec, time.Duration(p.Recover))
		}
	}
	if len(det) == 0 {
		return "first passed drill of " + res.App
	}
	return fmt.Sprintf("detect %s (median of %d earlier passed drills %s), recover %s (median %s)",
		res.Detect, len(det), rollout.Duration(median(det)), res.Recover, rollout.Duration(median(rec)))
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
