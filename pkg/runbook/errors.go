package runbook

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Issue is one problem found in a runbook, at a line of the file.
type Issue struct {
	// Line is the 1-based line of the offending key or value (0 when unknown).
	Line int
	// Message says what is wrong and how to fix it.
	Message string
}

// ParseError lists every problem found in a runbook file.
type ParseError struct {
	// File is the name the runbook was read from.
	File string
	// Issues are the problems, sorted by line.
	Issues []Issue
}

// Error returns one "file:line: problem: fix" line per issue.
func (e *ParseError) Error() string {
	lines := make([]string, 0, len(e.Issues))
	for _, is := range e.Issues {
		lines = append(lines, fmt.Sprintf("%s:%d: %s", e.File, is.Line, is.Message))
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems in runbook:\n%s", len(lines), strings.Join(lines, "\n"))
}

// issues collects problems while a runbook is checked.
type issues []Issue

func (is *issues) add(line int, format string, args ...any) {
	*is = append(*is, Issue{Line: line, Message: fmt.Sprintf(format, args...)})
}

// at reports whether an issue was already found at line.
func (is issues) at(line int) bool {
	for _, i := range is {
		if i.Line == line {
			return true
		}
	}
	return false
}

func (is issues) err(file string) error {
	if len(is) == 0 {
		return nil
	}
	sorted := append([]Issue(nil), is...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Line < sorted[j].Line })
	// A bad runbook is bad input: nothing was changed (exit code 2).
	return outcome.AsRefused(&ParseError{File: file, Issues: sorted})
}
