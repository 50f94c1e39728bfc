package dbrollback

import (
	"regexp"
	"strings"
)

// token is one lexical unit of a SQL statement.
type token struct {
	kind tokenKind
	// text is the word in upper case (tokWord), the identifier (tokIdent),
	// the punctuation (tokPunct) or the literal as written.
	text string
}

type tokenKind int

const (
	tokWord   tokenKind = iota // keyword or unquoted identifier
	tokIdent                   // "quoted" or `quoted` identifier
	tokString                  // 'string', E'string', $tag$body$tag$
	tokNumber
	tokPunct
)

// statement is one SQL statement with the line it starts on, its text
// (comments removed) and its tokens.
type statement struct {
	Line   int
	Text   string
	Tokens []token
	// Ambiguous says the quoting could be read two ways (a backslash before
	// a quote: an escape in MySQL, not in PostgreSQL), so what the
	// statement does cannot be told for sure.
	Ambiguous bool
}

var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`)

// executableComment matches the start of a MySQL/MariaDB comment whose
// content runs as SQL: /*!50001 ... */, /*M!100100 ... */.
var executableComment = regexp.MustCompile(`^/\*M?!\d*`)

// splitStatements splits sql into statements on semicolons outside quotes,
// dollar quotes and comments; first is the line number of sql's first line.
// Comments are dropped, except MySQL's executable comments (/*! ... */),
// whose content is SQL like any other. A block comment ends at the first
// "*/" (MySQL does not nest them; PostgreSQL does, which only shows more
// text to the scanner, never less).
func splitStatements(sql string, first int) []statement {
	var out []statement
	cur := statement{}
	var text strings.Builder
	line := first
	flush := func() {
		if t := strings.TrimSpace(text.String()); t != "" || len(cur.Tokens) > 0 {
			cur.Text = t
			out = append(out, cur)
		}
		cur = statement{}
		text.Reset()
	}
	add := func(k tokenKind, raw, value string) {
		if len(cur.Tokens) == 0 {
			cur.Line = line
		}
		cur.Tokens = append(cur.Tokens, token{kind: k, text: value})
		text.WriteString(raw)
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			text.WriteByte(' ')
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			text.WriteByte(' ')
			i++
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			if m := executableComment.FindString(sql[i:]); m != "" {
				// The content is SQL; only its closing "*/" goes.
				i += len(m)
				continue
			}
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				end = len(sql) - i - 2
			}
			line += strings.Count(sql[i:i+2+end], "\n")
			i = min(len(sql), i+2+end+2)
			text.WriteByte(' ')
		case c == '*' && strings.HasPrefix(sql[i:], "*/"):
			i += 2 // the end of an executable comment
		case c == ';':
			flush()
			i++
		case c == '\'':
			j, ambiguous := stringEnd(sql, i, false)
			cur.Ambiguous = cur.Ambiguous || ambiguous
			add(tokString, sql[i:j], sql[i:j])
			line += strings.Count(sql[i:j], "\n")
			i = j
		case (c == 'E' || c == 'e') && i+1 < len(sql) && sql[i+1] == '\'' && (i == 0 || !isIdentByte(sql[i-1])):
			j, _ := stringEnd(sql, i+1, true)
			add(tokString, sql[i:j], sql[i:j])
			line += strings.Count(sql[i:j], "\n")
			i = j
		case c == '"' || c == '`':
			j := strings.IndexByte(sql[i+1:], c)
			end := len(sql)
			if j >= 0 {
				end = i + 1 + j + 1
			}
			add(tokIdent, sql[i:end], strings.Trim(sql[i:end], string(c)))
			line += strings.Count(sql[i:end], "\n")
			i = end
		case c == '$' && dollarTag.MatchString(sql[i:]):
			tag := dollarTag.FindString(sql[i:])
			end := strings.Index(sql[i+len(tag):], tag)
			j := len(sql)
			if end >= 0 {
				j = i + len(tag) + end + len(tag)
			}
			add(tokString, sql[i:j], sql[i:j])
			line += strings.Count(sql[i:j], "\n")
			i = j
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentByte(sql[j]) {
				j++
			}
			add(tokWord, sql[i:j], strings.ToUpper(sql[i:j]))
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (isIdentByte(sql[j]) || sql[j] == '.') {
				j++
			}
			add(tokNumber, sql[i:j], sql[i:j])
			i = j
		default:
			add(tokPunct, sql[i:i+1], sql[i:i+1])
			i++
		}
	}
	flush()
	return out
}

// stringEnd returns the index after the single-quoted string starting at
// sql[i]; two quotes in a row stand for one inside it. With backslash escapes (E'...')
// \' is one too; without, a backslash right before the closing quote makes
// the string ambiguous (MySQL would read on).
func stringEnd(sql string, i int, backslash bool) (int, bool) {
	ambiguous := false
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if backslash {
				j++
			} else if j+1 < len(sql) && sql[j+1] == '\'' {
				ambiguous = true
			}
		case '\'':
			if j+1 < len(sql) && sql[j+1] == '\'' {
				j++
				continue
			}
			return j + 1, ambiguous
		}
	}
	return len(sql), ambiguous
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }
