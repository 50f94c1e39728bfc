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
		{"delete with where", "DELETE FROM orders WHERE id > 10;", []int{1}},
		{"update without where", "UPDATE users SET email = NULL;", []int{1}},
		{"type change pg", "ALTER TABLE t ALTER COLUMN c TYPE int USING c::int;", []int{1}},
		{"type change mysql", "ALTER TABLE t MODIFY COLUMN c INT;", []int{1}},
		{"drop schema", "DROP SCHEMA app CASCADE;", []int{1}},
		{"create is fine", "CREATE TABLE t (id int);\nCREATE INDEX i ON t(id);", nil},
		{"comment and string do not count", "-- DROP TABLE x;\nINSERT INTO t VALUES ('DROP TABLE y; ');\n/* TRUNCATE z; */ SELECT 1;", nil},
		{"line numbers after a multi-line statement", "CREATE TABLE a (\n id int\n);\n\nDROP TABLE b;", []int{5}},
		{"dollar quoted body", "CREATE FUNCTION f() RETURNS void AS $$ BEGIN DELETE FROM x; END $$ LANGUAGE plpgsql;\nDROP TABLE x;", []int{2}},
		// The findings of issue 13: each used to pass.
		{"drop index then a column", "ALTER TABLE t DROP INDEX i, DROP col;", []int{1}},
		{"dynamic SQL in DO", "DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'users'; END $$;", []int{1}},
		{"WITH ... DELETE", "WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone;", []int{1}},
		{"DELETE WHERE true", "DELETE FROM orders WHERE true;", []int{1}},
		{"REPLACE INTO", "REPLACE INTO settings (k, v) VALUES ('a', 'b');", []int{1}},
		{"DROP EXTENSION CASCADE", "DROP EXTENSION IF EXISTS hstore CASCADE;", []int{1}},
		// More of the allowlist.
		{"update with where", "UPDATE users SET email = NULL WHERE id = 1;", []int{1}},
		{"insert on conflict update", "INSERT INTO t (id, v) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET v = 2;", []int{1}},
		{"insert on duplicate key update", "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE v = 1;", []int{1}},
		{"plain insert keeps data", "INSERT INTO t (id) VALUES (1);", nil},
		{"mariadb create or replace table", "CREATE OR REPLACE TABLE t (id int);", []int{1}},
		{"create or replace view", "CREATE OR REPLACE VIEW v AS SELECT 1;", nil},
		{"drop view, function, trigger", "DROP VIEW v;\nDROP FUNCTION f();\nDROP TRIGGER tr ON t;", nil},
		{"drop view cascade", "DROP VIEW v CASCADE;", []int{1}},
		{"add column and constraint", "ALTER TABLE t ADD COLUMN c int, ADD CONSTRAINT c_pos CHECK (c > 0);", nil},
		{"alter column default and not null", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1, ALTER COLUMN c DROP NOT NULL;", nil},
		{"rename keeps data", "ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME TO u;\nRENAME TABLE a TO b;", nil},
		{"pg: DROP index alone drops a column", "ALTER TABLE t DROP index;", []int{1}},
		{"drop column if exists", "ALTER TABLE t DROP COLUMN IF EXISTS c;", []int{1}},
		{"mysql drop primary and foreign key", "ALTER TABLE t DROP PRIMARY KEY, DROP FOREIGN KEY fk_1;", nil},
		{"drop partition", "ALTER TABLE t DROP PARTITION p1;", []int{1}},
		{"convert charset", "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4;", []int{1}},
		{"comment and grant", "COMMENT ON TABLE t IS 'x';\nGRANT SELECT ON t TO r;\nREVOKE ALL ON t FROM r;", nil},
		{"call and execute", "CALL cleanup();\nEXECUTE stmt;", []int{1, 2}},
		{"unknown statement", "FROBNICATE t;", []int{1}},
		{"select with a function call", "SELECT pg_terminate_backend(1);", []int{1}},
		{"plain select", "SELECT 1;", nil},
		{"mysql executable comment", "/*!40101 DROP TABLE t */;", []int{1}},
		{"ambiguous backslash quoting", "INSERT INTO t VALUES ('x\\''); DROP TABLE t; SELECT '';", []int{1}},
		{"E-string escapes", "INSERT INTO t VALUES (E'it\\'s');", nil},
		{"set and transactions", "SET lock_timeout = '1s';\nBEGIN;\nCOMMIT;", nil},
		{"drop type and sequence", "DROP TYPE mood;\nDROP SEQUENCE s;", []int{1, 2}},
		{"alter type add value", "ALTER TYPE mood ADD VALUE 'meh';", nil},
		{"truncate lower case", "truncate table t;", []int{1}},
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
