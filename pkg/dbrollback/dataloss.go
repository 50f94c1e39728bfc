package dbrollback

import (
	"slices"
	"strings"
)

// Finding is a statement of a down migration that may destroy data.
type Finding struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Statement string `json:"statement"`
	Reason    string `json:"reason"`
}

// scanDataLoss returns the statements of sql (which starts at line first of
// file) that may destroy data. The scanner is an allowlist: a statement
// passes only when it provably keeps every row and value (creating and
// dropping indexes, creating tables, adding columns, constraints, views,
// functions, triggers, comments, grants, ...). Everything else is a finding
// naming the statement: dropping tables, columns and schemas, TRUNCATE,
// DELETE and UPDATE (with or without WHERE), REPLACE, INSERT that
// overwrites on conflict, type changes, CASCADE, dynamic SQL the scanner
// cannot see into (DO, EXECUTE, CALL), and any statement it does not know.
func scanDataLoss(file string, first int, sql string) []Finding {
	var out []Finding
	for _, st := range splitStatements(sql, first) {
		if len(st.Tokens) == 0 {
			continue
		}
		if reason := judge(st); reason != "" {
			out = append(out, Finding{File: file, Line: st.Line, Statement: oneLine(st.Text), Reason: reason})
		}
	}
	return out
}

// Reasons of the findings.
const (
	reasonUnknown  = "not a statement the scanner can prove keeps data"
	reasonDynamic  = "runs code the scanner cannot see into (dynamic SQL, a procedure or a block)"
	reasonCascade  = "CASCADE also drops what depends on it, which may hold data"
	reasonDropData = "drops an object that may hold data"
	reasonColumn   = "drops a column and its values"
	reasonType     = "changes a column's type or character set: values may be truncated or converted"
	reasonDelete   = "deletes rows"
	reasonUpdate   = "overwrites values"
	reasonReplace  = "replaces rows: the old ones are deleted"
	reasonTruncate = "deletes all rows"
	reasonQuoting  = "a backslash before a quote can be read two ways (MySQL and PostgreSQL differ): the scanner cannot tell what the statement does"
	reasonCalls    = "calls functions, which may change data"
	reasonReplaceT = "CREATE OR REPLACE of a table, sequence or database drops the old one and its data"
)

// judge returns why st may destroy data, or "" when it provably keeps it.
func judge(st statement) string {
	if st.Ambiguous {
		return reasonQuoting
	}
	t := st.Tokens
	w := words(t)
	switch first(w) {
	case "CREATE":
		return judgeCreate(w)
	case "DROP":
		return judgeDrop(t, w)
	case "ALTER":
		return judgeAlter(t, w)
	case "COMMENT", "GRANT", "REVOKE", "SET", "RESET", "BEGIN", "START", "COMMIT", "END", "SAVEPOINT", "RELEASE",
		"ROLLBACK", "LOCK", "UNLOCK", "ANALYZE", "REINDEX", "CLUSTER", "USE", "SHOW", "RENAME", "OPTIMIZE", "SECURITY", "CHECKPOINT":
		// Settings, transactions, statistics, renames, privileges and
		// comments: no row or value changes. ROLLBACK undoes this
		// session's own work only.
		return ""
	case "REFRESH", "VACUUM":
		// A materialized view is recomputed from its query; VACUUM keeps rows.
		return ""
	case "INSERT":
		return judgeInsert(w)
	case "SELECT", "VALUES", "WITH", "TABLE":
		return judgeQuery(t, w)
	case "DELETE":
		return reasonDelete
	case "UPDATE":
		return reasonUpdate
	case "REPLACE":
		return reasonReplace
	case "TRUNCATE":
		return reasonTruncate
	case "MERGE":
		return reasonUpdate
	case "DO", "EXECUTE", "EXEC", "CALL", "PREPARE", "DEALLOCATE", "LOAD", "HANDLER", "SOURCE":
		return reasonDynamic
	}
	return reasonUnknown
}

// words returns the upper-case words of t (keywords and plain names), in order.
func words(t []token) []string {
	var out []string
	for _, tk := range t {
		if tk.kind == tokWord {
			out = append(out, tk.text)
		}
	}
	return out
}

func first(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return w[0]
}

// after returns the words that follow the leading ones in skip (optional
// modifiers such as OR REPLACE, UNIQUE, IF EXISTS).
func after(w []string, skip ...string) []string {
	for len(w) > 0 && slices.Contains(skip, w[0]) {
		w = w[1:]
	}
	return w
}

