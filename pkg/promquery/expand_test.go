package promquery

import (
	"errors"
	"strings"
	"testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"namespace": "shop", "deployment": "web", "revision": "3", "app": "vibestack", "label_team": "pay"}
	tests := []struct {
		name, query, want string
		refused, missing  bool
	}{
		{name: "plain", query: `sum(rate(x[1m]))`, want: `sum(rate(x[1m]))`},
		{name: "spelling without spaces", query: `x{ns="{{.namespace}}",d="{{.deployment}}"}`, want: `x{ns="shop",d="web"}`},
		{name: "spelling with spaces", query: `x{ns="{{ .namespace }}",r="{{  .revision}}"}`, want: `x{ns="shop",r="3"}`},
		{name: "app and labels", query: `x{a="{{.app}}",t="{{.label_team}}"}`, want: `x{a="vibestack",t="pay"}`},
		{name: "range bomb is refused", query: `{{range 20000}}{{range 1000}}xxxxxxxxxxxxxxxx{{end}}{{end}}`, refused: true},
		{name: "printf is refused", query: `{{printf "%0999999d" 1}}`, refused: true},
		{name: "unknown placeholder", query: `x{a="{{.password}}"}`, refused: true},
		{name: "unclosed", query: `x{a="{{.namespace"}`, refused: true},
		{name: "pipeline", query: `{{.namespace | len}}`, refused: true},
		{name: "too long", query: strings.Repeat("x", MaxQueryBytes+1), refused: true},
		{name: "missing label", query: `x{a="{{.label_owner}}"}`, missing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.query, vars)
			switch {
			case tt.refused:
				if err == nil || outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "{{.namespace}}") && !strings.Contains(err.Error(), "limit") {
					t.Fatalf("Expand = %q, %v; want a refusal naming the placeholders", got, err)
				}
				if Validate(tt.query) == nil {
					t.Error("Validate accepts it")
				}
			case tt.missing:
				if !errors.Is(err, ErrMissingValue) || outcome.KindOf(err) == outcome.Refused {
					t.Fatalf("Expand = %q, %v; want ErrMissingValue", got, err)
				}
				if err := Validate(tt.query); err != nil {
					t.Errorf("Validate: %v", err)
				}
			default:
				if err != nil || got != tt.want {
					t.Fatalf("Expand = %q, %v; want %q", got, err, tt.want)
				}
			}
		})
	}
}

func TestExpandCapsTheResult(t *testing.T) {
	q := strings.Repeat(`{{.label_big}}`, 290)
	_, err := Expand(q, map[string]string{"label_big": strings.Repeat("v", 63)})
	if outcome.KindOf(err) != outcome.Refused {
		t.Fatalf("err %v, want a refusal for a result over %d bytes", err, MaxExpandedBytes)
	}
}

func TestExpandEscapesValues(t *testing.T) {
	got, err := Expand(`x{a="{{.app}}"}`, map[string]string{"app": `a"} or vector(1) #\`})
	if err != nil || got != `x{a="a\"} or vector(1) #\\"}` {
		t.Fatalf("Expand = %q, %v", got, err)
	}
}

// FuzzExpand: any query from a flag, a runbook or an annotation is filled
// in or refused, never expanded past MaxExpandedBytes, and a result never
// holds a "{{" the query did not have inside a value.
func FuzzExpand(f *testing.F) {
	f.Add(`sum(rate(x{ns="{{.namespace}}",d="{{ .deployment }}"}[1m]))`, "shop")
	f.Add(`{{range 20000}}{{range 1000}}xxxxxxxxxxxxxxxx{{end}}{{end}}`, "x")
	f.Add(`{{.label_app_kubernetes_io_name}}{{`, `"}`)
	f.Fuzz(func(t *testing.T, query, value string) {
		vars := map[string]string{"namespace": value, "deployment": "web", "revision": "1", "app": "a", "label_app_kubernetes_io_name": value}
		got, err := Expand(query, vars)
		if err != nil {
			return
		}
		if len(got) > MaxExpandedBytes || len(query) > MaxQueryBytes {
			t.Fatalf("expanded to %d bytes from %d", len(got), len(query))
		}
		if Validate(query) != nil {
			t.Fatalf("Expand accepts %q but Validate refuses it", query)
		}
		if !strings.Contains(value, "{") && strings.Contains(got, "{{") && !strings.Contains(query, "{{") {
			t.Fatalf("%q grew a {{ from nowhere: %q", query, got)
		}
	})
}
