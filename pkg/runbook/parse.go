package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Load reads and parses the runbook at path.
func Load(path string) (*Runbook, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, outcome.AsRefused(fmt.Errorf("read runbook: %w: write one with \"rollback init\" or pass its path", err))
	}
	if err != nil {
		return nil, fmt.Errorf("read runbook: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a runbook strictly: unknown keys, wrong types, missing required
// fields and invalid values are returned as a *ParseError naming name:line and
// the fix, marked as a refusal (exit code 2). Defaults (steps, expectStatus, database tool) are filled in.
func Parse(name string, data []byte) (*Runbook, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, (issues{{Line: 1, Message: "empty runbook: write one with \"rollback init\""}}).err(name)
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, syntaxError(name, err)
		}
		return nil, (issues{{Line: line, Message: "more than one YAML document: keep a single runbook per file (remove the \"---\")"}}).err(name)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	var found issues
	if root.Kind != yaml.MappingNode {
		found.add(root.Line, "a runbook must be a mapping starting with \"apiVersion: %s\": write one with \"rollback init\"", APIVersion)
		return nil, found.err(name)
	}
	checkKeys(&found, root, reflect.TypeOf(Runbook{}), "")

	structural := len(found) // unknown keys: the values can still be checked
	var rb Runbook
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&rb); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, syntaxError(name, err)
		}
		for _, msg := range te.Errors {
			line, text := splitLine(msg)
			if strings.Contains(msg, " not found in type ") {
				if !found.at(line) { // e.g. behind an alias, which checkKeys does not follow
					found.add(line, "unknown %s: remove it (see \"rollback init\" for the keys)", strings.SplitN(text, " not found", 2)[0])
				}
				continue // otherwise reported by checkKeys with the allowed keys
			}
			found.add(line, "%s", friendlyType(text))
		}
	}
	if len(found) > structural {
		// Wrong types leave fields empty: checking values now would report
		// them again as missing. Fix the types first.
		return nil, found.err(name)
	}
	validate(&found, &rb, locator{root})
	if len(found) > 0 {
		return nil, found.err(name)
	}
	rb.defaults()
	return &rb, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// splitLine splits "line N: text" into N and text.
func splitLine(msg string) (int, string) {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// syntaxError turns a YAML syntax error into a ParseError.
func syntaxError(name string, err error) error {
	line, text := splitLine(err.Error())
	return (issues{{Line: line, Message: "invalid YAML: " + text + ": fix the syntax (indent with spaces, quote values containing \": \" or \"#\")"}}).err(name)
}

var typeRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (.+)$")

// friendlyType rewrites a yaml.v3 type error into what to write instead.
func friendlyType(text string) string {
	m := typeRE.FindStringSubmatch(text)
	if m == nil {
		return text
	}
	got, into := m[1], m[3]
	var want string
	switch {
	case strings.HasPrefix(into, "[]"):
		want = "a list (lines starting with \"- \")"
	case into == "int":
		want = "a whole number"
	case into == "float64":
		want = "a number"
	case into == "string":
		want = "a string (quote it)"
	case strings.HasPrefix(into, "runbook."):
		want = "a mapping (key: value lines)"
	default:
		want = into
	}
	// The value itself is not repeated: it may be a secret written in the wrong place.
	gotWords := map[string]string{"map": "a mapping", "seq": "a list", "str": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "null": "nothing", "timestamp": "a timestamp", "binary": "binary data"}[got]
	if gotWords == "" {
		gotWords = "!!" + got
	}
	return fmt.Sprintf("wrong type: got %s, want %s", gotWords, want)
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkKeys reports every mapping key the schema does not know, with the
// keys allowed at that place.
func checkKeys(found *issues, n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkKeys(found, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := map[string]reflect.Type{}
		var allowed []string
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			fields[key] = f.Type
			allowed = append(allowed, key)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			switch {
			case ok:
				checkKeys(found, v, ft, join(path, k.Value))
			case t == reflect.TypeOf(Database{}) && strings.EqualFold(k.Value, "url"):
				found.add(k.Line, "database.url: never write the database URL (and its password) in the runbook: use urlFromEnv: VARIABLE or urlFromFile: PATH")
			default:
				found.add(k.Line, "unknown key %q in %s: remove it or use one of %s", k.Value, where(path), strings.Join(allowed, ", "))
			}
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return "the runbook"
	}
	return path
}
