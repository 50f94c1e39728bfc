package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Labels of the mirror ConfigMaps.
const (
	// LabelIncident holds the incident id.
	LabelIncident = "rollback.vibestack.dev/incident"
	// LabelApp holds the application's name.
	LabelApp = "rollback.vibestack.dev/app"
	// LabelManagedBy is app.kubernetes.io/managed-by, set to "rollback".
	LabelManagedBy = "app.kubernetes.io/managed-by"
)

// SeqMirror is a Mirror shared by several writers of one incident (two
// engineers): Append numbers a new entry after the last one in the mirror.
type SeqMirror interface {
	Mirror
	// LastSeq returns the highest Seq mirrored for incident (0 for none).
	LastSeq(ctx context.Context, incident string) (int, error)
}

// MirrorName returns the name of the ConfigMap mirroring incident.
func MirrorName(incident string) string { return "rollback-" + incident }

// ConfigMapMirror mirrors a journal into one ConfigMap per incident, named
// MirrorName(id), with one data key "<seq, 6 digits>.json" per entry. Each
// entry is added with a JSON patch that only adds its own key, so writers
// never overwrite each other; a key taken by another writer moves the entry
// to the next free number.
type ConfigMapMirror struct {
	// ConfigMaps is the namespace's ConfigMap client.
	ConfigMaps corev1client.ConfigMapInterface
	// App labels the ConfigMap (rollback.vibestack.dev/app).
	App string
}

var _ SeqMirror = (*ConfigMapMirror)(nil)

// maxKeyRetries bounds how often an entry moves to the next number.
const maxKeyRetries = 20

// Mirror adds e to its incident's ConfigMap, creating the ConfigMap first.
func (m *ConfigMapMirror) Mirror(ctx context.Context, e Entry) error {
	_, err := m.MirrorNumbered(ctx, e)
	return err
}

// MirrorNumbered is Mirror returning the number the entry got in the
// mirror: its own, or the next free one after another writer's.
func (m *ConfigMapMirror) MirrorNumbered(ctx context.Context, e Entry) (int, error) {
	name := MirrorName(e.Incident)
	for range maxKeyRetries {
		val, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("mirror journal entry %d to configmap %s: %w", e.Seq, name, err)
		}
		key := seqKey(e.Seq)
		patch, _ := json.Marshal([]map[string]any{
			{"op": "test", "path": "/data/" + key, "value": nil}, // the key is still free
			{"op": "add", "path": "/data/" + key, "value": string(val)},
		})
		_, err = m.ConfigMaps.Patch(ctx, name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: "rollback"})
		if err == nil {
			return e.Seq, nil
		}
		if apierrors.IsNotFound(err) {
			err = m.create(ctx, e, key, string(val))
			if err == nil {
				return e.Seq, nil
			}
			if !apierrors.IsAlreadyExists(err) {
				return 0, fmt.Errorf("mirror journal entry %d: create configmap %s: %w", e.Seq, name, err)
			}
			continue // created meanwhile by another writer: patch it
		}
		cm, gerr := m.ConfigMaps.Get(ctx, name, metav1.GetOptions{})
		if gerr != nil {
			return 0, fmt.Errorf("mirror journal entry %d to configmap %s: %w", e.Seq, name, err)
		}
		have, taken := cm.Data[key]
		switch {
		case taken && have == string(val):
			return e.Seq, nil // already mirrored (a retry)
		case taken:
			e.Seq = maxSeq(cm.Data) + 1 // another writer took the number
		case cm.Data == nil:
			if err := m.mergeKey(ctx, name, key, string(val)); err != nil {
				return 0, fmt.Errorf("mirror journal entry %d to configmap %s: %w", e.Seq, name, err)
			}
			return e.Seq, nil
		default:
			return 0, fmt.Errorf("mirror journal entry %d to configmap %s: %w", e.Seq, name, err)
		}
	}
	return 0, fmt.Errorf("mirror journal entry to configmap %s: gave up after %d numbers taken by other writers", name, maxKeyRetries)
}

func (m *ConfigMapMirror) create(ctx context.Context, e Entry, key, val string) error {
	labels := map[string]string{LabelIncident: e.Incident, LabelManagedBy: "rollback"}
	if m.App != "" {
		labels[LabelApp] = m.App
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:        MirrorName(e.Incident),
			Labels:      labels,
			Annotations: map[string]string{"rollback.vibestack.dev/description": "journal of rollback incident " + e.Incident + ": rollback incident show " + e.Incident + " --cluster"},
		},
		Data: map[string]string{key: val},
	}
	_, err := m.ConfigMaps.Create(ctx, cm, metav1.CreateOptions{FieldManager: "rollback"})
	return err
}

