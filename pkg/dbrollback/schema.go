package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Schema is the set of tables of a database with their columns and types,
// enough to tell what a migration changed.
type Schema map[string]map[string]string

// Tables returns the table names, sorted.
func (s Schema) Tables() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReadSchema reads the tables and columns of the database at rawURL.
func ReadSchema(ctx context.Context, rawURL string) (Schema, error) {
	var s Schema
	err := withDB(ctx, rawURL, func(db *sql.DB, t *Target) (err error) {
		s, err = readSchema(ctx, db, t.Engine)
		return err
	})
	return s, err
}

// withDB opens the database at rawURL, runs fn on it and closes it; the
// error fn returns is redacted of the URL's password.
func withDB(ctx context.Context, rawURL string, fn func(*sql.DB, *Target) error) error {
	t, err := ParseURL(rawURL)
	if err != nil {
		return err
	}
	db, err := open(ctx, t, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	return t.redactErr(fn(db, t))
}

func readSchema(ctx context.Context, db *sql.DB, e Engine) (Schema, error) {
	var q string
	switch e {
	case Postgres:
		q = `SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema()`
	case MySQL:
		q = `SELECT table_name, column_name, column_type FROM information_schema.columns
			WHERE table_schema = DATABASE()`
	case SQLite:
		q = `SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	s := Schema{}
	for rows.Next() {
		var tbl, col, typ string
		if err := rows.Scan(&tbl, &col, &typ); err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		if s[tbl] == nil {
			s[tbl] = map[string]string{}
		}
		s[tbl][col] = strings.ToLower(typ)
	}
	return s, rows.Err()
}

// Diff describes how schema b differs from a, in words, one change a line:
// "table x dropped", "column x.y added".
func (a Schema) Diff(b Schema) []string {
	var out []string
	for _, t := range a.Tables() {
		if _, ok := b[t]; !ok {
			out = append(out, "table "+t+" dropped")
			continue
		}
		for _, c := range sortedKeys(a[t]) {
			bt, ok := b[t][c]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("column %s.%s dropped", t, c))
			case bt != a[t][c]:
				out = append(out, fmt.Sprintf("column %s.%s type %s -> %s", t, c, a[t][c], bt))
			}
		}
		for _, c := range sortedKeys(b[t]) {
			if _, ok := a[t][c]; !ok {
				out = append(out, fmt.Sprintf("column %s.%s added", t, c))
			}
		}
	}
	for _, t := range b.Tables() {
		if _, ok := a[t]; !ok {
			out = append(out, "table "+t+" added")
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RowCounts returns the number of rows of every table of the database at
// rawURL; tests and restores use it to compare databases.
func RowCounts(ctx context.Context, rawURL string) (map[string]int64, error) {
	counts := map[string]int64{}
	err := withDB(ctx, rawURL, func(db *sql.DB, t *Target) error {
		s, err := readSchema(ctx, db, t.Engine)
		if err != nil {
			return err
		}
		for _, tbl := range s.Tables() {
			var n int64
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(t.Engine, tbl)).Scan(&n); err != nil {
				return fmt.Errorf("count rows of %s: %w", tbl, err)
			}
			counts[tbl] = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

func quoteIdent(e Engine, s string) string {
	if e == MySQL {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
