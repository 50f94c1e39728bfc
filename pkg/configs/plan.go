package configs

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Strategy is how a configuration rollback is done.
type Strategy string

// The strategies, chosen from the referenced object.
const (
	// StrategyVersioned switches the pod template to another version's name.
	StrategyVersioned Strategy = "versioned"
	// StrategySnapshot restores an unversioned object's data from a snapshot.
	StrategySnapshot Strategy = "snapshot"
	// StrategyFile restores an object's data from a manifest file.
	StrategyFile Strategy = "file"
)

// Plan is what an undo will do, computed from one read of the cluster.
type Plan struct {
	Namespace  string   `json:"namespace"`
	Deployment string   `json:"deployment"`
	Kind       Kind     `json:"kind"`
	Name       string   `json:"name"`
	Strategy   Strategy `json:"strategy"`
	// From and To name the current and the target contents: object names
	// for versioned configs, the object and a snapshot or file otherwise.
	From string `json:"from"`
	To   string `json:"to"`
	// FromVersion and ToVersion are version tags ("v2") for versioned configs.
	FromVersion string `json:"fromVersion,omitempty"`
	ToVersion   string `json:"toVersion,omitempty"`
	// Changes is the key-level diff from the current to the target contents.
	Changes []Change `json:"changes"`
	// TemplateChanges lists the pod template references a versioned undo switches.
	TemplateChanges []string `json:"templateChanges,omitempty"`
	// Missing is true when the referenced (versioned) object does not exist.
	Missing bool `json:"missing,omitempty"`
	// Warnings are things the user should know before going ahead.
	Warnings []string `json:"warnings,omitempty"`
	// Skipped says why there is nothing to do, if so.
	Skipped string `json:"skipped,omitempty"`
	// ResourceVersion is the version of the object (or, for a versioned
	// undo, the Deployment) the write is conditioned on.
	ResourceVersion string `json:"resourceVersion"`

	deployment *appsv1.Deployment
	current    *Object
	target     *Object
}

// planner computes plans; Undo embeds its inputs.
func (u *Undo) plan(ctx context.Context, name string) (*Plan, error) {
	d, err := u.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, outcome.AsRefused(fmt.Errorf("get deployment %s/%s: not found; check the name and -n NAMESPACE", u.Store.Namespace, name))
		}
		return nil, fmt.Errorf("get deployment %s/%s: %w", u.Store.Namespace, name, err)
	}
	refs := References(&d.Spec.Template.Spec)
	ref, err := u.selectRef(ctx, d, refs)
	if err != nil {
		return nil, err
	}
	current, err := u.Store.Get(ctx, ref.Kind, ref.Name)
	missing := false
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		// A release that points at a version that was never created is a
		// bad config release too: switch back to a version that exists.
		if _, ok := ParseVersion(ref.Name, nil); !ok || u.Manifest != nil {
			return nil, outcome.AsRefused(fmt.Errorf("%s does not exist although deployment %s references it; nothing was changed: recreate it, or point the Deployment at an object that exists",
				describe(ref.Kind, u.Store.Namespace, ref.Name), name))
		}
		missing = true
		current = &Object{Kind: ref.Kind, Namespace: u.Store.Namespace, Name: ref.Name}
	}
	p := &Plan{
		Namespace: u.Store.Namespace, Deployment: name, Kind: ref.Kind, Name: ref.Name,
		From: ref.Name, Missing: missing, deployment: d, current: current,
	}
	version, versioned := ParseVersion(current.Name, current.Labels)
	switch {
	case u.Manifest != nil:
		err = u.planFile(p)
	case versioned:
		err = u.planVersioned(ctx, p, version)
	default:
		err = u.planSnapshot(ctx, p)
	}
	if err != nil {
		return nil, err
	}
	p.Changes = Diff(p.current, p.target)
	if p.Skipped == "" && p.Strategy != StrategyVersioned && len(p.Changes) == 0 {
		p.Skipped = fmt.Sprintf("%s already holds the contents of %s", current.Ref(), p.To)
	}
	p.Warnings = append(p.Warnings, warnings(p)...)
	if p.Skipped == "" && p.Strategy != StrategyVersioned {
		others, err := u.otherUsers(ctx, p)
		if err != nil {
			return nil, err
		}
		if len(others) > 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s is also used by deployment %s, which will not be restarted: its pods pick up the restored data only when they restart (rollback app restart NAME)",
				p.current.Ref(), strings.Join(others, ", ")))
		}
	}
	if p.Skipped == "" && d.Spec.Paused {
		return nil, outcome.AsRefused(fmt.Errorf("deployment %s/%s is paused, so its pods would not pick up the change; nothing was changed: run `rollback app resume %s` first", u.Store.Namespace, name, name))
	}
	return p, nil
}

