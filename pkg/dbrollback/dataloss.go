package dbrollback

import (
	"regexp"
	"strings"
)

// Finding is a statement of a down migration that destroys data.
type Finding struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Statement string `json:"statement"`
	Reason    string `json:"reason"`
}

// statement is one SQL statement with the line it starts on.
type statement struct {
	Line int
	Text string
}

var dataLossRules = []struct {
	re     *regexp.Regexp
	reason string
}{
	{regexp.MustCompile(`(?is)^DROP\s+TABLE\b`), "drops a table and all its rows"},
	{regexp.MustCompile(`(?is)^DROP\s+(SCHEMA|DATABASE)\b`), "drops a schema and everything in it"},
	{regexp.MustCompile(`(?is)^DROP\s+(MATERIALIZED\s+VIEW|SEQUENCE|TYPE)\b`), "drops an object that may hold data"},
	{regexp.MustCompile(`(?is)^TRUNCATE\b`), "deletes all rows"},
	{regexp.MustCompile(`(?is)^ALTER\s+TABLE\b.*\bDROP\s+(COLUMN\s+)?(IF\s+EXISTS\s+)?[` + "`" + `"\w]+`), "drops a column and its values"},
	{regexp.MustCompile(`(?is)^ALTER\s+TABLE\b.*\b(ALTER\s+(COLUMN\s+)?[` + "`" + `"\w]+\s+(SET\s+DATA\s+)?TYPE|MODIFY\s+(COLUMN\s+)?|CHANGE\s+(COLUMN\s+)?)`), "changes a column's type: values may be truncated or converted"},
	{regexp.MustCompile(`(?is)^DELETE\s+FROM\b`), "deletes rows"},
	{regexp.MustCompile(`(?is)^UPDATE\b`), "overwrites values"},
}

var (
	hasWhere      = regexp.MustCompile(`(?is)\bWHERE\b`)
	dropNonColumn = regexp.MustCompile(`(?is)\bDROP\s+(CONSTRAINT|INDEX|KEY|PRIMARY|FOREIGN|CHECK|DEFAULT|NOT\s+NULL|TRIGGER)\b`)
	dropColumn    = regexp.MustCompile(`(?is)\bDROP\s+COLUMN\b`)
)

// scanDataLoss returns the statements of sql (which starts at line first of
// file) that destroy data: DROP TABLE/SCHEMA/COLUMN, TRUNCATE, DELETE or
// UPDATE without WHERE, column type changes.
func scanDataLoss(file string, first int, sql string) []Finding {
	var out []Finding
	for _, st := range splitStatements(sql, first) {
		for _, r := range dataLossRules {
			if !r.re.MatchString(st.Text) {
				continue
			}
			upper := strings.ToUpper(st.Text)
			if (strings.HasPrefix(upper, "DELETE") || strings.HasPrefix(upper, "UPDATE")) && hasWhere.MatchString(st.Text) {
				continue
			}
			if strings.HasPrefix(upper, "ALTER") && r.reason == "drops a column and its values" && dropNonColumn.MatchString(st.Text) && !dropColumn.MatchString(st.Text) {
				continue
			}
			out = append(out, Finding{File: file, Line: st.Line, Statement: oneLine(st.Text), Reason: r.reason})
			break
		}
	}
	return out
}

// splitStatements splits sql on semicolons outside quotes, dollar quotes and
// comments, dropping comments; first is the line number of sql's first line.
func splitStatements(sql string, first int) []statement {
	var out []statement
	var b strings.Builder
	line, start := first, 0
	flush := func() {
		if t := strings.TrimSpace(b.String()); t != "" {
			out = append(out, statement{Line: start, Text: t})
		}
		b.Reset()
		start = 0
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			b.WriteByte(c)
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			i--
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				end = len(sql) - i - 2
			}
			line += strings.Count(sql[i:i+2+end], "\n")
			i += end + 3
			continue
		case c == ';':
			flush()
			continue
		}
		if start == 0 && c != ' ' && c != '\t' && c != '\r' {
			start = line
		}
		switch c {
		case '\'', '"', '`':
			j := i + 1
			for j < len(sql) && sql[j] != c {
				j++
			}
			if j >= len(sql) {
				j = len(sql) - 1
			}
			line += strings.Count(sql[i:j+1], "\n")
			b.WriteString(sql[i : j+1])
			i = j
			continue
		case '$':
			if m := dollarTag.FindString(sql[i:]); m != "" {
				end := strings.Index(sql[i+len(m):], m)
				if end < 0 {
					end = len(sql) - i - len(m)
				} else {
					end += len(m)
				}
				seg := sql[i : i+len(m)+end]
				line += strings.Count(seg, "\n")
				b.WriteString(seg)
				i += len(seg) - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	flush()
	return out
}

var dollarTag = regexp.MustCompile(`^\$[A-Za-z_]*\$`)

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
