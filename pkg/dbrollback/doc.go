// Package dbrollback reverts database schema migrations the safe way: a
// verified backup first, then N migrations back under the migration tool's
// lock, then a check that the database is where the plan said it would be.
//
// It supports PostgreSQL, MySQL/MariaDB and SQLite, and migrations managed by
// golang-migrate (tracking table schema_migrations) or goose (tracking table
// goose_db_version). The migration tools' own libraries do the reverting;
// this package adds the backup, the plan with its data-loss report, the
// refusals, the lock and the verification around them.
//
// Passwords in database URLs never appear in output, logs or errors: every
// error this package returns has the password redacted.
package dbrollback
