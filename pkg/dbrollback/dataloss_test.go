package dbrollback

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanDataLoss(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		want []int // lines flagged
	}{
		{"drop table", "DROP TABLE users;", []int{1}},
		{"drop table if exists lower case", "\n  drop table if exists users;", []int{2}},
		{"drop column", "ALTER TABLE users DROP COLUMN email;", []int{1}},
		{"mysql drop without COLUMN", "ALTER TABLE `users` DROP `email`;", []int{1}},
		{"drop constraint is not data", "ALTER TABLE users DROP CONSTRAINT users_pk;", nil},
		{"drop index is not data", "DROP INDEX idx_users_email;", nil},
		{"truncate", "TRUNCATE orders;", []int{1}},
		{"delete without where", "DELETE FROM orders;", []int{1}},
		{"delete with where", "DELETE FROM orders WHERE id > 10;", nil},
		{"update without where", "UPDATE users SET email = NULL;", []int{1}},
		{"type change pg", "ALTER TABLE t ALTER COLUMN c TYPE int USING c::int;", []int{1}},
		{"type change mysql", "ALTER TABLE t MODIFY COLUMN c INT;", []int{1}},
		{"drop schema", "DROP SCHEMA app CASCADE;", []int{1}},
		{"create is fine", "CREATE TABLE t (id int);\nCREATE INDEX i ON t(id);", nil},
		{"comment and string do not count", "-- DROP TABLE x;\nINSERT INTO t VALUES ('DROP TABLE y; ');\n/* TRUNCATE z; */ SELECT 1;", nil},
		{"line numbers after a multi-line statement", "CREATE TABLE a (\n id int\n);\n\nDROP TABLE b;", []int{5}},
		{"dollar quoted body", "CREATE FUNCTION f() RETURNS void AS $$ BEGIN DELETE FROM x; END $$ LANGUAGE plpgsql;\nDROP TABLE x;", []int{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, f := range scanDataLoss("f.sql", 1, tc.sql) {
				got = append(got, f.Line)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flagged lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGooseDown(t *testing.T) {
	src := "-- +goose Up\nCREATE TABLE t (id int);\n\n-- +goose Down\n-- +goose StatementBegin\nDROP TABLE t;\n-- +goose StatementEnd\n"
	line, down := gooseDown(src)
	if line != 5 || !hasStatements(down) {
		t.Errorf("gooseDown = %d %q", line, down)
	}
	findings := scanDataLoss("f.sql", line, down)
	if len(findings) != 1 || findings[0].Line != 6 {
		t.Errorf("findings = %+v, want DROP TABLE on line 6", findings)
	}
	if line, _ := gooseDown("-- +goose Up\nCREATE TABLE t (id int);\n"); line != 0 {
		t.Errorf("no Down section: line %d, want 0", line)
	}
	if _, down := gooseDown("-- +goose Up\nSELECT 1;\n-- +goose Down\n-- nothing\n"); hasStatements(down) {
		t.Errorf("comment-only down counts as statements")
	}
}
