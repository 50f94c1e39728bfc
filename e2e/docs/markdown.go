// Package docs keeps the examples in README.md and docs/ true: every
// ```console block there is a recorded session that the end-to-end test
// TestExamples runs again, command by command, through the real CLI against
// the sandbox and PostgreSQL, comparing the output after the volatile parts
// (ports, times, durations, hashes, incident ids, temporary paths) are
// normalised. With -update it writes the new output back into the Markdown.
//
// A block is marked with the scenario that prepares its environment:
//
//	<!-- example: tour -->
//	```console
//	$ rollback app undo web --yes
//	...
//	```
//
// Blocks of one scenario in one file share their environment (working
// directory, shell variables, namespace) in file order. A block marked
// "<!-- example: NAME unordered -->" compares each output as a set of
// lines, for commands that report concurrent work as it finishes. A command goes
// on over lines that end with "\" or that start with "> " (the shell's
// continuation prompt). A line "..." in the recorded output stands for any
// number of lines.
package docs

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Block is one ```console block of a Markdown file.
type Block struct {
	// File is the Markdown file, relative to the repository root.
	File string
	// Scenario names the environment the block runs in.
	Scenario string
	// Unordered compares each command's output as a set of lines, for
	// commands that report concurrent work in the order it finishes
	// (marker "<!-- example: NAME unordered -->").
	Unordered bool
	// Start and End are the 0-based indices of the block's first and last
	// content lines (the lines between the fences; End < Start when empty).
	Start, End int
	// Commands are the block's commands with their recorded output.
	Commands []Command
}

// Command is one "$ ..." command of a block and the output recorded after it.
type Command struct {
	// Source holds the command's lines as written, "$ " and continuation
	// lines included.
	Source []string
	// Output is the recorded output.
	Output []string
}

// Shell returns the command as the shell reads it (without the prompts).
func (c Command) Shell() string {
	lines := []string{strings.TrimPrefix(c.Source[0], "$ ")}
	for _, l := range c.Source[1:] {
		lines = append(lines, strings.TrimPrefix(l, "> "))
	}
	return strings.Join(lines, "\n")
}

var marker = regexp.MustCompile(`^<!-- example: ([a-z0-9-]+)( unordered)? -->$`)

// Parse returns the console blocks of a Markdown file. Every ```console
// block must be marked with its scenario, so that no example goes unchecked.
func Parse(file string, data []byte) ([]Block, error) {
	lines := strings.Split(string(data), "\n")
	var blocks []Block
	var errs []string
	for i := 0; i < len(lines); i++ {
		m := marker.FindStringSubmatch(lines[i])
		isConsole := strings.TrimSpace(lines[i]) == "```console"
		if fence := fenceOf(lines[i]); fence != "" && !isConsole {
			// another fenced block (```text, ````markdown, ...): skip to
			// its end, console examples quoted inside it included.
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != fence; i++ {
			}
			continue
		}
		if m == nil && !isConsole {
			continue
		}
		if m != nil {
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```console" {
				errs = append(errs, fmt.Sprintf("%s:%d: an example marker must be followed by a ```console block", file, i+1))
				continue
			}
			i++
		} else {
			errs = append(errs, fmt.Sprintf("%s:%d: ```console block without an example marker: put <!-- example: SCENARIO --> on the line before it (or use ```text for output that is not run)", file, i+1))
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			errs = append(errs, fmt.Sprintf("%s:%d: ```console block is not closed", file, i+1))
			break
		}
		b := Block{File: file, Start: i + 1, End: end - 1}
		if m != nil {
			b.Scenario, b.Unordered = m[1], m[2] != ""
		}
		cmds, err := parseCommands(lines[i+1 : end])
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s:%d: %v", file, i+1, err))
		}
		b.Commands = cmds
		blocks = append(blocks, b)
		i = end
	}
	if len(errs) > 0 {
		return blocks, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return blocks, nil
}

// fenceOf returns the run of backticks that opens a fenced code block on
// line, or "".
func fenceOf(line string) string {
	t := strings.TrimSpace(line)
	n := 0
	for n < len(t) && t[n] == '`' {
		n++
	}
	if n < 3 {
		return ""
	}
	return t[:n]
}

