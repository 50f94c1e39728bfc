package rollout

import "testing"

// TestListOptions: cached reads ask for the watch cache (resourceVersion
// "0"); other reads are consistent lists.
func TestListOptions(t *testing.T) {
	for _, tt := range []struct {
		cached bool
		rv     string
	}{{false, ""}, {true, "0"}} {
		o := Clients{CachedReads: tt.cached}.listOptions("app=web")
		if o.LabelSelector != "app=web" || o.ResourceVersion != tt.rv {
			t.Errorf("cached %v: %+v, want selector app=web, resourceVersion %q", tt.cached, o, tt.rv)
		}
	}
}
