package podrefs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/pkg/outcome"
)

// SnapshotFinder finds the newest snapshot of a ConfigMap or Secret that
// holds key (any contents when key is ""); found is false when none does.
type SnapshotFinder interface {
	FindSnapshot(ctx context.Context, namespace string, kind Kind, name, key string) (snapshot string, taken time.Time, found bool, err error)
}

// Missing is one thing a pod template needs that its namespace lacks.
type Missing struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Key is the missing key of an existing ConfigMap or Secret.
	Key string `json:"key,omitempty"`
	// Deleting is set when the object exists but is being deleted (a
	// PersistentVolumeClaim kept by its protection finalizer while old pods
	// use it): new pods that need it cannot start.
	Deleting bool     `json:"deleting,omitempty"`
	Places   []string `json:"usedBy"`
	// Snapshot names the config snapshot that holds it, when one exists.
	Snapshot      string    `json:"snapshot,omitempty"`
	SnapshotTaken time.Time `json:"snapshotTaken,omitzero"`
}

// String says what is missing: "secret api-credentials key API_KEY".
func (m Missing) String() string {
	s := strings.ToLower(string(m.Kind)) + " " + m.Name
	if m.Key != "" {
		s += " key " + m.Key
	}
	if m.Deleting {
		s += " (being deleted)"
	}
	return s
}

// Result is what a check found.
type Result struct {
	Missing []Missing `json:"missing,omitempty"`
	// Unchecked are the objects that could not be read (e.g. Secrets the
	// identity may not get), with why.
	Unchecked []string `json:"unchecked,omitempty"`
}

// Checker checks pod templates against the objects of one namespace. It
// remembers what it read, so one Checker serves many templates (a bulk
// undo) with one read per object. It is safe for concurrent use.
type Checker struct {
	Namespace       string
	ConfigMaps      corev1client.ConfigMapInterface
	Secrets         corev1client.SecretInterface
	PVCs            corev1client.PersistentVolumeClaimInterface
	ServiceAccounts corev1client.ServiceAccountInterface
	// Snapshots finds config snapshots to name; nil names none.
	Snapshots SnapshotFinder

	mu   sync.Mutex
	seen map[string]lookup
}

// lookup is the remembered answer of one read.
type lookup struct {
	keys map[string]bool
	err  error
	// deleting is set when the object carries a deletion timestamp.
	deleting bool
}

// Check returns what tmpl needs that is missing from the namespace.
func (c *Checker) Check(ctx context.Context, tmpl *corev1.PodTemplateSpec) Result {
	var res Result
	for _, n := range Needs(&tmpl.Spec) {
		l := c.read(ctx, n.Kind, n.Name)
		switch {
		case l.err != nil && apierrors.IsNotFound(l.err):
			res.Missing = append(res.Missing, c.missing(ctx, n, ""))
		case l.err == nil && l.deleting:
			m := c.missing(ctx, n, "")
			m.Deleting = true
			res.Missing = append(res.Missing, m)
		case l.err != nil:
			res.Unchecked = append(res.Unchecked, fmt.Sprintf("%s %s: %v", strings.ToLower(string(n.Kind)), n.Name, reason(l.err)))
		default:
			for _, k := range n.Keys {
				if !l.keys[k] {
					m := c.missing(ctx, n, k)
					m.Places = keyPlaces(&tmpl.Spec, n.Kind, n.Name, k)
					res.Missing = append(res.Missing, m)
				}
			}
		}
	}
	sort.SliceStable(res.Missing, func(i, j int) bool { return res.Missing[i].String() < res.Missing[j].String() })
	return res
}

// missing describes a missing object or key, with a snapshot that holds it.
func (c *Checker) missing(ctx context.Context, n Need, key string) Missing {
	m := Missing{Kind: n.Kind, Name: n.Name, Key: key, Places: n.Places}
	if c.Snapshots != nil && (n.Kind == KindConfigMap || n.Kind == KindSecret) {
		if snap, taken, ok, err := c.Snapshots.FindSnapshot(ctx, c.Namespace, n.Kind, n.Name, key); err == nil && ok {
			m.Snapshot, m.SnapshotTaken = snap, taken
		}
	}
	return m
}

