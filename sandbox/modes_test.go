package sandbox

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
	}{
		{"v1", Mode{Kind: KindReady}},
		{"", Mode{Kind: KindReady}},
		{"latest", Mode{Kind: KindReady}},
		{"crash", Mode{Kind: KindCrash}},
		{"crash-v2", Mode{Kind: KindCrash}},
		{"CRASH", Mode{Kind: KindCrash}},
		{"oom-1", Mode{Kind: KindOOM}},
		{"pull-error", Mode{Kind: KindPullError}},
		{"unready-v3", Mode{Kind: KindUnready}},
		{"http500", Mode{Kind: KindHTTP500}},
		{"http500-v2", Mode{Kind: KindHTTP500}},
		{"slow-3s", Mode{Kind: KindSlow, Delay: 3 * time.Second}},
		{"slow-1m30s-v2", Mode{Kind: KindSlow, Delay: 90 * time.Second}},
		{"slow-500ms", Mode{Kind: KindSlow, Delay: 500 * time.Millisecond}},
		{"slow-abc", Mode{Kind: KindReady}},
		{"slow", Mode{Kind: KindReady}},
	}
	for _, tt := range tests {
		if got := ParseMode(tt.in); got != tt.want {
			t.Errorf("ParseMode(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestImageTag(t *testing.T) {
	tests := map[string]string{
		"nginx":                                "",
		"nginx:1.27":                           "1.27",
		"example/web:crash-v2":                 "crash-v2",
		"registry.local:5000/team/web:slow-3s": "slow-3s",
		"registry.local:5000/team/web":         "",
		"web:v1@sha256:abcd":                   "v1",
	}
	for in, want := range tests {
		if got := ImageTag(in); got != want {
			t.Errorf("ImageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

type fakeConfig struct {
	cms     map[string]map[string]string
	secrets map[string]map[string][]byte
}

func (f fakeConfig) configMap(ns, name string) (map[string]string, bool) {
	d, ok := f.cms[ns+"/"+name]
	return d, ok
}

func (f fakeConfig) secret(ns, name string) (map[string][]byte, bool) {
	d, ok := f.secrets[ns+"/"+name]
	return d, ok
}

func TestContainerMode(t *testing.T) {
	src := fakeConfig{
		cms: map[string]map[string]string{
			"ns/cfg":    {"mode": "crash", "SANDBOX_MODE": "unready", "APP_SANDBOX_MODE": "oom"},
			"ns/other":  {"x": "y"},
			"ns/prefix": {"MODE": "http500"},
		},
		secrets: map[string]map[string][]byte{"ns/sec": {"SANDBOX_MODE": []byte("slow-2s"), "m": []byte("pull-error")}},
	}
	yes := true
	cmRef := func(name, key string, optional *bool) corev1.EnvVar {
		return corev1.EnvVar{Name: ModeEnv, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: optional}}}
	}
	cmFrom := func(name, prefix string, optional *bool) corev1.EnvFromSource {
		return corev1.EnvFromSource{Prefix: prefix, ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: optional}}
	}
	tests := []struct {
		name      string
		c         corev1.Container
		want      Kind
		configErr bool
	}{
		{name: "tag", c: corev1.Container{Image: "a:crash"}, want: KindCrash},
		{name: "literal overrides tag", c: corev1.Container{Image: "a:crash", Env: []corev1.EnvVar{{Name: ModeEnv, Value: "unready"}}}, want: KindUnready},
		{name: "literal ok overrides bad tag", c: corev1.Container{Image: "a:crash", Env: []corev1.EnvVar{{Name: ModeEnv, Value: "ok"}}}, want: KindReady},
		{name: "configmap key", c: corev1.Container{Image: "a:v1", Env: []corev1.EnvVar{cmRef("cfg", "mode", nil)}}, want: KindCrash},
		{name: "secret key", c: corev1.Container{Image: "a:v1", Env: []corev1.EnvVar{{Name: ModeEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "m"}}}}}, want: KindPullError},
		{name: "envFrom configmap", c: corev1.Container{Image: "a:v1", EnvFrom: []corev1.EnvFromSource{cmFrom("cfg", "", nil)}}, want: KindUnready},
		{name: "envFrom with prefix", c: corev1.Container{Image: "a:v1", EnvFrom: []corev1.EnvFromSource{cmFrom("prefix", "SANDBOX_", nil)}}, want: KindHTTP500},
		{name: "envFrom secret", c: corev1.Container{Image: "a:v1", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}}}}, want: KindSlow},
		{name: "env overrides envFrom", c: corev1.Container{Image: "a:v1", EnvFrom: []corev1.EnvFromSource{cmFrom("cfg", "", nil)}, Env: []corev1.EnvVar{{Name: ModeEnv, Value: "oom"}}}, want: KindOOM},
		{name: "envFrom without the key keeps tag", c: corev1.Container{Image: "a:unready", EnvFrom: []corev1.EnvFromSource{cmFrom("other", "", nil)}}, want: KindUnready},
		{name: "missing configmap", c: corev1.Container{Image: "a:v1", Env: []corev1.EnvVar{cmRef("nope", "mode", nil)}}, configErr: true},
		{name: "missing key", c: corev1.Container{Image: "a:v1", Env: []corev1.EnvVar{cmRef("cfg", "nope", nil)}}, configErr: true},
		{name: "missing optional configmap", c: corev1.Container{Image: "a:v1", Env: []corev1.EnvVar{cmRef("nope", "mode", &yes)}}, want: KindReady},
		{name: "missing envFrom configmap", c: corev1.Container{Image: "a:v1", EnvFrom: []corev1.EnvFromSource{cmFrom("nope", "", nil)}}, configErr: true},
		{name: "missing optional envFrom configmap", c: corev1.Container{Image: "a:v1", EnvFrom: []corev1.EnvFromSource{cmFrom("nope", "", &yes)}}, want: KindReady},
		{name: "missing ref in another variable", c: corev1.Container{Image: "a:v1", Env: []corev1.EnvVar{{Name: "OTHER", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k"}}}}}, configErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := containerMode("ns", tt.c, src)
			var cfgErr *ContainerConfigError
			if tt.configErr {
				if !errors.As(err, &cfgErr) {
					t.Fatalf("got %v, %v; want a ContainerConfigError", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Kind != tt.want {
				t.Errorf("kind %s, want %s", got.Kind, tt.want)
			}
		})
	}
}
