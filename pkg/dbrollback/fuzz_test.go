package dbrollback

import (
	"strings"
	"testing"
)

// FuzzScanDataLoss: the scanner never panics, its findings name lines of
// the input, and a DROP TABLE planted as a statement of its own after any
// text without quotes or comments is always found.
func FuzzScanDataLoss(f *testing.F) {
	for _, s := range []string{
		"ALTER TABLE t DROP INDEX i, DROP col;",
		"DO $$ BEGIN EXECUTE 'DROP TABLE x'; END $$;",
		"WITH d AS (DELETE FROM t RETURNING *) SELECT 1;",
		"/*!40101 SET x=1 */; -- c\nINSERT INTO t VALUES ('a''b', E'c\\'d', $q$ ; $q$);",
		"CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN RETURN NEW; END $body$ LANGUAGE plpgsql;",
		"\"weird\"\"ident\"; `x`; 'unterminated",
	} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, sql, plain string) {
		lines := strings.Count(sql, "\n") + 1
		for _, fd := range scanDataLoss("f.sql", 1, sql) {
			if fd.Line < 1 || fd.Line > lines || fd.Reason == "" {
				t.Fatalf("finding %+v outside the %d lines of %q", fd, lines, sql)
			}
		}
		if strings.ContainsAny(plain, "'\"`$-/*\\;") {
			return
		}
		planted := plain + ";\nDROP TABLE canary;\n"
		found := false
		for _, fd := range scanDataLoss("f.sql", 1, planted) {
			found = found || strings.Contains(fd.Statement, "DROP TABLE canary")
		}
		if !found {
			t.Fatalf("DROP TABLE after %q not found", plain)
		}
	})
}

// FuzzSplitStatements: splitting never panics, and the statements' lines
// never go backwards.
func FuzzSplitStatements(f *testing.F) {
	f.Add("SELECT 1; SELECT 2;\n/* x; */ SELECT 3")
	f.Add("$a$ ; $a$; $$;$$; E'\\';'")
	f.Add("-- only a comment\n")
	f.Fuzz(func(t *testing.T, sql string) {
		last := 0
		for _, st := range splitStatements(sql, 1) {
			if st.Line < last {
				t.Fatalf("line %d after %d in %q", st.Line, last, sql)
			}
			last = st.Line
		}
		_ = hasStatements(sql)
	})
}

// FuzzGooseDown: any file text gives a down section that starts after the
// annotation, never a panic.
func FuzzGooseDown(f *testing.F) {
	f.Add("-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n")
	f.Add("-- +goose Down\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Up\n")
	f.Add("--   +GOOSE   down\n")
	f.Fuzz(func(t *testing.T, src string) {
		line, down := gooseDown(src)
		if line < 0 || line > strings.Count(src, "\n")+2 {
			t.Fatalf("line %d for %q", line, src)
		}
		if line == 0 && down != "" {
			t.Fatalf("no down section but text %q", down)
		}
	})
}

// FuzzMigrationName: a file name is a migration of a non-negative version
// with a name, or not a migration, or a clear error; never a panic.
func FuzzMigrationName(f *testing.F) {
	f.Add("1_create_users.up.sql")
	f.Add("00042_add.sql")
	f.Add("99999999999999999999_big.down.sql")
	f.Add("x.sql")
	f.Fuzz(func(t *testing.T, file string) {
		for _, tool := range []string{ToolMigrate, ToolGoose} {
			v, _, dir, ok, err := parseMigrationName(tool, file)
			if err != nil && ok || ok && v < 0 {
				t.Fatalf("%s %q: version %d ok %t err %v", tool, file, v, ok, err)
			}
			if ok && tool == ToolMigrate && dir != "up" && dir != "down" {
				t.Fatalf("direction %q", dir)
			}
		}
	})
}
