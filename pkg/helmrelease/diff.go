package helmrelease

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	rel "helm.sh/helm/v4/pkg/release/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// diffValues compares the user-supplied values (release config) of two revisions.
func diffValues(from, to *rel.Release) []ValueChange {
	a, b := map[string]string{}, map[string]string{}
	flatten("", from.Config, a)
	flatten("", to.Config, b)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []ValueChange
	for k := range keys {
		fa, ok := a[k]
		if !ok {
			fa = none
		}
		fb, ok := b[k]
		if !ok {
			fb = none
		}
		if fa == fb {
			continue
		}
		sa, ra := shown(k, fa)
		sb, rb := shown(k, fb)
		out = append(out, ValueChange{Path: k, From: sa, To: sb, Redacted: ra || rb})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten writes every leaf of v under prefix as "a.b[0].c" -> JSON text.
func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x, out)
		}
	case []any:
		for i, x := range t {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), x, out)
		}
	case string:
		out[prefix] = t
	default:
		b, _ := json.Marshal(t)
		out[prefix] = string(b)
	}
}

// diffObjects compares the rendered objects of two revisions: workloads
// by their pod templates, other objects as changed or not (Secrets never
// show anything but their names).
func diffObjects(from, to []object) []ObjectChange {
	fa, fb := map[string]object{}, map[string]object{}
	for _, o := range from {
		fa[o.id()] = o
	}
	for _, o := range to {
		fb[o.id()] = o
	}
	ids := map[string]bool{}
	for id := range fa {
		ids[id] = true
	}
	for id := range fb {
		ids[id] = true
	}
	var out []ObjectChange
	for id := range ids {
		a, inA := fa[id]
		b, inB := fb[id]
		switch {
		case !inA:
			out = append(out, ObjectChange{Object: id, Change: "added"})
		case !inB:
			out = append(out, ObjectChange{Object: id, Change: "removed"})
		case a.template != nil && b.template != nil:
			d := rollout.DiffTemplates(a.template, b.template)
			if !d.Empty() {
				out = append(out, ObjectChange{Object: id, Change: "changed", Template: d.Changes})
			} else if !bytes.Equal(a.raw, b.raw) {
				out = append(out, ObjectChange{Object: id, Change: "changed"})
			}
		case !bytes.Equal(a.raw, b.raw):
			out = append(out, ObjectChange{Object: id, Change: "changed"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out
}
