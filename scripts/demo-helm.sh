#!/usr/bin/env bash
# demo-helm.sh: a Helm release rolled back past a failed revision, on a
# local sandbox, with Helm's own CLI as the referee.
#
# Installs the chart e2e/helmenv/testdata/web (a Deployment, a ConfigMap and a
# Secret) with helm at a good v1 and marks it good (what CI runs after a
# deploy), ships a crash-looping v2, then a v3 that Helm records as failed.
# `helm rollback web` would go to v2 (N-1); `rollback helm undo` goes to the
# last revision it verified, through Helm's library, and verifies it.
# Run it with `make demo-helm` (it builds bin/rollback, bin/rollback-helm,
# bin/rollback-sandbox and, through make deps, bin/helm).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rollback="${ROLLBACK_BIN:-$root/bin/rollback}"
sandbox="${ROLLBACK_SANDBOX_BIN:-$root/bin/rollback-sandbox}"
helm="${HELM_BIN:-$root/bin/helm}"
for b in "$rollback" "$sandbox" "$helm"; do
	[[ -x $b ]] || { echo "demo-helm: $b not found: run \`make build sandbox-build deps\`" >&2; exit 1; }
done

dir="$(mktemp -d -t rollback-demo-helm-XXXXXX)"
cleanup() {
	"$sandbox" down --dir "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

bold=$'\e[1m' reset=$'\e[0m'
[[ -t 1 ]] || bold='' reset=''
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
show() { printf '%s$ %s%s\n' "$bold" "$(basename "$1") ${*:2}" "$reset"; "$@"; }

step "starting a sandbox Kubernetes control plane in $dir"
"$sandbox" up --dir "$dir" --background >/dev/null
export KUBECONFIG="$dir/admin.kubeconfig"
export ROLLBACK_JOURNAL_DIR="$dir/journal"
chart=e2e/helmenv/testdata/web
"$rollback" --version >/dev/null
"$helm" version --short

step "v1: a good release, verified and marked good by CI"
show "$helm" install web "$chart" -n shop --create-namespace --set image=vibestack/app:v1,apiKey=s3cret-one --wait >/dev/null
show "$rollback" helm mark-good web -n shop --settle 2s

step "v2: a crash-looping release; v3: a release Helm records as failed"
show "$helm" upgrade web "$chart" -n shop --set image=vibestack/app:crash,apiKey=s3cret-two >/dev/null
show "$helm" upgrade web "$chart" -n shop --set image=vibestack/app:v3,apiKey=s3cret-three,replicas=-1 >/dev/null 2>&1 || echo "(helm upgrade failed, as intended)"
show "$rollback" helm history web -n shop

step "rollback helm undo: past the failed and the crash-looping revisions, to the last known good one"
show "$rollback" helm undo web -n shop --dry-run
show "$rollback" helm undo web -n shop --yes --settle 2s

step "the referee: Helm's own CLI"
show "$helm" history web -n shop
show "$helm" status web -n shop | head -6
