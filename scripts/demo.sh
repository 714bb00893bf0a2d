#!/usr/bin/env bash
# The main job on examples/worker, offline: plan, build linux/amd64 and linux/arm64 (QEMU),
# verify both, publish to a throwaway local registry with auth, print the job summary.
# Brings up what it needs (scripts/e2e-env.sh) and removes its registry and index afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/e2e-env.sh
exec node scripts/demo.js
