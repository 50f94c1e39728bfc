#!/usr/bin/env bash
# demo.sh: a whole incident, end to end, on a local sandbox and a real
# PostgreSQL server.
#
# Starts a sandbox Kubernetes control plane in the background (temp dir) and
# plays a release pipeline: vibestack-app 1.4.0 (3 replicas, ConfigMap
# vibestack-config v1, database at migration 2), stamped known-good with its
# configuration snapshotted. Then release 1.5.0 ships a crashing image, a new
# configuration and migration 3. `rollback preflight` checks the runbook,
# `rollback run --yes` rolls back the application, the configuration and the
# database (after a verified backup) as one incident with a webhook
# receiver listening, and `rollback incident report` prints the report.
# Last, a StatefulSet stuck on a crash-looping pod of its bad release
# (kubernetes/kubernetes#67250) is rolled back with `rollback app undo sts/...`.
# Run it with `make demo` (it builds bin/rollback and bin/rollback-sandbox and
# installs/starts PostgreSQL with `make deps`). The pipeline steps use a small
# Go helper, scripts/demo-pipeline, so kubectl, psql and migrate are not needed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rollback="${ROLLBACK_BIN:-$root/bin/rollback}"
sandbox="${ROLLBACK_SANDBOX_BIN:-$root/bin/rollback-sandbox}"
for b in "$rollback" "$sandbox"; do
	[[ -x $b ]] || { echo "demo: $b not found: run \`make build sandbox-build\`" >&2; exit 1; }
done

dir="$(mktemp -d -t rollback-demo-XXXXXX)"
receiver_pid=""
cleanup() {
	[[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null || true
	"$sandbox" down --dir "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

bold=$'\e[1m' reset=$'\e[0m'
[[ -t 1 ]] || bold='' reset=''
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
show() { printf '%s$ %s%s\n' "$bold" "rollback ${*:2}" "$reset"; "$@"; }

step "starting a sandbox Kubernetes control plane in $dir"
go build -o "$dir/pipeline" ./scripts/demo-pipeline
"$sandbox" up --dir "$dir" --port 0 --background >/dev/null
export KUBECONFIG="$dir/admin.kubeconfig"
ns=vibestack
pipeline="$dir/pipeline"

# The database: the test role of scripts/ci/install-deps.sh (make deps).
db_user="${ROLLBACK_E2E_DB_USER:-rollback_e2e}" db_pass="${ROLLBACK_E2E_DB_PASSWORD:-e2e-Secret-9f3Kq}"
db_addr="${ROLLBACK_E2E_PG_ADDR:-127.0.0.1:5432}"
export VIBESTACK_DATABASE_URL="postgres://$db_user:$db_pass@$db_addr/vibestack_demo"
mkdir -p "$dir/app/db/migrations"
cat >"$dir/app/db/migrations/1_users.up.sql" <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO users VALUES (1, 'ada'), (2, 'bob');
SQL
echo "DROP TABLE users;" >"$dir/app/db/migrations/1_users.down.sql"
cat >"$dir/app/db/migrations/2_orders.up.sql" <<'SQL'
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL);
INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20);
SQL
echo "DROP TABLE orders;" >"$dir/app/db/migrations/2_orders.down.sql"

step "release 1.4.0 (good): configuration v1, migrations 1-2, vibestack-app with a Service"
"$pipeline" db-create "postgres://$db_user:$db_pass@$db_addr/postgres" vibestack_demo
"$pipeline" db-up "$VIBESTACK_DATABASE_URL" "$dir/app/db/migrations"
"$pipeline" config $ns vibestack-config LOG_LEVEL=info CHECKOUT_V2=off
"$pipeline" deploy $ns vibestack-app vibestack/app:1.4.0 "release 1.4.0" vibestack-config
show "$rollback" app status vibestack-app -n $ns --settle 2s
show "$rollback" config snapshot vibestack-app -n $ns --reason "release 1.4.0"
url="$("$pipeline" url $ns vibestack-app)"

step "the runbook: rollback.yaml (written by \`rollback init\`, then edited)"
"$pipeline" receive "$dir/webhook-url" "$dir/webhook.log" &
receiver_pid=$!
while [[ ! -s $dir/webhook-url ]]; do sleep 0.1; done
export ROLLBACK_WEBHOOK_URL="$(cat "$dir/webhook-url")" ROLLBACK_WEBHOOK_SECRET="demo-hmac-secret"
"$pipeline" runbook $ns "$url/healthz" >"$dir/app/rollback.yaml"
sed -n '1,200p' "$dir/app/rollback.yaml"
cd "$dir/app"

step "release 1.5.0 (bad): configuration v2, migration 3, an image that crashes on start"
echo "CREATE INDEX orders_user ON orders (user_id);" >db/migrations/3_orders_user_index.up.sql
echo "DROP INDEX orders_user;" >db/migrations/3_orders_user_index.down.sql
"$pipeline" db-up "$VIBESTACK_DATABASE_URL" db/migrations
"$pipeline" config $ns vibestack-config LOG_LEVEL=debug CHECKOUT_V2=on CACHE_TTL=0
"$pipeline" deploy $ns vibestack-app vibestack/app:crash "release 1.5.0" vibestack-config
set +e
"$rollback" app status vibestack-app -n $ns --timeout 60s 2>&1 | tail -3
set -e

step "preflight: the runbook's checklist, checked (GO / NO-GO)"
show "$rollback" preflight

step "the whole rollback as one incident: lock, notify, preflight, app, config, db (verified backup), health, report"
export ROLLBACK_JOURNAL_DIR="$dir/incidents"
show "$rollback" run --yes --settle 2s --reason "1.5.0 crash-loops on start"

step "what the webhook receiver got (HMAC-signed JSON)"
sleep 1
cat "$dir/webhook.log"

step "the journal and the report"
show "$rollback" incident list
id="$("$rollback" incident list -o json | sed -n 's/.*"incident": *"\(inc-[^"]*\)".*/\1/p' | head -1)"
show "$rollback" incident report "$id" | sed -n '1,60p'

step "a StatefulSet stuck on a crash-looping pod (kubernetes/kubernetes#67250), rolled back"
"$pipeline" statefulset $ns vibestack-db vibestack/db:1.4.0 "release 1.4.0"
show "$rollback" app status sts/vibestack-db -n $ns --settle 2s --timeout 2m
"$pipeline" statefulset $ns vibestack-db vibestack/db:crash-1.5.0 "release 1.5.0"
set +e
"$rollback" app status sts/vibestack-db -n $ns --timeout 60s 2>&1 | tail -3
set -e
show "$rollback" app history sts/vibestack-db -n $ns
show "$rollback" app undo sts/vibestack-db -n $ns --yes --settle 2s --reason "1.5.0 crash-loops on start"

step "the application answers again"
printf 'GET %s/ -> ' "$url"
curl -sS -w ' (HTTP %{http_code})\n' "$url/"

step "stopping the sandbox"
