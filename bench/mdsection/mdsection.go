// Package mdsection rewrites one "## " section of a Markdown file, so that
// each benchmark owns its section of docs/benchmarks.md.
package mdsection

import (
	"os"
	"strings"
)

// Replace appends section (which starts with the line title) to file, or
// replaces the section with the same title, up to the next "## " heading,
// when the file has one.
func Replace(file, title, section string) error {
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(data)
	if i := strings.Index(text, title+"\n"); i >= 0 {
		rest := text[i+len(title)+1:]
		end := len(text)
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = i + len(title) + 1 + j + 1
		}
		text = text[:i] + section + text[end:]
	} else {
		if text != "" && !strings.HasSuffix(text, "\n\n") {
			text = strings.TrimRight(text, "\n") + "\n\n"
		}
		text += section
	}
	return os.WriteFile(file, []byte(text), 0o644)
}

// Get returns the section of file that starts with the line title, up to
// the next "## " heading, or "" when the file or the section is missing.
func Get(file, title string) (string, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	text := string(data)
	i := strings.Index(text, title+"\n")
	if i < 0 {
		return "", nil
	}
	rest := text[i+len(title)+1:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j+1]
	}
	return title + "\n" + rest, nil
}
