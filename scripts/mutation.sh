#!/usr/bin/env bash
# Mutation testing of the policy engine and mappings (slow: not part of every CI run). See scripts/mutate.py.
set -euo pipefail
cd "$(dirname "$0")/.."
# The project's own interpreter when there is one: mutants must be judged by the suite, not by missing packages.
py=python
[ -x .venv/bin/python ] && py=.venv/bin/python
"$py" scripts/mutate.py "$@"