// keyPlaces returns where the spec takes key from kind/name.
func keyPlaces(spec *corev1.PodSpec, kind Kind, name, key string) []string {
	var out []string
	Visit(spec, func(s Site) {
		if s.Kind == kind && *s.Name == name && s.Key == key && !s.Optional && !contains(out, s.Place) {
			out = append(out, s.Place)
		}
	})
	return out
}

// read gets one object once; keys are those of a ConfigMap or Secret.
func (c *Checker) read(ctx context.Context, kind Kind, name string) lookup {
	id := string(kind) + "/" + name
	c.mu.Lock()
	l, ok := c.seen[id]
	c.mu.Unlock()
	if ok {
		return l
	}
	l = lookup{keys: map[string]bool{}}
	switch kind {
	case KindConfigMap:
		var cm *corev1.ConfigMap
		if cm, l.err = c.ConfigMaps.Get(ctx, name, metav1.GetOptions{}); l.err == nil {
			for k := range cm.Data {
				l.keys[k] = true
			}
			for k := range cm.BinaryData {
				l.keys[k] = true
			}
		}
	case KindSecret:
		var s *corev1.Secret
		if s, l.err = c.Secrets.Get(ctx, name, metav1.GetOptions{}); l.err == nil {
			for k := range s.Data {
				l.keys[k] = true
			}
			for k := range s.StringData {
				l.keys[k] = true
			}
		}
	case KindPVC:
		var pvc *corev1.PersistentVolumeClaim
		if pvc, l.err = c.PVCs.Get(ctx, name, metav1.GetOptions{}); l.err == nil {
			l.deleting = pvc.DeletionTimestamp != nil
		}
	case KindServiceAccount:
		_, l.err = c.ServiceAccounts.Get(ctx, name, metav1.GetOptions{})
	}
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[string]lookup{}
	}
	c.seen[id] = l
	c.mu.Unlock()
	return l
}

// reason shortens a read error; the API's message never holds a Secret's
// values, but its reason is all a reader needs.
func reason(err error) string {
	if apierrors.IsForbidden(err) {
		return "not checked: this identity may not read it (forbidden)"
	}
	return "not checked: " + err.Error()
}

// Refusal returns the refusal (outcome.Refused) of a write of a template
// whose pods could not start, naming what is missing and how to bring it
// back; nil when nothing is missing. what names the template ("revision 2
// of deployment web"), restore the command that restores configuration for
// the workload (e.g. "rollback config undo web -n shop").
func (r Result) Refusal(what, namespace, restore string) error {
	if len(r.Missing) == 0 {
		return nil
	}
	var parts []string
	for _, m := range r.Missing {
		s := fmt.Sprintf("%s (used by %s)", m, strings.Join(m.Places, ", "))
		if m.Snapshot != "" {
			if m.Key != "" && restore != "" {
				s += fmt.Sprintf("; snapshot %s (taken %s) holds it: `%s --config %s/%s --to %s`", m.Snapshot, m.SnapshotTaken.UTC().Format(time.RFC3339), restore, strings.ToLower(string(m.Kind)), m.Name, m.Snapshot)
			} else {
				s += fmt.Sprintf("; snapshot %s (taken %s) holds its last contents: recreate %s from it (`kubectl get %s %s -n %s -o yaml`)", m.Snapshot, m.SnapshotTaken.UTC().Format(time.RFC3339), m.Name, strings.ToLower(string(m.Kind)), m.Snapshot, namespace)
			}
		}
		parts = append(parts, s)
	}
	return outcome.AsRefused(fmt.Errorf("%s cannot start: its pod template needs what namespace %s lacks: %s; nothing was changed: create what is missing (or pick another revision with --to-revision N), then run again",
		what, namespace, strings.Join(parts, "; ")))
}
