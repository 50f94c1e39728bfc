package promquery

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Limits of a query: tenant input (a Deployment annotation, a settings
// ConfigMap, a flag) never makes the tool build an arbitrarily large string.
const (
	// MaxQueryBytes is the longest query accepted, placeholders included.
	MaxQueryBytes = 4096
	// MaxExpandedBytes is the longest query after its placeholders are filled in.
	MaxExpandedBytes = 16384
)

// Placeholders are the names a query may use as {{.name}} (or {{ .name }}):
// the guarded Deployment's namespace, name and revision, the application's
// name, and label_KEY for each of the Deployment's labels (every character
// of the key that is not a letter or digit written as _, so
// app.kubernetes.io/name is label_app_kubernetes_io_name).
var Placeholders = []string{"namespace", "deployment", "revision", "app", "label_KEY"}

// ErrMissingValue says a query uses a placeholder that has no value here
// (say, a label the Deployment does not carry).
var ErrMissingValue = errors.New("placeholder has no value")

var (
	// placeholder is one {{.name}}, spaces allowed inside the braces.
	placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}`)
	labelName   = regexp.MustCompile(`^label_[A-Za-z0-9_]+$`)
)

// Validate checks a query without filling it in: at most MaxQueryBytes, and
// every {{...}} is one of Placeholders. Anything else (another name, a
// template action such as {{range}} or {{if}}, an unclosed {{) is refused
// (outcome.Refused) naming the allowed placeholders.
func Validate(query string) error {
	_, err := expand(query, nil)
	return err
}

// Expand fills the placeholders of query in with vars. A query that
// Validate refuses is refused; a placeholder without a value in vars is
// ErrMissingValue. Values are inserted as PromQL string content: '\' and '"'
// are escaped.
func Expand(query string, vars map[string]string) (string, error) {
	if vars == nil {
		vars = map[string]string{}
	}
	return expand(query, vars)
}

// expand is Validate when vars is nil, else Expand.
func expand(query string, vars map[string]string) (string, error) {
	if len(query) > MaxQueryBytes {
		return "", outcome.AsRefused(fmt.Errorf("query template: %d bytes is longer than the limit of %d", len(query), MaxQueryBytes))
	}
	var b strings.Builder
	rest := query
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		m := placeholder.FindStringSubmatchIndex(rest[i:])
		if m == nil || m[0] != 0 {
			end := strings.Index(rest[i:], "}}")
			what := rest[i:]
			if end >= 0 {
				what = rest[i : i+end+2]
			}
			return "", refuseTemplate(fmt.Sprintf("%q is not a placeholder", shorten(what)))
		}
		name := rest[i+m[2] : i+m[3]]
		if !known(name) {
			return "", refuseTemplate(fmt.Sprintf("unknown placeholder {{.%s}}", name))
		}
		if vars != nil {
			v, ok := vars[name]
			if !ok {
				return "", fmt.Errorf("query template: {{.%s}}: %w", name, ErrMissingValue)
			}
			b.WriteString(escape(v))
			if b.Len() > MaxExpandedBytes {
				return "", outcome.AsRefused(fmt.Errorf("query template: the query would be longer than %d bytes once filled in", MaxExpandedBytes))
			}
		}
		rest = rest[i+m[1]:]
	}
	return b.String(), nil
}

func refuseTemplate(why string) error {
	return outcome.AsRefused(fmt.Errorf("query template: %s: a query may only use the placeholders {{.namespace}}, {{.deployment}}, {{.revision}}, {{.app}} and {{.label_KEY}} (one per Deployment label, e.g. {{.label_app_kubernetes_io_name}}); it is not a template language", why))
}

func known(name string) bool {
	switch name {
	case "namespace", "deployment", "revision", "app":
		return true
	}
	return labelName.MatchString(name)
}

// escape makes v safe inside a PromQL string literal.
func escape(v string) string {
	if !strings.ContainsAny(v, `\"`+"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
