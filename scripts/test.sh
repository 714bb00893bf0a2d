#!/usr/bin/env bash
# The test command: unit tests and the end-to-end suite against a real Docker engine, QEMU and
# registry, which scripts/e2e-env.sh installs and starts first (root, Debian). The end-to-end suite
# is skipped only when the caller says so with MLIB_SKIP_E2E=1, and then it says so loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${MLIB_SKIP_E2E:-}" = "1" ]; then
  echo "!! MLIB_SKIP_E2E=1: running unit tests only; the end-to-end suite is NOT run"
  exec npx jest --selectProjects unit "$@"
fi
bash scripts/e2e-env.sh
exec npx jest --runInBand "$@"
