// Package termsafe makes text from the cluster (Event messages,
// change-causes, pod messages, annotation values) safe to print on a
// terminal: control characters, escape sequences among them, are removed so
// that a crafted string cannot move the cursor, rewrite the screen, set the
// window title or hide what was printed before it.
package termsafe

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s on one line: every control character (C0, DEL, C1,
// ANSI escape sequences) is removed; newlines, carriage returns and tabs
// become spaces.
func String(s string) string { return clean(s, false) }

// Text is String for text of several lines: newlines and tabs are kept.
func Text(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	if isClean(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError) // invalid UTF-8 is not passed through
		case r == '\x1b':
			i += escapeLen(s[i:])
			continue
		case r == '\n' || r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case r == '\r':
			if !multiline {
				b.WriteByte(' ')
			}
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean reports whether s has nothing to remove (the common case).
func isClean(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && !(multiline && (c == '\n' || c == '\t')) || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}

// escapeLen returns the length of the escape sequence at the start of s
// (which starts with ESC): CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or
// ESC \), or ESC and one more character.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for j := 2; j < len(s); j++ {
			if s[j] >= 0x40 && s[j] <= 0x7e {
				return j + 1
			}
		}
		return len(s)
	case ']', 'P', '_', '^':
		for j := 2; j < len(s); j++ {
			if s[j] == '\a' {
				return j + 1
			}
			if s[j] == '\x1b' && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return len(s)
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

// isBidiControl reports the Unicode bidirectional controls, which can make
// a terminal show text in another order than it is.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f'
}

// Writer returns a writer that passes every Write through Text: lines and
// tabs stay, control characters and escape sequences go. Printers of text
// that holds cluster-sourced strings write through it.
func Writer(w io.Writer) io.Writer {
	if _, ok := w.(*writer); ok {
		return w
	}
	return &writer{w: w}
}

type writer struct{ w io.Writer }

func (w *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