func parseCommands(lines []string) ([]Command, error) {
	var cmds []Command
	continued := false
	for _, line := range lines {
		switch {
		case continued, len(cmds) > 0 && len(cmds[len(cmds)-1].Output) == 0 && strings.HasPrefix(line, "> "):
			c := &cmds[len(cmds)-1]
			c.Source = append(c.Source, line)
		case strings.HasPrefix(line, "$ "):
			cmds = append(cmds, Command{Source: []string{line}})
		case len(cmds) == 0:
			return nil, fmt.Errorf("a console block starts with a command (\"$ ...\"), not with %q", line)
		default:
			c := &cmds[len(cmds)-1]
			c.Output = append(c.Output, line)
		}
		continued = len(cmds) > 0 && len(cmds[len(cmds)-1].Output) == 0 && strings.HasSuffix(line, "\\")
	}
	if len(cmds) == 0 {
		return nil, fmt.Errorf("a console block without commands")
	}
	return cmds, nil
}

// Rewrite returns data with the output of each command of each block
// replaced by got[block][command]; a nil entry keeps what is there.
func Rewrite(data []byte, blocks []Block, got [][][]string) []byte {
	lines := strings.Split(string(data), "\n")
	var out []string
	next := 0
	for bi, b := range blocks {
		out = append(out, lines[next:b.Start]...)
		for ci, c := range b.Commands {
			out = append(out, c.Source...)
			if bi < len(got) && ci < len(got[bi]) && got[bi][ci] != nil {
				out = append(out, got[bi][ci]...)
			} else {
				out = append(out, c.Output...)
			}
		}
		next = b.End + 1
	}
	out = append(out, lines[next:]...)
	return []byte(strings.Join(out, "\n"))
}

// Elide carries the "..." lines of want over to got: the lines of got
// between the (normalised) lines around each "..." of want are replaced by
// "...". Where the lines around it are not found, got is kept whole.
func Elide(want, got []string) []string {
	out := append([]string(nil), got...)
	for i, w := range want {
		if !isEllipsis(w) || i == 0 {
			continue
		}
		before := normaliseLine(want[i-1])
		var after string
		if i+1 < len(want) {
			after = normaliseLine(want[i+1])
		}
		start := -1
		for j, g := range out {
			if normaliseLine(g) == before {
				start = j
				break
			}
		}
		if start < 0 {
			continue
		}
		end := len(out)
		if after != "" {
			end = -1
			for j := start + 1; j < len(out); j++ {
				if normaliseLine(out[j]) == after {
					end = j
					break
				}
			}
			if end < 0 {
				continue
			}
		}
		if end-start-1 <= 0 {
			continue
		}
		out = append(append(append([]string(nil), out[:start+1]...), w), out[end:]...)
	}
	return out
}

func isEllipsis(line string) bool { return strings.TrimSpace(line) == "..." }

// Match reports whether got is the recorded output want, both normalised;
// a "..." line of want matches any number of lines.
func Match(want, got []string) bool {
	return match(Normalise(want), Normalise(got))
}

// MatchUnordered reports whether got holds the lines of want, both
// normalised, in any order.
func MatchUnordered(want, got []string) bool {
	w, g := Normalise(want), Normalise(got)
	sort.Strings(w)
	sort.Strings(g)
	return slices.Equal(w, g)
}

func match(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if isEllipsis(want[0]) {
		for skip := 0; skip <= len(got); skip++ {
			if match(want[1:], got[skip:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && want[0] == got[0] && match(want[1:], got[1:])
}

// Lines splits output into lines without the final newline.
func Lines(output []byte) []string {
	output = bytes.TrimRight(output, "\n")
	if len(output) == 0 {
		return nil
	}
	lines := strings.Split(string(output), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return lines
}

// MarkdownFiles returns README.md and the Markdown files under docs/ (the
// generated reference in docs/reference excepted), relative to root.
func MarkdownFiles(root string) ([]string, error) {
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && rel == "docs/reference" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(rel, ".md") {
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}