// judgeCreate passes CREATE: a new object takes nothing away, except
// MariaDB's CREATE OR REPLACE TABLE/SEQUENCE/DATABASE, which drops the old one.
func judgeCreate(w []string) string {
	if len(w) > 2 && w[1] == "OR" && w[2] == "REPLACE" {
		if obj := after(w[3:], "TEMPORARY", "TEMP", "UNLOGGED"); len(obj) > 0 {
			switch obj[0] {
			case "TABLE", "SEQUENCE", "DATABASE", "SCHEMA":
				return reasonReplaceT
			}
		}
	}
	return ""
}

// dropSafe are the objects that hold no data of their own.
var dropSafe = []string{"INDEX", "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "RULE", "POLICY", "AGGREGATE", "OPERATOR",
	"CAST", "EVENT", "STATISTICS", "COLLATION", "CONVERSION", "ROLE", "USER", "GROUP", "PUBLICATION", "TRANSFORM", "LANGUAGE", "ACCESS", "TEXT"}

func judgeDrop(t []token, w []string) string {
	if hasWord(t, "CASCADE") {
		return reasonCascade
	}
	obj := after(w[1:], "TEMPORARY", "TEMP")
	if len(obj) == 0 {
		return reasonUnknown
	}
	if slices.Contains(dropSafe, obj[0]) {
		return ""
	}
	switch obj[0] {
	case "TABLE":
		return "drops a table and all its rows"
	case "SCHEMA", "DATABASE", "OWNED":
		return "drops a schema and everything in it"
	case "MATERIALIZED", "SEQUENCE", "TYPE", "DOMAIN", "EXTENSION", "TABLESPACE", "FOREIGN", "SERVER":
		return reasonDropData
	}
	return reasonUnknown
}

func judgeAlter(t []token, w []string) string {
	obj := after(w[1:], "ONLINE", "IGNORE")
	if len(obj) == 0 {
		return reasonUnknown
	}
	switch obj[0] {
	case "TABLE":
		return judgeAlterTable(t)
	case "INDEX", "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "SEQUENCE", "SCHEMA", "ROLE", "USER", "GROUP", "POLICY",
		"DATABASE", "EXTENSION", "EVENT", "STATISTICS", "DEFAULT", "AGGREGATE", "OPERATOR", "COLLATION", "RULE", "PUBLICATION", "LANGUAGE":
		if hasWord(t, "CASCADE") {
			return reasonCascade
		}
		return ""
	case "TYPE":
		// Adding or renaming enum values and renaming keep data; dropping
		// or changing an attribute of a composite type does not.
		if hasWord(t, "DROP") || hasWord(t, "CASCADE") || containsSeq(w, "ALTER", "ATTRIBUTE") {
			return reasonType
		}
		return ""
	}
	return reasonUnknown
}

// judgeAlterTable checks every action of ALTER TABLE (separated by commas
// outside parentheses): one that may lose data is enough.
func judgeAlterTable(t []token) string {
	if hasWord(t, "CASCADE") {
		return reasonCascade
	}
	// Skip ALTER [ONLINE|IGNORE] TABLE [IF EXISTS] [ONLY] name [*].
	i := 0
	for i < len(t) && !(t[i].kind == tokWord && t[i].text == "TABLE") {
		i++
	}
	i++
	for i < len(t) && t[i].kind == tokWord && (t[i].text == "IF" || t[i].text == "EXISTS" || t[i].text == "ONLY") {
		i++
	}
	// The table name: name, schema.name, "quoted".name.
	for i < len(t) && (t[i].kind == tokWord || t[i].kind == tokIdent) {
		i++
		if i < len(t) && t[i].kind == tokPunct && t[i].text == "." {
			i++
			continue
		}
		break
	}
	if i < len(t) && t[i].kind == tokPunct && t[i].text == "*" {
		i++
	}
	actions := splitActions(t[i:])
	if len(actions) == 0 {
		return reasonUnknown
	}
	for _, a := range actions {
		if r := judgeAction(a); r != "" {
			return r
		}
	}
	return ""
}

// judgeDropAction judges ALTER TABLE ... DROP: constraints and indexes hold
// no data; anything else is a column (DROP x, DROP COLUMN x) or a partition.
// INDEX and KEY must be followed by a name: in PostgreSQL "DROP index"
// drops a column named index.
func judgeDropAction(a []token) string {
	i := 1
	for i < len(a) && a[i].kind == tokWord && (a[i].text == "IF" || a[i].text == "EXISTS") {
		i++
	}
	if i >= len(a) || a[i].kind != tokWord {
		return reasonColumn
	}
	named := i+1 < len(a) && (a[i+1].kind == tokWord || a[i+1].kind == tokIdent)
	switch a[i].text {
	case "CONSTRAINT", "CHECK", "FOREIGN", "PRIMARY":
		return ""
	case "INDEX", "KEY":
		if named {
			return ""
		}
	case "PARTITION":
		return reasonDropData
	}
	return reasonColumn
}

