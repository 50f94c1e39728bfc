package featureflags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// ErrNotFound says a flag, or the ConfigMap holding the flags, does not exist.
var ErrNotFound = errors.New("not found")

// ConfigMap keeps one flag per data key of a ConfigMap.
type ConfigMap struct {
	// ConfigMaps is the ConfigMap client of the flags' namespace.
	ConfigMaps corev1client.ConfigMapInterface
	// Name is the ConfigMap's name.
	Name string
	// Namespace is shown in Name(); optional.
	Namespace string
}

var _ Lister = (*ConfigMap)(nil)

// maxSetRetries bounds how often Set re-reads a flag another writer changed.
const maxSetRetries = 10

// String returns "configmap NAMESPACE/NAME".
func (c *ConfigMap) String() string {
	if c.Namespace == "" {
		return "configmap " + c.Name
	}
	return "configmap " + c.Namespace + "/" + c.Name
}

// Get returns the flag's value.
func (c *ConfigMap) Get(ctx context.Context, flag string) (string, error) {
	data, err := c.data(ctx)
	if err != nil {
		return "", err
	}
	v, ok := data[flag]
	if !ok {
		return "", c.unknown(flag, data)
	}
	return v, nil
}

// List returns every flag and its value.
func (c *ConfigMap) List(ctx context.Context) (map[string]string, error) {
	return c.data(ctx)
}

// Set writes the flag's value with a JSON patch that first tests the value
// it read, so a concurrent change is never overwritten unseen: on a conflict
// it reads again and retries. It returns the value before.
func (c *ConfigMap) Set(ctx context.Context, flag, value string) (string, error) {
	for range maxSetRetries {
		before, err := c.Get(ctx, flag)
		if err != nil {
			return "", err
		}
		if before == value {
			return before, nil
		}
		path := "/data/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(flag)
		patch, _ := json.Marshal([]map[string]any{
			{"op": "test", "path": path, "value": before},
			{"op": "replace", "path": path, "value": value},
		})
		_, err = c.ConfigMaps.Patch(ctx, c.Name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: "rollback"})
		if err == nil {
			return before, nil
		}
		if !mayBeTestFailed(err) {
			return "", fmt.Errorf("set feature flag %s in %s: %w", flag, c.String(), err)
		}
		// The API server answers a failed test with 422 Invalid; a flag
		// that still has the value we tested means the request itself was bad.
		if now, gerr := c.Get(ctx, flag); gerr != nil || now == before {
			return "", fmt.Errorf("set feature flag %s in %s: %w", flag, c.String(), err)
		}
		// Another writer changed the flag between our read and write: read again.
	}
	return "", fmt.Errorf("set feature flag %s in %s: it kept changing under concurrent writers; try again", flag, c.String())
}

// mayBeTestFailed reports whether err may say that the test operation of a
// JSON patch failed because the value changed: 422 Invalid from the API
// server, 409 Conflict, or the patch library's "testing value ... failed".
func mayBeTestFailed(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsConflict(err) || strings.Contains(err.Error(), "testing value")
}

func (c *ConfigMap) data(ctx context.Context) (map[string]string, error) {
	cm, err := c.ConfigMaps.Get(ctx, c.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("read feature flags: %s: %w: create it, or name the right one (featureFlags.configMap in rollback.yaml, --configmap)", c.String(), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read feature flags from %s: %w", c.String(), err)
	}
	if cm.Data == nil {
		return map[string]string{}, nil
	}
	return cm.Data, nil
}

func (c *ConfigMap) unknown(flag string, data map[string]string) error {
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	sort.Strings(names)
	known := "it has no flags"
	if len(names) > 0 {
		known = "known flags: " + strings.Join(names, ", ")
	}
	return fmt.Errorf("feature flag %q in %s: %w (%s)", flag, c.String(), ErrNotFound, known)
}
