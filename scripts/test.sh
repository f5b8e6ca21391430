#!/usr/bin/env bash
# The whole test suite: mapping lint, ruff, then pytest (unit, contract, integration against a real FHIR server).
set -euo pipefail
cd "$(dirname "$0")/.."
pa-advisor lint
ruff check cdshooks tests fhir_fixtures bench
python -m pytest -q "$@"
