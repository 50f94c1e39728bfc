package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

func str(v any) string {
	if v == nil {
		return ""
	}
	return render(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// render shows a JSON value on one line: lists joined by ", ", maps as
// "k=v" sorted by key.
func render(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = render(x)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + render(v[k])
		}
		return strings.Join(parts, " ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// writeTree writes a JSON value as a nested Markdown list.
func writeTree(w *bufio.Writer, v any, depth int) {
	indent := strings.Repeat("  ", depth)
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if isScalar(v[k]) {
				fmt.Fprintf(w, "%s- %s: %s\n", indent, k, render(v[k]))
				continue
			}
			fmt.Fprintf(w, "%s- %s:\n", indent, k)
			writeTree(w, v[k], depth+1)
		}
	case []any:
		for _, x := range v {
			if isScalar(x) {
				fmt.Fprintf(w, "%s- %s\n", indent, render(x))
				continue
			}
			if m, ok := x.(map[string]any); ok && allScalar(m) {
				fmt.Fprintf(w, "%s- %s\n", indent, render(m))
				continue
			}
			fmt.Fprintf(w, "%s-\n", indent)
			writeTree(w, x, depth+1)
		}
	default:
		fmt.Fprintf(w, "%s- %s\n", indent, render(v))
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func allScalar(m map[string]any) bool {
	for _, v := range m {
		if !isScalar(v) {
			return false
		}
	}
	return true
}

// writeValue writes a JSON value as Markdown: lists of flat objects (such
// as health checks) as tables, everything else as nested lists.
func writeValue(w *bufio.Writer, v any) {
	if rows, ok := flatRows(v); ok {
		writeTable(w, rows)
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		writeTree(w, v, 0)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var scalars []string
	for _, k := range keys {
		if isScalar(m[k]) {
			scalars = append(scalars, k)
		}
	}
	for _, k := range scalars {
		fmt.Fprintf(w, "- %s: %s\n", k, render(m[k]))
	}
	for _, k := range keys {
		if isScalar(m[k]) {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n\n", k)
		if rows, ok := flatRows(m[k]); ok {
			writeTable(w, rows)
		} else {
			writeTree(w, m[k], 0)
		}
	}
}

// flatRows returns v as rows when it is a non-empty list of flat objects.
func flatRows(v any) ([]map[string]any, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	rows := make([]map[string]any, 0, len(list))
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok || !allScalar(m) {
			return nil, false
		}
		rows = append(rows, m)
	}
	return rows, true
}

// firstColumns come first in tables, in this order.
var firstColumns = []string{"name", "check", "cluster", "status", "result", "ok", "value", "threshold", "detail", "message"}

func writeTable(w *bufio.Writer, rows []map[string]any) {
	set := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			set[k] = true
		}
	}
	var cols, rest []string
	for _, k := range firstColumns {
		if set[k] {
			cols = append(cols, k)
			delete(set, k)
		}
	}
	for k := range set {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	cols = append(cols, rest...)
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(orDash(render(r[c])))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}
