#!/usr/bin/env bash
# Installs and starts what the test suite needs on a fresh Debian machine.
# Idempotent: on a machine that has everything it only checks and starts.
set -euo pipefail
echo "install-deps: nothing to install yet"
