package helmrelease

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Labels of the marks ConfigMap.
const (
	// LabelHelmRelease names the release a marks ConfigMap is about.
	LabelHelmRelease = "rollback.vibestack.dev/helm-release"
	labelManagedBy   = "app.kubernetes.io/managed-by"
)

// MarksConfigMapName is the ConfigMap that holds rollback's marks of the
// revisions of release: "rollback-helm-RELEASE" in the release's namespace.
func MarksConfigMapName(release string) string { return "rollback-helm-" + release }

// Mark is rollback's verdict on one revision of a release.
type Mark struct {
	Verdict string    `json:"verdict"`
	At      time.Time `json:"at"`
	// By is the command that made it: undo, mark-good.
	By string `json:"by"`
	// Hash is the manifest hash of the revision marked; the mark counts
	// only while it matches.
	Hash   string `json:"hash"`
	Reason string `json:"reason,omitempty"`
}

// marks reads and writes the marks ConfigMap of one release.
type marks struct {
	cms     corev1client.ConfigMapInterface
	release string
}

func markKey(revision int) string { return "revision-" + strconv.Itoa(revision) }

// read returns the marks by revision; none when the ConfigMap does not exist.
func (m marks) read(ctx context.Context) (map[int]Mark, error) {
	cm, err := m.cms.Get(ctx, MarksConfigMapName(m.release), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return map[int]Mark{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read marks of release %s (configmap %s): %w", m.release, MarksConfigMapName(m.release), err)
	}
	out := map[int]Mark{}
	for k, v := range cm.Data {
		n, err := strconv.Atoi(strings.TrimPrefix(k, "revision-"))
		if err != nil {
			continue
		}
		var mk Mark
		if json.Unmarshal([]byte(v), &mk) == nil {
			out[n] = mk
		}
	}
	return out, nil
}

// write records mk for revision, creating the ConfigMap when needed; a
// concurrent change is retried on a fresh read.
func (m marks) write(ctx context.Context, revision int, mk Mark) error {
	val, err := json.Marshal(mk)
	if err != nil {
		return err
	}
	name := MarksConfigMapName(m.release)
	for attempt := 0; attempt < 5; attempt++ {
		cm, err := m.cms.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name,
				Labels: map[string]string{labelManagedBy: "rollback", LabelHelmRelease: m.release}},
				Data: map[string]string{markKey(revision): string(val)}}
			if _, err = m.cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: fieldManager}); apierrors.IsAlreadyExists(err) {
				continue
			}
		} else if err == nil {
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[markKey(revision)] = string(val)
			if _, err = m.cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: fieldManager}); apierrors.IsConflict(err) {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("mark revision %d of release %s %s (configmap %s): %w", revision, m.release, mk.Verdict, name, err)
		}
		return nil
	}
	return fmt.Errorf("mark revision %d of release %s: configmap %s kept changing", revision, m.release, name)
}

// fieldManager is the field manager of every write of this package.
const fieldManager = "rollback"
