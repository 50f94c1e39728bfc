package configs

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Store reads and writes the ConfigMaps and Secrets of one namespace.
type Store struct {
	Namespace  string
	ConfigMaps corev1client.ConfigMapInterface
	Secrets    corev1client.SecretInterface
}

// NewStore returns a Store for namespace.
func NewStore(cs kubernetes.Interface, namespace string) Store {
	return Store{
		Namespace:  namespace,
		ConfigMaps: cs.CoreV1().ConfigMaps(namespace),
		Secrets:    cs.CoreV1().Secrets(namespace),
	}
}

// Get reads one object. A Secret the caller may not read is a refusal that
// says so; a missing object is returned as the API's NotFound error.
func (s Store) Get(ctx context.Context, kind Kind, name string) (*Object, error) {
	var (
		obj *Object
		err error
	)
	switch kind {
	case KindConfigMap:
		var cm *corev1.ConfigMap
		if cm, err = s.ConfigMaps.Get(ctx, name, metav1.GetOptions{}); err == nil {
			obj = FromConfigMap(cm)
		}
	case KindSecret:
		var sec *corev1.Secret
		if sec, err = s.Secrets.Get(ctx, name, metav1.GetOptions{}); err == nil {
			obj = FromSecret(sec)
		}
	default:
		return nil, fmt.Errorf("get %s %s: unknown kind", kind, name)
	}
	if err != nil {
		return nil, s.readError(kind, name, "read", err)
	}
	return obj, nil
}

// List lists the objects of kind matching opts.
func (s Store) List(ctx context.Context, kind Kind, opts metav1.ListOptions) ([]*Object, error) {
	var out []*Object
	switch kind {
	case KindConfigMap:
		list, err := s.ConfigMaps.List(ctx, opts)
		if err != nil {
			return nil, s.readError(kind, "", "list", err)
		}
		for i := range list.Items {
			out = append(out, FromConfigMap(&list.Items[i]))
		}
	case KindSecret:
		list, err := s.Secrets.List(ctx, opts)
		if err != nil {
			return nil, s.readError(kind, "", "list", err)
		}
		for i := range list.Items {
			out = append(out, FromSecret(&list.Items[i]))
		}
	}
	return out, nil
}

// Create creates o.
func (s Store) Create(ctx context.Context, o *Object) (*Object, error) {
	opts := metav1.CreateOptions{FieldManager: FieldManager}
	switch o.Kind {
	case KindConfigMap:
		cm, err := s.ConfigMaps.Create(ctx, o.ConfigMap(), opts)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", describe(o.Kind, s.Namespace, o.Name), err)
		}
		return FromConfigMap(cm), nil
	default:
		sec, err := s.Secrets.Create(ctx, o.Secret(), opts)
		if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) {
			return nil, fmt.Errorf("create %s: %w", describe(o.Kind, s.Namespace, o.Name), err)
		}
		if err != nil {
			// The API's message may quote a value; never pass it on for a Secret.
			return nil, fmt.Errorf("create %s: the API refused it (%s)", describe(o.Kind, s.Namespace, o.Name), apierrors.ReasonForError(err))
		}
		return FromSecret(sec), nil
	}
}

// Delete deletes an object.
func (s Store) Delete(ctx context.Context, kind Kind, name string) error {
	var err error
	if kind == KindConfigMap {
		err = s.ConfigMaps.Delete(ctx, name, metav1.DeleteOptions{})
	} else {
		err = s.Secrets.Delete(ctx, name, metav1.DeleteOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", describe(kind, s.Namespace, name), err)
	}
	return nil
}

// Restore makes current's data equal to target's data in one write that
// carries current's resourceVersion as a precondition, so that a change
// made since current was read is reported as a conflict, never overwritten.
// When no key has to be removed the write is a server-side apply with the
// field manager "rollback"; removing keys other managers own is impossible
// with an apply, so then the write is an update with the same manager.
// It returns the object as written and the method used ("apply" or "update").
func (s Store) Restore(ctx context.Context, current, target *Object) (*Object, string, error) {
	what := describe(current.Kind, s.Namespace, current.Name)
	if current.ResourceVersion == "" {
		return nil, "", fmt.Errorf("restore %s: no resourceVersion to use as a precondition", what)
	}
	method := "apply"
	cur, want := current.Values(), target.Values()
	for k := range cur {
		if _, ok := want[k]; !ok {
			method = "update"
		}
	}
	// A key moving between data and binaryData cannot be applied either.
	for k := range current.Data {
		if _, ok := target.BinaryData[k]; ok {
			method = "update"
		}
	}
	var (
		written *Object
		err     error
	)
	switch {
	case method == "update":
		next := *current
		next.Data, next.BinaryData = target.Data, target.BinaryData
		opts := metav1.UpdateOptions{FieldManager: FieldManager}
		if current.Kind == KindConfigMap {
			var cm *corev1.ConfigMap
			if cm, err = s.ConfigMaps.Update(ctx, next.ConfigMap(), opts); err == nil {
				written = FromConfigMap(cm)
			}
		} else {
			var sec *corev1.Secret
			if sec, err = s.Secrets.Update(ctx, next.Secret(), opts); err == nil {
				written = FromSecret(sec)
			}
		}
	case current.Kind == KindConfigMap:
		ac := corev1ac.ConfigMap(current.Name, s.Namespace).WithResourceVersion(current.ResourceVersion)
		if len(target.Data) > 0 {
			ac.WithData(target.Data)
		}
		if len(target.BinaryData) > 0 {
			ac.WithBinaryData(target.BinaryData)
		}
		var cm *corev1.ConfigMap
		if cm, err = s.ConfigMaps.Apply(ctx, ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err == nil {
			written = FromConfigMap(cm)
		}
	default:
		ac := corev1ac.Secret(current.Name, s.Namespace).WithResourceVersion(current.ResourceVersion)
		if len(target.BinaryData) > 0 {
			ac.WithData(target.BinaryData)
		}
		var sec *corev1.Secret
		if sec, err = s.Secrets.Apply(ctx, ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err == nil {
			written = FromSecret(sec)
		}
	}
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, method, outcome.AsRefused(fmt.Errorf(
				"restore %s (%s): it was changed by someone else after it was read at resourceVersion %s; nothing was overwritten: look at the change, then run the command again",
				what, method, current.ResourceVersion))
		}
		if apierrors.IsForbidden(err) {
			return nil, method, outcome.AsRefused(fmt.Errorf("restore %s: you may not change it (forbidden); nothing was changed: ask for update/patch permission on %ss in %s",
				what, current.Kind.lower(), s.Namespace))
		}
		// The API's message may quote a value; never pass it on for a Secret.
		if current.Kind == KindSecret {
			return nil, method, fmt.Errorf("restore %s: the API refused the write (%s)", what, apierrors.ReasonForError(err))
		}
		return nil, method, fmt.Errorf("restore %s: %w", what, err)
	}
	return written, method, nil
}

// readError turns a read failure into a clear message; a forbidden read is a refusal.
func (s Store) readError(kind Kind, name, verb string, err error) error {
	what := describe(kind, s.Namespace, name)
	if name == "" {
		what = fmt.Sprintf("%ss in %s", kind.lower(), s.Namespace)
	}
	if apierrors.IsForbidden(err) {
		return outcome.AsRefused(fmt.Errorf("%s %s: you may not %s it (forbidden); nothing was changed: ask for get/list permission on %ss in namespace %s, or run as an identity that has it",
			verb, what, verb, kind.lower(), s.Namespace))
	}
	return fmt.Errorf("%s %s: %w", verb, what, err)
}
