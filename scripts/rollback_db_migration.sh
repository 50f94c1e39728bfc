#!/usr/bin/env bash
# Roll back the last N database migrations, the safe way: a verified backup
# first, then N migrations back under the migration tool's lock, then a check.
#
#   DATABASE_URL=postgres://user:pass@host/db MIGRATIONS_DIR=./migrations \
#     ./scripts/rollback_db_migration.sh N [more flags for `rollback db undo`]
#
# A thin wrapper of `rollback db undo --steps N --yes`: downs that destroy data
# still need --accept-data-loss (see `rollback db plan --steps N` first).
# The backup goes to $ROLLBACK_BACKUP_DIR (default ./rollback-backups).
# Exit codes: 0 done, 1 error, 2 refused (nothing changed), 3 failed after
# changes (the report names the restore command).
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ || $1 -lt 1 ]]; then
	echo "usage: $0 N [flags for rollback db undo]   (N = number of migrations to roll back, >= 1)" >&2
	exit 2
fi
: "${DATABASE_URL:?set DATABASE_URL to the database URL (postgres://, mysql://, sqlite://)}"
: "${MIGRATIONS_DIR:?set MIGRATIONS_DIR to the directory of the migration files}"

bin=${ROLLBACK_BIN:-}
if [[ -z $bin ]]; then
	if command -v rollback >/dev/null 2>&1; then
		bin=$(command -v rollback)
	else
		bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/rollback"
	fi
fi
if [[ ! -x $bin ]]; then
	echo "rollback binary not found on PATH or at $bin: run 'make build'" >&2
	exit 1
fi

steps=$1
shift
exec "$bin" db undo --steps "$steps" --yes "$@"
