#!/usr/bin/env bash
# demo.sh: a real rollback of a bad release, end to end, on a local sandbox.
#
# Starts a sandbox Kubernetes control plane in the background (temp dir),
# deploys vibestack-app (3 replicas) at a good version behind a Service and
# stamps it known-good, ships a bad release (:crash), shows `rollback app
# status` failing fast, rolls back with `rollback app undo vibestack-app --yes`,
# shows the history and the HTTP endpoint answering 200, and stops the sandbox.
# Run it with `make demo` (which builds bin/rollback and bin/rollback-sandbox).
# The deploy steps (what a CI pipeline would do) use a small Go helper,
# `go run ./bench/app deploy|url`, so kubectl is not needed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rollback="${ROLLBACK_BIN:-$root/bin/rollback}"
sandbox="${ROLLBACK_SANDBOX_BIN:-$root/bin/rollback-sandbox}"
for b in "$rollback" "$sandbox"; do
	[[ -x $b ]] || { echo "demo: $b not found: run \`make build sandbox-build\`" >&2; exit 1; }
done

dir="$(mktemp -d -t rollback-demo-XXXXXX)"
cleanup() {
	"$sandbox" down --dir "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

bold=$'\e[1m' reset=$'\e[0m'
[[ -t 1 ]] || bold='' reset=''
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
show() { printf '%s$ %s%s\n' "$bold" "rollback ${*:2}" "$reset"; "$@"; }

step "starting a sandbox Kubernetes control plane in $dir"
go build -o "$dir/ci" ./bench/app
"$sandbox" up --dir "$dir" --port 0 --background >/dev/null
export KUBECONFIG="$dir/admin.kubeconfig"
ns=vibestack

step "CI deploys release 1.4.0 (good): vibestack-app, 3 replicas, with a Service"
"$dir/ci" deploy $ns vibestack-app vibestack/app:1.4.0 "release 1.4.0"
show "$rollback" app status vibestack-app -n $ns --settle 2s
url="$("$dir/ci" url $ns vibestack-app)"
printf 'GET %s/ -> HTTP %s\n' "$url" "$(curl -s -o /dev/null -w '%{http_code}' "$url/")"

step "CI ships release 1.5.0 (bad: the new pods crash on start)"
"$dir/ci" deploy $ns vibestack-app vibestack/app:crash "release 1.5.0"

step "rollback app status fails fast on the crash loop (kubectl rollout status would wait for the 10-minute progress deadline)"
set +e
show "$rollback" app status vibestack-app -n $ns
echo "exit code $?"
set -e

step "history: the bad revision is current; the last known good one is marked"
show "$rollback" app history vibestack-app -n $ns

step "roll back to the last known good revision, watch and verify it (health URL included)"
show "$rollback" app undo vibestack-app -n $ns --yes --settle 3s --check-url "$url/"

step "history after the rollback"
show "$rollback" app history vibestack-app -n $ns

step "the application answers again"
printf 'GET %s/ -> ' "$url"
curl -sS -w ' (HTTP %{http_code})\n' "$url/"

step "stopping the sandbox"
