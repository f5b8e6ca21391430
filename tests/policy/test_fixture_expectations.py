"""Every fixture evaluated offline (no HTTP, no server): its stated outcome, pathway and criteria, and the status of
every criterion of its pathway as reviewed and committed in fhir_fixtures/expected_statuses.json.

The hand-written expectations in the manifest name the criteria each scenario is about; the full table pins the
rest, so a change anywhere in a pathway shows up as a reviewed diff. The table was written once from the engine
after the clinical-fidelity fixes and read against the policy texts; update it only by hand, or with
`python -m tests.policy.test_fixture_expectations --write` followed by a review of the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .test_pathways import EVALUATIONS, FIXTURES, MANIFEST

SCENARIOS = {s["key"]: s for s in MANIFEST["scenarios"]}
TABLE = FIXTURES / "expected_statuses.json"
BY_KEY = {key: ev for key, _, _, ev in EVALUATIONS}


def statuses(ev) -> dict[str, str]:
    return {r.criterion.id: r.status.value for r in ev.root.walk()[1:]}


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_fixture_outcome_offline(key):
    expected = SCENARIOS[key]["expected"]
    ev = BY_KEY.get(key)
    if expected is None:
        assert ev is None, f"{key}: expected no card"
        return
    assert ev is not None, f"{key}: not in scope"
    assert ev.outcome.value == expected["outcome"], (key, ev.missing, ev.denials)
    assert ev.pathway.value == expected["pathway"]
    got = statuses(ev)
    for cid, status in expected["criteria"].items():
        assert got.get(cid) == status, (key, cid, got.get(cid))


@pytest.mark.parametrize("key", sorted(k for k in SCENARIOS if SCENARIOS[k]["expected"]))
def test_every_criterion_of_the_pathway_has_its_reviewed_status(key):
    table = json.loads(TABLE.read_text())
    assert statuses(BY_KEY[key]) == table[key]


if __name__ == "__main__" and "--write" in sys.argv:
    Path(TABLE).write_text(json.dumps({k: statuses(BY_KEY[k]) for k in sorted(BY_KEY)}, indent=1) + "\n")
