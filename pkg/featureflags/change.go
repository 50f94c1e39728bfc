package featureflags

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Values Disable and Enable write.
const (
	Off = "false"
	On  = "true"
)

// Change is what Disable or Enable did to a flag.
type Change struct {
	// Flag is the flag's name.
	Flag string `json:"flag"`
	// Before is the value before.
	Before string `json:"before"`
	// After is the value after.
	After string `json:"after"`
	// Skipped is true when the flag already had the value: nothing was written.
	Skipped bool `json:"skipped"`
}

// Lister is a Provider that can list its flags.
type Lister interface {
	Provider
	// List returns every flag and its value.
	List(ctx context.Context) (map[string]string, error)
}

// Flag is one flag and its value.
type Flag struct {
	// Name is the flag's name.
	Name string `json:"name"`
	// Value is its value.
	Value string `json:"value"`
}

// ValidateName checks that flag is a valid flag name: a ConfigMap key
// (letters, digits, '-', '_', '.'; at most 253 characters).
func ValidateName(flag string) error {
	if flag == "" {
		return errors.New("missing feature flag name: pass one such as new-checkout (see \"rollback flag list\")")
	}
	if errs := validation.IsConfigMapKey(flag); len(errs) > 0 {
		return fmt.Errorf("invalid feature flag name %q: %s", flag, strings.Join(errs, "; "))
	}
	return nil
}

// Disable sets flag to "false"; skipped when it is already false.
func Disable(ctx context.Context, p Provider, flag string) (Change, error) {
	return set(ctx, p, flag, Off)
}

// Enable sets flag to "true"; skipped when it is already true.
func Enable(ctx context.Context, p Provider, flag string) (Change, error) {
	return set(ctx, p, flag, On)
}

func set(ctx context.Context, p Provider, flag, value string) (Change, error) {
	if err := ValidateName(flag); err != nil {
		return Change{}, err
	}
	c := Change{Flag: flag, After: value}
	cur, err := p.Get(ctx, flag)
	if err != nil {
		return Change{}, err
	}
	if Is(cur, value) {
		c.Before, c.After, c.Skipped = cur, cur, true
		return c, nil
	}
	before, err := p.Set(ctx, flag, value)
	if err != nil {
		return Change{}, err
	}
	c.Before = before
	c.Skipped = before == value // a concurrent writer did it first
	return c, nil
}

// Is reports whether the flag value cur means value ("True " is "true").
func Is(cur, value string) bool {
	return strings.EqualFold(strings.TrimSpace(cur), value)
}

// List returns p's flags sorted by name; p must implement Lister.
func List(ctx context.Context, p Provider) ([]Flag, error) {
	l, ok := p.(Lister)
	if !ok {
		return nil, fmt.Errorf("list feature flags: %s cannot list its flags", p.String())
	}
	m, err := l.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Flag, 0, len(m))
	for k, v := range m {
		out = append(out, Flag{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
