package rollout

import (
	"crypto/sha256"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Change is one difference between two pod templates.
type Change struct {
	// Container is the container's name, "" for pod-level fields (volumes).
	Container string `json:"container,omitempty"`
	// Field is what changed: "image", "env NAME", "envFrom", "resources
	// limits.memory", "volume NAME", "container".
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// TemplateDiff lists the differences between two pod templates that matter
// to a rollback: images, env, envFrom and volume ConfigMap/Secret references,
// and resources. Secret values never appear in it.
type TemplateDiff struct {
	Changes []Change `json:"changes"`
}

// Empty reports whether the diff has no change.
func (d TemplateDiff) Empty() bool { return len(d.Changes) == 0 }

// none is how a missing value is shown.
const none = "(none)"

// sensitiveName matches env var names whose literal values are not shown.
var sensitiveName = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth`)

// DiffTemplates compares the pod template from with to.
func DiffTemplates(from, to *corev1.PodTemplateSpec) TemplateDiff {
	var d TemplateDiff
	d.containers("init container", from.Spec.InitContainers, to.Spec.InitContainers)
	d.containers("container", from.Spec.Containers, to.Spec.Containers)
	d.volumes(from.Spec.Volumes, to.Spec.Volumes)
	return d
}

func (d *TemplateDiff) add(container, field, from, to string) {
	if from != to {
		d.Changes = append(d.Changes, Change{Container: container, Field: field, From: from, To: to})
	}
}

func (d *TemplateDiff) containers(kind string, from, to []corev1.Container) {
	fromBy := map[string]*corev1.Container{}
	for i := range from {
		fromBy[from[i].Name] = &from[i]
	}
	toBy := map[string]*corev1.Container{}
	for i := range to {
		toBy[to[i].Name] = &to[i]
	}
	for _, name := range unionNames(from, to) {
		f, t := fromBy[name], toBy[name]
		switch {
		case f == nil:
			d.add(name, kind, none, "added, image "+t.Image)
		case t == nil:
			d.add(name, kind, "image "+f.Image, "removed")
		default:
			d.container(name, f, t)
		}
	}
}

func unionNames(a, b []corev1.Container) []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range [][]corev1.Container{a, b} {
		for _, c := range list {
			if !seen[c.Name] {
				seen[c.Name] = true
				out = append(out, c.Name)
			}
		}
	}
	return out
}

func (d *TemplateDiff) container(name string, f, t *corev1.Container) {
	d.add(name, "image", f.Image, t.Image)
	fe, te := envMap(f.Env), envMap(t.Env)
	for _, k := range sortedKeys(fe, te) {
		d.add(name, "env "+k, orNone(fe[k]), orNone(te[k]))
	}
	d.add(name, "envFrom", envFromString(f.EnvFrom), envFromString(t.EnvFrom))
	fr, tr := resourceMap(f.Resources), resourceMap(t.Resources)
	for _, k := range sortedKeys(fr, tr) {
		d.add(name, "resources "+k, orNone(fr[k]), orNone(tr[k]))
	}
}

func envMap(env []corev1.EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		m[e.Name] = envValue(e)
	}
	return m
}

// envValue describes an env var's value; literal values of sensitive names
// and all Secret values are hidden.
func envValue(e corev1.EnvVar) string {
	if e.ValueFrom == nil {
		if sensitiveName.MatchString(e.Name) {
			sum := sha256.Sum256([]byte(e.Value))
			return fmt.Sprintf("(hidden, sha256 %x)", sum[:4])
		}
		return fmt.Sprintf("%q", e.Value)
	}
	switch v := e.ValueFrom; {
	case v.ConfigMapKeyRef != nil:
		return fmt.Sprintf("configmap %s key %s", v.ConfigMapKeyRef.Name, v.ConfigMapKeyRef.Key)
	case v.SecretKeyRef != nil:
		return fmt.Sprintf("secret %s key %s", v.SecretKeyRef.Name, v.SecretKeyRef.Key)
	case v.FieldRef != nil:
		return "field " + v.FieldRef.FieldPath
	case v.ResourceFieldRef != nil:
		return "resource " + v.ResourceFieldRef.Resource
	}
	return "(value from another source)"
}

func envFromString(list []corev1.EnvFromSource) string {
	var parts []string
	for _, e := range list {
		switch {
		case e.ConfigMapRef != nil:
			parts = append(parts, prefixed("configmap "+e.ConfigMapRef.Name, e.Prefix))
		case e.SecretRef != nil:
			parts = append(parts, prefixed("secret "+e.SecretRef.Name, e.Prefix))
		}
	}
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, ", ")
}

func prefixed(s, prefix string) string {
	if prefix == "" {
		return s
	}
	return fmt.Sprintf("%s (prefix %s)", s, prefix)
}

func resourceMap(r corev1.ResourceRequirements) map[string]string {
	m := map[string]string{}
	for k, v := range r.Requests {
		m["requests."+string(k)] = v.String()
	}
	for k, v := range r.Limits {
		m["limits."+string(k)] = v.String()
	}
	return m
}

func (d *TemplateDiff) volumes(from, to []corev1.Volume) {
	fv, tv := volumeMap(from), volumeMap(to)
	for _, k := range sortedKeys(fv, tv) {
		d.add("", "volume "+k, orNone(fv[k]), orNone(tv[k]))
	}
}

// volumeMap describes the ConfigMap and Secret references of each volume.
func volumeMap(vols []corev1.Volume) map[string]string {
	m := map[string]string{}
	for _, v := range vols {
		var refs []string
		switch {
		case v.ConfigMap != nil:
			refs = append(refs, "configmap "+v.ConfigMap.Name)
		case v.Secret != nil:
			refs = append(refs, "secret "+v.Secret.SecretName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.ConfigMap != nil:
					refs = append(refs, "configmap "+s.ConfigMap.Name)
				case s.Secret != nil:
					refs = append(refs, "secret "+s.Secret.Name)
				}
			}
		}
		if len(refs) > 0 {
			m[v.Name] = strings.Join(refs, ", ")
		}
	}
	return m
}

func sortedKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// Write prints the diff for humans, one change a line, indented by indent.
func (d TemplateDiff) Write(w io.Writer, indent string) {
	if d.Empty() {
		fmt.Fprintf(w, "%s(no difference in images, env, envFrom, volumes or resources)\n", indent)
		return
	}
	for _, c := range d.Changes {
		where := "pod"
		if c.Container != "" {
			where = "container " + c.Container
		}
		fmt.Fprintf(w, "%s%s: %s: %s -> %s\n", indent, where, c.Field, c.From, c.To)
	}
}
