package configs

import "testing"

func TestParseVersion(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   Version
		ok     bool
	}{
		{"app-config-v3", nil, Version{Base: "app-config", Number: 3}, true},
		{"vibestack-config-v12", nil, Version{Base: "vibestack-config", Number: 12}, true},
		{"app-config-v0", nil, Version{Base: "app-config", Number: 0}, true},
		{"app-config", nil, Version{}, false},
		{"app-config-v", nil, Version{}, false},
		{"app-config-vx", nil, Version{}, false},
		{"v3", nil, Version{}, false},
		{"app-config-3", nil, Version{}, false},
		{"settings", map[string]string{LabelConfigName: "settings", LabelConfigVersion: "v4"}, Version{Base: "settings", Number: 4, ByLabel: true}, true},
		{"settings-blue", map[string]string{LabelConfigName: "settings", LabelConfigVersion: "7"}, Version{Base: "settings", Number: 7, ByLabel: true}, true},
		{"settings", map[string]string{LabelConfigVersion: "7"}, Version{}, false},
		{"settings-v2", map[string]string{LabelConfigName: "settings", LabelConfigVersion: "bad"}, Version{Base: "settings", Number: 2}, true},
		{"app-config-v2.snap-20261126-013000-abc", map[string]string{LabelSnapshot: "true"}, Version{}, false},
		{"app-config-v2", map[string]string{LabelSnapshot: "true"}, Version{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseVersion(tt.name, tt.labels)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseVersion(%q, %v) = %+v, %v; want %+v, %v", tt.name, tt.labels, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseVersionTag(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"v1", 1, true}, {"V2", 2, true}, {"3", 3, true}, {" v10 ", 10, true},
		{"", 0, false}, {"v", 0, false}, {"latest", 0, false}, {"v-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseVersionTag(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseVersionTag(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestVersionTag(t *testing.T) {
	if got := (Version{Base: "a", Number: 3}).Tag(); got != "v3" {
		t.Errorf("Tag() = %q, want v3", got)
	}
}
