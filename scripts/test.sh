#!/usr/bin/env bash
# The whole test suite: mapping lint, ruff, types (mypy: the whole package, and strict on the core packages), the
# import contracts (import-linter), then pytest (unit, contract, integration against a real FHIR server).
set -euo pipefail
cd "$(dirname "$0")/.."
pa-advisor lint
ruff check cdshooks tests fhir_fixtures bench
mypy cdshooks
mypy --strict cdshooks/policy cdshooks/fhir cdshooks/service cdshooks/dtr
lint-imports
python -m pytest -q "$@"
