package sandbox

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kind names a simulated container behaviour.
type Kind string

// The behaviours a container can be given through its image tag or the
// SANDBOX_MODE environment variable.
const (
	// KindReady: Running, then Ready after the ready delay.
	KindReady Kind = "ready"
	// KindCrash: exits with code 1 shortly after each start; CrashLoopBackOff.
	KindCrash Kind = "crash"
	// KindOOM: killed with reason OOMKilled (exit code 137); CrashLoopBackOff.
	KindOOM Kind = "oom"
	// KindPullError: ErrImagePull, then ImagePullBackOff; never runs.
	KindPullError Kind = "pull-error"
	// KindUnready: Running but never Ready.
	KindUnready Kind = "unready"
	// KindSlow: Running, Ready only after Mode.Delay.
	KindSlow Kind = "slow"
	// KindHTTP500: Ready, but its HTTP endpoint answers 500.
	KindHTTP500 Kind = "http500"
)

// ModeEnv is the container environment variable whose value overrides the
// behaviour chosen by the image tag.
const ModeEnv = "SANDBOX_MODE"

// Mode is a simulated container behaviour.
type Mode struct {
	Kind Kind
	// Delay is how long a KindSlow container takes to become Ready.
	Delay time.Duration
}

// String returns the mode as written in a tag or SANDBOX_MODE.
func (m Mode) String() string {
	if m.Kind == KindSlow {
		return "slow-" + m.Delay.String()
	}
	return string(m.Kind)
}

// ParseMode reads a mode from an image tag or a SANDBOX_MODE value. Tags
// match by prefix (crash-v2 is a crash); slow-<duration> takes the duration
// up to the next "-" (slow-3s, slow-1m-v2). Anything else is KindReady.
func ParseMode(s string) Mode {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, k := range []Kind{KindCrash, KindOOM, KindPullError, KindUnready, KindHTTP500} {
		if strings.HasPrefix(s, string(k)) {
			return Mode{Kind: k}
		}
	}
	if rest, ok := strings.CutPrefix(s, "slow-"); ok {
		d, _, _ := strings.Cut(rest, "-")
		if delay, err := time.ParseDuration(d); err == nil && delay >= 0 {
			return Mode{Kind: KindSlow, Delay: delay}
		}
	}
	return Mode{Kind: KindReady}
}

// ImageTag returns the tag of an image reference ("" when it has none).
func ImageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	name := image
	if i := strings.LastIndex(image, "/"); i >= 0 {
		name = image[i+1:]
	}
	_, tag, _ := strings.Cut(name, ":")
	return tag
}

// configSource looks up ConfigMap and Secret data; ok is false when the
// object does not exist.
type configSource interface {
	configMap(namespace, name string) (data map[string]string, ok bool)
	secret(namespace, name string) (data map[string][]byte, ok bool)
}

// ContainerConfigError is why a container cannot start: a ConfigMap, Secret
// or key it references is missing (kubelet's CreateContainerConfigError).
type ContainerConfigError struct{ Message string }

func (e *ContainerConfigError) Error() string { return e.Message }

// containerMode resolves a container's mode: SANDBOX_MODE from env or
// envFrom (ConfigMap or Secret) overrides the image tag. Like the kubelet, a
// missing non-optional ConfigMap, Secret or key anywhere in env or envFrom
// is a *ContainerConfigError.
func containerMode(namespace string, c corev1.Container, src configSource) (Mode, error) {
	var value string
	var found bool
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			data, ok := src.configMap(namespace, ef.ConfigMapRef.Name)
			if !ok {
				if isOptional(ef.ConfigMapRef.Optional) {
					continue
				}
				return Mode{}, &ContainerConfigError{Message: fmt.Sprintf("configmap %q not found", ef.ConfigMapRef.Name)}
			}
			if v, ok := data[strings.TrimPrefix(ModeEnv, ef.Prefix)]; ok && strings.HasPrefix(ModeEnv, ef.Prefix) {
				value, found = v, true
			}
		case ef.SecretRef != nil:
			data, ok := src.secret(namespace, ef.SecretRef.Name)
			if !ok {
				if isOptional(ef.SecretRef.Optional) {
					continue
				}
				return Mode{}, &ContainerConfigError{Message: fmt.Sprintf("secret %q not found", ef.SecretRef.Name)}
			}
			if v, ok := data[strings.TrimPrefix(ModeEnv, ef.Prefix)]; ok && strings.HasPrefix(ModeEnv, ef.Prefix) {
				value, found = string(v), true
			}
		}
	}
	for _, e := range c.Env {
		v, ok, err := envValue(namespace, e, src)
		if err != nil {
			return Mode{}, err
		}
		if ok && e.Name == ModeEnv {
			value, found = v, true
		}
	}
	if found {
		return ParseMode(value), nil
	}
	return ParseMode(ImageTag(c.Image)), nil
}

// envValue resolves one env entry; ok is false when an optional reference
// is missing or the value comes from a source the sandbox does not model.
func envValue(namespace string, e corev1.EnvVar, src configSource) (string, bool, error) {
	if e.ValueFrom == nil {
		return e.Value, true, nil
	}
	switch {
	case e.ValueFrom.ConfigMapKeyRef != nil:
		ref := e.ValueFrom.ConfigMapKeyRef
		data, ok := src.configMap(namespace, ref.Name)
		if !ok {
			if isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, &ContainerConfigError{Message: fmt.Sprintf("configmap %q not found", ref.Name)}
		}
		v, ok := data[ref.Key]
		if !ok {
			if isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, &ContainerConfigError{Message: fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", ref.Key, namespace, ref.Name)}
		}
		return v, true, nil
	case e.ValueFrom.SecretKeyRef != nil:
		ref := e.ValueFrom.SecretKeyRef
		data, ok := src.secret(namespace, ref.Name)
		if !ok {
			if isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, &ContainerConfigError{Message: fmt.Sprintf("secret %q not found", ref.Name)}
		}
		v, ok := data[ref.Key]
		if !ok {
			if isOptional(ref.Optional) {
				return "", false, nil
			}
			return "", false, &ContainerConfigError{Message: fmt.Sprintf("couldn't find key %s in Secret %s/%s", ref.Key, namespace, ref.Name)}
		}
		return string(v), true, nil
	}
	return "", false, nil
}

func isOptional(b *bool) bool { return b != nil && *b }
