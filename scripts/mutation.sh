#!/usr/bin/env bash
# Mutation testing of the policy engine and mappings (slow: not part of every CI run). See scripts/mutate.py.
set -euo pipefail
cd "$(dirname "$0")/.."
python scripts/mutate.py "$@"
