#!/usr/bin/env bash
# rollback_config_k8s.sh DEPLOYMENT CONFIG-BASE TARGET-VERSION-TAG NAMESPACE
#
# The runbook's configuration rollback script (section 3), now a thin wrapper:
#   rollback config undo DEPLOYMENT --config CONFIG-BASE --to TARGET-VERSION-TAG -n NAMESPACE --yes
# It switches the Deployment from CONFIG-BASE-vN to CONFIG-BASE-TARGET (for
# example vibestack-config-v3 -> vibestack-config-v2), snapshots first, then
# watches and verifies the rollout. The exit code is rollback's (0 ok or
# skipped, 1 error, 2 refused/nothing changed, 3 unhealthy, 4 timeout).
# Extra arguments after the four are passed on (e.g. --check-url URL).
# The binary is $ROLLBACK_BIN, else `rollback` on PATH, else bin/rollback.
set -euo pipefail

if [[ $# -lt 4 ]]; then
	echo "usage: $0 DEPLOYMENT CONFIG-BASE TARGET-VERSION-TAG NAMESPACE [rollback flags...]" >&2
	echo "example: $0 vibestack-app-deployment vibestack-config v2 production" >&2
	exit 2
fi
deployment=$1 config=$2 target=$3 namespace=$4
shift 4

bin=${ROLLBACK_BIN:-}
if [[ -z $bin || ! -x $bin ]]; then
	bin=$(command -v rollback || true)
fi
if [[ -z $bin ]]; then
	bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/rollback"
fi
if [[ ! -x $bin ]]; then
	echo "error: rollback binary not found (set ROLLBACK_BIN, put rollback on PATH, or run make build)" >&2
	exit 1
fi

exec "$bin" config undo "$deployment" --config "$config" --to "$target" -n "$namespace" --yes "$@"
