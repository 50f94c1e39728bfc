package guardcontroller

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthReadyz(t *testing.T) {
	h := &Health{}
	get := func(path string) string {
		rec := httptest.NewRecorder()
		h.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return strings.TrimSpace(rec.Body.String()) + " " + string(rune('0'+rec.Code/100))
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"starting", func() {}, "starting 5"},
		{"standby", h.SetReady, "ok: standby 2"},
		{"leader, caches not synced", func() { h.SetLeader(true) }, "leader, caches not synced yet 5"},
		{"leader", h.SetSynced, "ok: leader 2"},
		{"lost the lease", func() { h.SetLeader(false) }, "ok: standby 2"},
	}
	for _, s := range steps {
		s.do()
		if got := get("/readyz"); got != s.want {
			t.Errorf("%s: /readyz = %q, want %q", s.name, got, s.want)
		}
	}
	if got := get("/healthz"); got != "ok 2" {
		t.Errorf("/healthz = %q", got)
	}
}
