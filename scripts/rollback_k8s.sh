#!/usr/bin/env bash
# rollback_k8s.sh DEPLOYMENT NAMESPACE
#
# The runbook's scripted application rollback (section 2): roll DEPLOYMENT in
# NAMESPACE back to its last known good revision, watch the rollout and verify
# it. A thin wrapper of `rollback app undo DEPLOYMENT -n NAMESPACE --yes`; the
# exit code is rollback's (0 ok/skipped, 1 error, 2 refused, 3 unhealthy,
# 4 timeout). Extra arguments are passed on (e.g. --check-url URL).
set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: $0 DEPLOYMENT NAMESPACE [rollback app undo flags...]" >&2
	exit 2
fi
deployment=$1 namespace=$2
shift 2

if command -v rollback >/dev/null 2>&1; then
	bin=rollback
else
	bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/rollback"
	if [[ ! -x $bin ]]; then
		echo "rollback not found on PATH or at $bin: run \`make build\` or \`make install\`" >&2
		exit 1
	fi
fi
exec "$bin" app undo "$deployment" -n "$namespace" --yes "$@"