// selectRef finds the reference --config names: "NAME", "configmap/NAME",
// "secret/NAME", or the base name of a versioned object ("app-config" for
// app-config-v3, or the LabelConfigName of a label-versioned object).
func (u *Undo) selectRef(ctx context.Context, d *appsv1.Deployment, refs []Ref) (Ref, error) {
	want, kind := u.Config, Kind("")
	if i := strings.Index(want, "/"); i >= 0 {
		switch strings.ToLower(want[:i]) {
		case "configmap", "configmaps", "cm":
			kind = KindConfigMap
		case "secret", "secrets":
			kind = KindSecret
		default:
			return Ref{}, outcome.AsRefused(fmt.Errorf("--config %s: the kind must be configmap or secret", u.Config))
		}
		want = want[i+1:]
	}
	if want == "" {
		return Ref{}, outcome.AsRefused(fmt.Errorf("--config is required: name the ConfigMap or Secret to roll back (%s)", listRefs(refs)))
	}
	var matches []Ref
	match := func(pred func(Ref) bool) {
		for _, r := range refs {
			if (kind == "" || r.Kind == kind) && pred(r) {
				matches = append(matches, r)
			}
		}
	}
	match(func(r Ref) bool { return r.Name == want })
	if len(matches) == 0 {
		match(func(r Ref) bool { v, ok := ParseVersion(r.Name, nil); return ok && v.Base == want })
	}
	if len(matches) == 0 {
		match(func(r Ref) bool {
			o, err := u.Store.Get(ctx, r.Kind, r.Name)
			if err != nil {
				return false
			}
			v, ok := ParseVersion(o.Name, o.Labels)
			return ok && v.Base == want
		})
	}
	switch len(matches) {
	case 0:
		return Ref{}, outcome.AsRefused(fmt.Errorf("deployment %s/%s does not reference %s; nothing was changed. It references: %s",
			d.Namespace, d.Name, u.Config, listRefs(refs)))
	case 1:
		return matches[0], nil
	}
	var names []string
	for _, m := range matches {
		names = append(names, m.String())
	}
	return Ref{}, outcome.AsRefused(fmt.Errorf("--config %s matches %s; name one of them with --config KIND/NAME", u.Config, strings.Join(names, " and ")))
}

func listRefs(refs []Ref) string {
	if len(refs) == 0 {
		return "no ConfigMap or Secret"
	}
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		names = append(names, r.String())
	}
	return strings.Join(names, ", ")
}

func (u *Undo) planFile(p *Plan) error {
	if p.current.Immutable {
		return refuseImmutable(p)
	}
	target, err := ObjectFromManifest(u.Manifest, p.Kind, p.Name, p.Namespace)
	if err != nil {
		return outcome.AsRefused(fmt.Errorf("--from-file %s: %w", u.ManifestName, err))
	}
	p.Strategy, p.To, p.target = StrategyFile, u.ManifestName, target
	p.ResourceVersion = p.current.ResourceVersion
	return nil
}

func refuseImmutable(p *Plan) error {
	return outcome.AsRefused(fmt.Errorf("%s is immutable, so its data cannot be restored in place; nothing was changed: create a new version (for example %s-v2) with the good data and point the Deployment at it, or use versioned names so that `rollback config undo` can switch between them",
		describe(p.Kind, p.Namespace, p.Name), p.Name))
}

func (u *Undo) planSnapshot(ctx context.Context, p *Plan) error {
	if p.current.Immutable {
		return refuseImmutable(p)
	}
	snaps, err := Snapshotter{Store: u.Store}.List(ctx, p.Kind, p.Name)
	if err != nil {
		return err
	}
	if len(snaps) == 0 {
		return outcome.AsRefused(fmt.Errorf("%s has no snapshot to restore; nothing was changed: use --from-file with a manifest of the good contents (snapshots are taken by `rollback config snapshot` and before every change rollback makes)",
			describe(p.Kind, p.Namespace, p.Name)))
	}
	var target *Object
	if u.To == "" {
		hash := p.current.Hash()
		for _, s := range snaps {
			if s.Annotations[AnnotationContentHash] != hash && s.Hash() != hash {
				target = s
				break
			}
		}
		if target == nil {
			p.Strategy, p.target, p.To = StrategySnapshot, p.current, snaps[0].Name
			p.Skipped = fmt.Sprintf("every snapshot of %s holds its current contents", p.current.Ref())
			return nil
		}
	} else {
		for _, s := range snaps {
			if s.Name == u.To || strings.HasSuffix(s.Name, ".snap-"+u.To) || strings.HasSuffix(s.Name, "-"+u.To) {
				target = s
				break
			}
		}
		if target == nil {
			return outcome.AsRefused(fmt.Errorf("%s has no snapshot %q; nothing was changed. Snapshots (newest first): %s",
				describe(p.Kind, p.Namespace, p.Name), u.To, snapshotNames(snaps)))
		}
	}
	p.Strategy, p.To, p.target = StrategySnapshot, target.Name, target
	p.ResourceVersion = p.current.ResourceVersion
	return nil
}

