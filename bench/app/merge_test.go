package main

import "testing"

// TestKeepOtherParts: a run of some parts (-only) keeps the lines of the
// other parts from the section already written, each in its list.
func TestKeepOtherParts(t *testing.T) {
	old := `## Application rollback

Measured on day 1.

| | A | B |
|---|---|---|
| P1 undo | a | b |
| P3 undo | a | b |

- P3 API requests: old
- P5 peak RSS: old
- P6, scale: old

Samples (seconds):

- P1 kubectl sequence: 1
- P3 rollback undo -l: 3

Notes: old notes.
`
	for _, tc := range []struct {
		name, only, section, want string
	}{{
		name: "only p6",
		only: "p6",
		section: `## Application rollback

Measured on day 2.

| | A | B |
|---|---|---|

- P6, scale: new

Samples (seconds):


Notes: new notes.
`,
		want: `## Application rollback

Measured on day 2.

| | A | B |
|---|---|---|
| P1 undo | a | b |
| P3 undo | a | b |

- P3 API requests: old
- P5 peak RSS: old
- P6, scale: new

Samples (seconds):

- P1 kubectl sequence: 1
- P3 rollback undo -l: 3

Notes: new notes.
`,
	}, {
		name: "only p1",
		only: "p1",
		section: `## Application rollback

Measured on day 2.

| | A | B |
|---|---|---|
| P1 undo | new | new |

Samples (seconds):

- P1 kubectl sequence: 2

Notes: new notes.
`,
		want: `## Application rollback

Measured on day 2.

| | A | B |
|---|---|---|
| P1 undo | new | new |
| P3 undo | a | b |

- P3 API requests: old
- P5 peak RSS: old
- P6, scale: old

Samples (seconds):

- P1 kubectl sequence: 2
- P3 rollback undo -l: 3

Notes: new notes.
`,
	}} {
		if got := keepOtherParts(old, tc.section, tc.only); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
