package main

import (
	"regexp"
	"slices"
	"strings"
)

// partLine matches the lines that belong to one part: table rows ("| P1
// ..."), bullets and samples ("- P3 ..."). P5 is measured during P3.
var partLine = regexp.MustCompile(`^(?:\| |- )P(\d)\b`)

// partOf returns the part ("p1", ...) a line belongs to, or "".
func partOf(line string) string {
	m := partLine.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	if m[1] == "5" {
		return "p3"
	}
	return "p" + m[1]
}

// block names the list a part line is in: the table, the bullets or the
// samples (the bullets and samples both start with "- ").
func block(line string, inSamples bool) string {
	switch {
	case strings.HasPrefix(line, "| "):
		return "table"
	case inSamples:
		return "samples"
	default:
		return "bullets"
	}
}

// keepOtherParts returns section with the lines of old that belong to the
// parts not in only, each put back in its list (the table, the bullets or
// the samples) in the order of the parts. section is as markdown renders
// it: a head up to the table's rule, the table rows, the bullets, the
// samples and the notes.
func keepOtherParts(old, section, only string) string {
	lists := map[string][]string{}
	collect := func(text string, keep func(part string) bool) (head, tail []string) {
		inSamples, inTail := false, false
		for _, l := range strings.Split(text, "\n") {
			switch {
			case inTail || strings.HasPrefix(l, "Notes:"):
				inTail = true
				tail = append(tail, l)
			case strings.HasPrefix(l, "Samples ("):
				inSamples = true
			case partOf(l) != "":
				if keep(partOf(l)) {
					b := block(l, inSamples)
					lists[b] = append(lists[b], l)
				}
			case lists["table"] == nil && !inSamples && (head == nil || !strings.HasPrefix(head[len(head)-1], "|---")):
				head = append(head, l)
			}
		}
		return head, tail
	}
	head, tail := collect(section, func(string) bool { return true })
	collect(old, func(p string) bool { return !strings.Contains(only, p) })
	out := slices.Clone(head)
	for _, b := range []string{"table", "bullets", "samples"} {
		run := lists[b]
		slices.SortStableFunc(run, func(x, y string) int { return strings.Compare(partOf(x), partOf(y)) })
		if b == "samples" {
			out = append(out, "Samples (seconds):", "")
		}
		if len(run) > 0 {
			out = append(out, run...)
			out = append(out, "")
		}
	}
	return strings.Join(append(out, tail...), "\n")
}