func snapshotNames(snaps []*Object) string {
	names := make([]string, 0, len(snaps))
	for _, s := range snaps {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// versionsOf lists every version of base among the objects of kind, oldest first.
func versionsOf(ctx context.Context, store Store, kind Kind, base string) ([]*Object, []Version, error) {
	all, err := store.List(ctx, kind, metav1.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	var objs []*Object
	var vers []Version
	for _, o := range all {
		if v, ok := ParseVersion(o.Name, o.Labels); ok && v.Base == base {
			objs, vers = append(objs, o), append(vers, v)
		}
	}
	idx := make([]int, len(objs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return vers[idx[a]].Number < vers[idx[b]].Number })
	so, sv := make([]*Object, len(objs)), make([]Version, len(objs))
	for i, j := range idx {
		so[i], sv[i] = objs[j], vers[j]
	}
	return so, sv, nil
}

func (u *Undo) planVersioned(ctx context.Context, p *Plan, cur Version) error {
	objs, vers, err := versionsOf(ctx, u.Store, p.Kind, cur.Base)
	if err != nil {
		return err
	}
	p.Strategy, p.FromVersion = StrategyVersioned, cur.Tag()
	p.ResourceVersion = p.deployment.ResourceVersion
	target := -1
	if u.To == "" {
		for i := range objs {
			if vers[i].Number < cur.Number && objs[i].Name != p.Name {
				target = i
			}
		}
	} else {
		n, isTag := ParseVersionTag(u.To)
		for i := range objs {
			if objs[i].Name == u.To || (isTag && vers[i].Number == n) {
				target = i
			}
		}
	}
	if target < 0 {
		var have []string
		for i := range objs {
			mark := ""
			if objs[i].Name == p.Name {
				mark = " (current)"
			}
			have = append(have, fmt.Sprintf("%s = %s%s", vers[i].Tag(), objs[i].Name, mark))
		}
		want := u.To
		if want == "" {
			want = "a version before " + cur.Tag()
		}
		return outcome.AsRefused(fmt.Errorf("%s %s: no %s exists; nothing was changed. Versions that exist: %s",
			p.Kind.lower(), cur.Base, want, strings.Join(have, ", ")))
	}
	p.target, p.To, p.ToVersion = objs[target], objs[target].Name, vers[target].Tag()
	if p.To == p.Name {
		p.Skipped = fmt.Sprintf("deployment %s already uses %s", p.Deployment, p.Name)
		return nil
	}
	tmpl := p.deployment.Spec.Template.Spec.DeepCopy()
	p.TemplateChanges = SwitchReferences(tmpl, p.Kind, p.Name, p.To)
	return nil
}

// lastApplied is the annotation `kubectl apply` keeps its last manifest in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// warnings lists what could undo or break the planned rollback: keys the
// pod template needs that the target lacks, and manifests a later
// `kubectl apply` would re-apply.
func warnings(p *Plan) []string {
	if p.Skipped != "" || p.target == nil {
		return nil
	}
	var out []string
	have := p.target.Values()
	spec := &p.deployment.Spec.Template.Spec
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			for _, e := range c.Env {
				key, name, optional := envKeyRef(e, p.Kind)
				if name != p.Name || optional {
					continue
				}
				if _, ok := have[key]; !ok {
					out = append(out, fmt.Sprintf("container %s env %s needs key %s, which %s does not have: its pods will fail with CreateContainerConfigError", c.Name, e.Name, key, p.To))
				}
			}
		}
	}
	switch {
	case p.Strategy == StrategyVersioned && p.deployment.Annotations[lastApplied] != "":
		out = append(out, fmt.Sprintf("deployment %s is managed with kubectl apply: change its manifest to %s too, or the next apply switches it back to %s", p.Deployment, p.To, p.Name))
	case p.Strategy != StrategyVersioned && p.current.Annotations[lastApplied] != "":
		out = append(out, fmt.Sprintf("%s is managed with kubectl apply: make sure its manifest holds the restored contents, or the next apply brings the current ones back", p.current.Ref()))
	}
	return out
}

// envKeyRef returns the key and object name an env var takes from an
// object of kind, and whether the reference is optional.
func envKeyRef(e corev1.EnvVar, kind Kind) (key, name string, optional bool) {
	if e.ValueFrom == nil {
		return "", "", false
	}
	if r := e.ValueFrom.ConfigMapKeyRef; r != nil && kind == KindConfigMap {
		return r.Key, r.Name, r.Optional != nil && *r.Optional
	}
	if r := e.ValueFrom.SecretKeyRef; r != nil && kind == KindSecret {
		return r.Key, r.Name, r.Optional != nil && *r.Optional
	}
	return "", "", false
}

// otherUsers lists the other Deployments in the namespace whose pod
// template references the object the plan restores in place.
func (u *Undo) otherUsers(ctx context.Context, p *Plan) ([]string, error) {
	list, err := u.Deployments.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list deployments in %s: %w", p.Namespace, err)
	}
	var out []string
	for i := range list.Items {
		d := &list.Items[i]
		if d.Name == p.Deployment {
			continue
		}
		for _, r := range References(&d.Spec.Template.Spec) {
			if r.Kind == p.Kind && r.Name == p.Name {
				out = append(out, d.Name)
				break
			}
		}
	}
	return out, nil
}
