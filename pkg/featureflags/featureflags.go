// Package featureflags turns feature flags off during an incident. Providers
// sit behind a small interface; the ConfigMap provider keeps one key per flag.
package featureflags

import "context"

// Provider reads and writes feature flags.
type Provider interface {
	// String names the provider and where it keeps flags, e.g. "configmap vibestack/vibestack-feature-flags".
	String() string
	// Get returns a flag's value; an error wrapping ErrNotFound when it does not exist.
	Get(ctx context.Context, flag string) (string, error)
	// Set writes a flag's value, safe against concurrent writers, and returns the value before.
	Set(ctx context.Context, flag, value string) (before string, err error)
}