func (m *ConfigMapMirror) mergeKey(ctx context.Context, name, key, val string) error {
	patch, _ := json.Marshal(map[string]any{"data": map[string]string{key: val}})
	_, err := m.ConfigMaps.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "rollback"})
	return err
}

// LastSeq returns the highest Seq in incident's ConfigMap, 0 when it does not exist.
func (m *ConfigMapMirror) LastSeq(ctx context.Context, incident string) (int, error) {
	cm, err := m.ConfigMaps.Get(ctx, MirrorName(incident), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read journal mirror configmap %s: %w", MirrorName(incident), err)
	}
	return maxSeq(cm.Data), nil
}

func seqKey(seq int) string { return fmt.Sprintf("%06d.json", seq) }

func maxSeq(data map[string]string) int {
	n := 0
	for k := range data {
		if s, ok := strings.CutSuffix(k, ".json"); ok {
			if v, err := strconv.Atoi(s); err == nil && v > n {
				n = v
			}
		}
	}
	return n
}

// ReadMirror returns the entries of incident mirrored in the cluster, by Seq.
func ReadMirror(ctx context.Context, cms corev1client.ConfigMapInterface, incident string) ([]Entry, error) {
	if err := ValidateID(incident); err != nil {
		return nil, fmt.Errorf("read journal mirror: %w", err)
	}
	cm, err := cms.Get(ctx, MirrorName(incident), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("read journal mirror: configmap %s: %w: list incidents with \"rollback incident list --cluster\" in the app's namespace (-n)", MirrorName(incident), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read journal mirror configmap %s: %w", MirrorName(incident), err)
	}
	return decodeMirror(cm), nil
}

func decodeMirror(cm *corev1.ConfigMap) []Entry {
	out, _ := decodeMirrorKeys(cm)
	return out
}

// decodeMirrorKeys returns the entries of a mirror ConfigMap by Seq, and
// the entry keys that do not hold an entry, each as "key K: why".
func decodeMirrorKeys(cm *corev1.ConfigMap) ([]Entry, []string) {
	var (
		out []Entry
		bad []string
	)
	for k, v := range cm.Data {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		e, err := decodeEntry([]byte(v))
		if err != nil {
			bad = append(bad, fmt.Sprintf("key %s: %v", k, err))
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Seq != out[j].Seq {
			return out[i].Seq < out[j].Seq
		}
		return out[i].Time.Before(out[j].Time)
	})
	sort.Strings(bad)
	return out, bad
}

// ListMirror summarizes every incident mirrored in the namespace, newest first.
func ListMirror(ctx context.Context, cms corev1client.ConfigMapInterface) ([]Summary, error) {
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=rollback," + LabelIncident})
	if err != nil {
		return nil, fmt.Errorf("list journal mirrors: %w", err)
	}
	var out []Summary
	for i := range list.Items {
		cm := &list.Items[i]
		id := cm.Labels[LabelIncident]
		if id == "" {
			continue
		}
		s := Summarize(id, decodeMirror(cm))
		if s.App == "" {
			s.App = cm.Labels[LabelApp]
		}
		out = append(out, s)
	}
	sortNewestFirst(out)
	return out, nil
}

var _ BatchMirror = (*ConfigMapMirror)(nil)

// MirrorBatch copies entries with one JSON patch when every number is still
// free; otherwise (no ConfigMap yet, a number taken by another writer) it
// copies them one by one, each after the last (MirrorNumbered). It returns
// the number the last entry got.
func (m *ConfigMapMirror) MirrorBatch(ctx context.Context, entries []Entry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	var ops []map[string]any
	for _, e := range entries {
		val, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("mirror journal entry %d: %w", e.Seq, err)
		}
		key := seqKey(e.Seq)
		ops = append(ops,
			map[string]any{"op": "test", "path": "/data/" + key, "value": nil},
			map[string]any{"op": "add", "path": "/data/" + key, "value": string(val)})
	}
	patch, _ := json.Marshal(ops)
	if _, err := m.ConfigMaps.Patch(ctx, MirrorName(entries[0].Incident), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: "rollback"}); err == nil {
		return entries[len(entries)-1].Seq, nil
	}
	last := 0
	var errs []error
	for _, e := range entries {
		if e.Seq <= last {
			e.Seq = last + 1
		}
		n, err := m.MirrorNumbered(ctx, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		last = n
	}
	return last, errors.Join(errs...)
}
