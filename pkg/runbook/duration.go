package runbook

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a Go duration written as a string such as "5s" or "1m30s".
type Duration struct {
	time.Duration
}

// UnmarshalYAML parses a duration string; a bad one is reported at its line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a duration must be a string such as \"5s\"", n.Line)}}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration %q: write a positive Go duration such as \"5s\" or \"1m30s\"", n.Line, n.Value)}}
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// IsZero reports whether no duration was set.
func (d Duration) IsZero() bool { return d.Duration == 0 }
