#!/usr/bin/env bash
# Installs and starts what the test suite needs on a fresh Debian machine:
# PostgreSQL 15 and MariaDB 10.11 from Debian's packages, plus the test role
# the database end-to-end tests (e2e/db) log in with, and Prometheus (2.42)
# for the guard tests (e2e/guard), which start their own server: the Debian
# service is never started.
# Idempotent: on a machine that has everything it only checks and starts.
# Runs as root (CI); without root it only reports what is missing.
set -euo pipefail

# The end-to-end tests use these credentials (see e2e/db/env_test.go); they
# only exist on test machines. Override with the same variables there.
ROLE=${ROLLBACK_E2E_DB_USER:-rollback_e2e}
PASS=${ROLLBACK_E2E_DB_PASSWORD:-e2e-Secret-9f3Kq}

log() { echo "install-deps: $*"; }

if [[ $(id -u) -ne 0 ]]; then
	log "not root: skipping installation; the database tests need PostgreSQL and MariaDB running"
	exit 0
fi

missing=()
command -v pg_dump >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql postgresql-client)
command -v mysqldump >/dev/null 2>&1 && { command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]]; } || missing+=(mariadb-server mariadb-client)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d 101 keeps the packages' services (the Debian prometheus
	# service in particular) from starting during the installation; the
	# databases are started below and the tests start their own Prometheus.
	norc=/usr/sbin/policy-rc.d
	[[ -e $norc ]] || { printf '#!/bin/sh\nexit 101\n' >"$norc" && chmod +x "$norc" && trap 'rm -f "$norc"' EXIT; }
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# --- Prometheus -----------------------------------------------------------------
# The e2e tests run `prometheus` on a loopback port with their own config;
# make sure the packaged service is not running (it would hold port 9090).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
	systemctl stop prometheus >/dev/null 2>&1 || true
fi
log "$(prometheus --version 2>&1 | head -1)"

# --- helm ---------------------------------------------------------------------
# The e2e tests of rollback helm (e2e/helm) and bench/helm use the helm CLI
# as the referee, built from the same module version rollback links
# (helm.sh/helm/v4 in go.mod) into bin/.
repo="$(cd "$(dirname "$0")/../.." && pwd)"
helm_version="$(cd "$repo" && go list -m -f '{{.Version}}' helm.sh/helm/v4)"
# helm prints only major.minor; the module version is in the binary's build info.
if [[ "$(go version -m "$repo/bin/helm" 2>/dev/null | awk '$1=="mod" {print $3}')" != "$helm_version" ]]; then
	log "building helm ${helm_version} into bin/helm"
	GOBIN="$repo/bin" go install "helm.sh/helm/v4/cmd/helm@${helm_version}"
fi
log "helm ${helm_version} (bin/helm)"

# --- PostgreSQL ---------------------------------------------------------------
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
	ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
	log "creating PostgreSQL $ver cluster"
	pg_createcluster "$ver" main >/dev/null
fi
read -r pgver pgname pgport pgstatus _ < <(pg_lsclusters -h | head -1)
if [[ $pgstatus != online ]]; then
	log "starting PostgreSQL $pgver/$pgname on port $pgport"
	pg_ctlcluster "$pgver" "$pgname" start
fi
for _ in $(seq 1 50); do
	su postgres -c "psql -qAtX -p $pgport -c 'select 1'" >/dev/null 2>&1 && break
	sleep 0.2
done
su postgres -c "psql -qX -p $pgport -v ON_ERROR_STOP=1" >/dev/null <<SQL
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', '$ROLE')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE "$ROLE" WITH LOGIN SUPERUSER PASSWORD '$PASS';
SQL
log "PostgreSQL $pgver ready on 127.0.0.1:$pgport (role $ROLE)"

# --- MariaDB ------------------------------------------------------------------
mysql_up() { mysqladmin --protocol=socket -uroot ping >/dev/null 2>&1; }
if ! mysql_up; then
	log "starting MariaDB"
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
	if ! { service mariadb start >/dev/null 2>&1 || service mysql start >/dev/null 2>&1; }; then
		(setsid mysqld_safe >/dev/null 2>&1 &)
	fi
	for _ in $(seq 1 100); do
		mysql_up && break
		sleep 0.2
	done
	mysql_up || { log "MariaDB did not start"; exit 1; }
fi
mysql --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS '$ROLE'@'localhost' IDENTIFIED BY '$PASS';
CREATE USER IF NOT EXISTS '$ROLE'@'127.0.0.1' IDENTIFIED BY '$PASS';
ALTER USER '$ROLE'@'localhost' IDENTIFIED BY '$PASS';
ALTER USER '$ROLE'@'127.0.0.1' IDENTIFIED BY '$PASS';
GRANT ALL PRIVILEGES ON *.* TO '$ROLE'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$ROLE'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
log "MariaDB $(mysql --protocol=socket -uroot -NBe 'select version()') ready on 127.0.0.1:3306 (user $ROLE)"