// splitActions splits tokens on commas outside parentheses.
func splitActions(t []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, tk := range t {
		if tk.kind != tokPunct {
			continue
		}
		switch tk.text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, t[start:i])
				start = i + 1
			}
		}
	}
	if start < len(t) {
		out = append(out, t[start:])
	}
	return out
}

// judgeAction judges one action of ALTER TABLE.
func judgeAction(a []token) string {
	w := words(a)
	if len(w) == 0 {
		return reasonUnknown
	}
	switch w[0] {
	case "ADD":
		// ADD [COLUMN] ..., ADD CONSTRAINT/INDEX/KEY/PRIMARY KEY/FOREIGN
		// KEY/UNIQUE/CHECK: new things, the rows stay.
		return ""
	case "DROP":
		return judgeDropAction(a)
	case "ALTER":
		// ALTER [COLUMN] c SET/DROP DEFAULT, SET/DROP NOT NULL, SET
		// STATISTICS/STORAGE/COMPRESSION, ADD/SET/DROP identity: no values
		// change; TYPE (SET DATA TYPE) converts them.
		if slices.Contains(w, "TYPE") || slices.Contains(w, "USING") {
			return reasonType
		}
		return ""
	case "MODIFY", "CHANGE", "CONVERT":
		return reasonType
	case "RENAME", "OWNER", "REPLICA", "CLUSTER", "INHERIT", "NO", "VALIDATE", "ENABLE", "DISABLE", "FORCE", "ATTACH", "DETACH",
		"ALGORITHM", "LOCK", "COMMENT", "ENGINE", "AUTO_INCREMENT", "ROW_FORMAT", "KEY_BLOCK_SIZE", "STATS_PERSISTENT",
		"RESET", "OF", "NOT", "ORDER":
		return ""
	case "SET":
		// SET SCHEMA/TABLESPACE/LOGGED/UNLOGGED/WITHOUT CLUSTER/(options).
		return ""
	case "DEFAULT", "CHARACTER", "CHARSET", "COLLATE":
		// The table's default character set for new columns: existing values stay.
		return ""
	}
	return reasonUnknown
}

// judgeInsert passes an INSERT unless it overwrites rows on conflict (ON
// CONFLICT DO UPDATE, ON DUPLICATE KEY UPDATE) or hides another
// data-changing statement.
func judgeInsert(w []string) string { return dataChanging(w[1:]) }

// judgeQuery passes a query that only reads: no data-changing statement
// inside (WITH ... DELETE) and no function calls (a function may change data).
func judgeQuery(t []token, w []string) string {
	if r := dataChanging(w[1:]); r != "" {
		return r
	}
	for i := 1; i < len(t); i++ {
		if t[i].kind == tokPunct && t[i].text == "(" && (t[i-1].kind == tokWord && !slices.Contains(notCalls, t[i-1].text) || t[i-1].kind == tokIdent) {
			return reasonCalls
		}
	}
	return ""
}

// notCalls are the words a "(" may follow without a function call.
var notCalls = []string{"AS", "IN", "EXISTS", "VALUES", "FROM", "JOIN", "ON", "AND", "OR", "NOT", "SELECT", "WHERE", "BY",
	"ALL", "ANY", "SOME", "UNION", "INTERSECT", "EXCEPT", "USING", "LATERAL", "ROW", "ARRAY", "CASE", "WHEN", "THEN", "ELSE",
	"DISTINCT", "HAVING", "OVER", "WINDOW", "FILTER", "WITHIN", "RECURSIVE", "MATERIALIZED", "TABLE", "INTO", "LIMIT", "OFFSET", "IS", "LIKE", "BETWEEN"}

// dataChanging finds a data-changing keyword among w (inside a WITH, a
// subquery or INSERT ... SELECT).
func dataChanging(w []string) string {
	for _, x := range w {
		switch x {
		case "DELETE":
			return reasonDelete
		case "UPDATE", "MERGE":
			return reasonUpdate
		case "TRUNCATE":
			return reasonTruncate
		case "DROP":
			return reasonDropData
		}
	}
	return ""
}

func hasWord(t []token, word string) bool {
	for _, tk := range t {
		if tk.kind == tokWord && tk.text == word {
			return true
		}
	}
	return false
}

// containsSeq reports whether seq appears in w as consecutive words.
func containsSeq(w []string, seq ...string) bool {
	for i := 0; i+len(seq) <= len(w); i++ {
		if slices.Equal(w[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
