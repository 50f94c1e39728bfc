package rollout

import (
	"testing"
	"time"
)

// TestNewestVerdictDecides: the one stamp protocol keeps both stamps for the
// history and lets the newer one decide: a revision that failed after it
// was known-good is failed (never a rollback target); one verified again
// after a failure is good.
func TestNewestVerdictDecides(t *testing.T) {
	d := deployment("app:v3")
	tests := []struct {
		name             string
		goodAt, failedAt time.Duration // after t0; 0 = no such stamp
		want             string
	}{
		{"known-good only", time.Minute, 0, HealthGood},
		{"failed only", 0, time.Minute, HealthFailed},
		{"failed after known-good", time.Minute, 2 * time.Minute, HealthFailed},
		{"known-good after failed", 2 * time.Minute, time.Minute, HealthGood},
		{"neither", 0, 0, HealthUnverified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := replicaSet(d, 2, "app:v2", "")
			if tt.goodAt > 0 {
				rs.Annotations[AnnotationKnownGoodAt] = t0.Add(tt.goodAt).Format(time.RFC3339Nano)
				rs.Annotations[AnnotationKnownGoodHash] = "h2"
			}
			if tt.failedAt > 0 {
				rs.Annotations[AnnotationFailedAt] = t0.Add(tt.failedAt).Format(time.RFC3339Nano)
				rs.Annotations[AnnotationFailedHash] = "h2"
			}
			r := revisionOf(KindDeployment, replicaSetSource(&rs))
			if r.Health != tt.want {
				t.Errorf("health %s, want %s", r.Health, tt.want)
			}
			if (tt.goodAt > 0) != (r.KnownGoodAt != nil) || (tt.failedAt > 0) != (r.FailedAt != nil) {
				t.Errorf("stamps kept: known-good %v, failed %v", r.KnownGoodAt, r.FailedAt)
			}
		})
	}
}
