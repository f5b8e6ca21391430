"""Writes the synthetic patients: one FHIR R4 transaction Bundle per scenario, plus manifest.json.

Each scenario states its own answer (expected outcome, pathway and the status of the criteria it is about, with
the policy item that decides it); tests/service/test_fixtures.py walks the manifest, so a new case needs no test code.
    python fhir_fixtures/build.py        (rewrites bundles/ and manifest.json)
Scenario modules: seed (one clean record per outcome), messy (records as real EHRs hold them), boundaries (just
inside and just outside every number the policy texts set), alternatives (a record for each pathway), depth
(treatment episodes, schedules across orders, dates, code lists and the FHIR shapes real EHRs send).
"""

from __future__ import annotations

import json

import alternatives  # noqa: F401  (each module registers its scenarios)
import boundaries  # noqa: F401
import depth  # noqa: F401
import messy  # noqa: F401
import seed  # noqa: F401
from builder import ANCHOR, HERE, SCENARIOS, Patient

from cdshooks.authoring.fixture_new import add_fixture, transaction
from cdshooks.settings import DEFAULT_MAPPINGS


def main() -> None:
    out = HERE / "bundles"
    out.mkdir(exist_ok=True)
    # Fixtures written by `pa-advisor fixtures new` keep their recipe: derived again below from the rebuilt base.
    old = HERE / "manifest.json"
    derived = [s for s in json.loads(old.read_text())["scenarios"] if "derivedFrom" in s] if old.exists() else []
    for old in out.glob("*.json"):
        old.unlink()
    manifest = []
    for s in SCENARIOS:
        p: Patient = s["patient"]
        # The draft orders are part of the record too, as an EHR that saved them before signing would have.
        resources = p.resources + [s["order"]] + s["extra_orders"] if s["order"] else p.resources
        (out / f"{s['key']}.json").write_text(json.dumps(transaction(resources), indent=1) + "\n")
        manifest.append({
            "key": s["key"], "description": s["description"], "bundle": f"bundles/{s['key']}.json",
            "patientId": p.pid, "userId": p.requester, "draftOrders": [s["order"]] + s["extra_orders"],
            "expected": None if s["outcome"] is None else {
                "outcome": s["outcome"], "pathway": s["pathway"], "criteria": s["criteria"],
                **{k: s[k] for k in ("covered", "approval") if s[k]}},
            **{k: s[k] for k in ("cite", "boundary") if s[k]},
        })
    (HERE / "manifest.json").write_text(json.dumps({"anchorDate": ANCHOR, "scenarios": manifest}, indent=1) + "\n")
    have = {s["key"] for s in manifest}
    while derived:  # in manifest order, each once its base exists (a derived patient may derive from another)
        waiting = []
        for s in derived:
            if s["derivedFrom"]["key"] not in have:
                waiting.append(s)
                continue
            add_fixture(HERE, s["derivedFrom"]["key"], s["key"], s["derivedFrom"]["set"], s["expected"],
                        s["description"], DEFAULT_MAPPINGS)
            have.add(s["key"])
        if len(waiting) == len(derived):
            raise SystemExit(f"derived fixtures with no base: {', '.join(s['key'] for s in waiting)}")
        derived = waiting
    print(f"wrote {len(manifest)} scenarios and derived {len(have) - len(manifest)}")


if __name__ == "__main__":
    main()
