"""The kind registry (policy/kinds.py) is complete and true: every registered kind declares what it reads, and
what it declares is what it reads — measured, not trusted. Each fixture is evaluated again with one kind of
record data taken away; every criterion whose result changes must belong to a kind that registers that data.
The discovery's prefetch templates and the DTR answer types follow from the registry."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cdshooks.fhir.record import PatientRecord
from cdshooks.policy import evaluate as engine
from cdshooks.policy.context import Context
from cdshooks.policy.kinds import ANSWER_TYPES, DATA, KINDS
from cdshooks.policy.model import Basis
from cdshooks.service.hooks import data_read, prefetch_specs

from .test_pathways import ANCHOR, ATTEST, EVALUATIONS, FIXTURES, LIBRARY, MANIFEST

TYPES = {
    "conditions": {"Condition"},
    "observations": {"Observation"},
    "medications": {"MedicationRequest", "MedicationAdministration", "MedicationStatement", "MedicationDispense",
                    "Medication"},
    "procedures": {"Procedure"},
    "allergies": {"AllergyIntolerance"},
    "practitioner": {"Practitioner", "PractitionerRole"},
}
SCENARIOS = {s["key"]: s for s in MANIFEST["scenarios"]}


def test_every_kind_registers_every_need():
    assert set(TYPES) == DATA
    for name, kind in KINDS.items():
        assert kind.reads <= DATA, name
        assert kind.answer in ANSWER_TYPES, name
        assert callable(kind.evaluate) and kind.evaluate.__doc__, f"{name}: the kind's function says what it does"


def _results(policy, record, order, line_of_business) -> dict[str, tuple]:
    ctx = Context(record, order, ANCHOR, policy.ordered_drug, (ATTEST,), line_of_business, today=ANCHOR)
    ev = engine.evaluate(policy, ctx)
    # The kind's own verdicts only: a criterion that does not apply, or is answered, says nothing of what it reads.
    return {r.criterion.id: (r.status, tuple(e.reference for e in r.evidence), r.value)
            for r in ev.root.walk() if r.criterion.kind in KINDS and r.basis is Basis.RECORD}


@pytest.mark.parametrize("data", sorted(DATA))
def test_a_kind_that_reads_data_registers_it(data):
    read = {spec.resource_type for spec in prefetch_specs(LIBRARY) if spec.resource_type}
    undeclared: set[tuple[str, str]] = set()
    changed = 0
    for key, policy, ctx, _ in EVALUATIONS:
        s = SCENARIOS[key]
        resources = [e["resource"] for e in json.loads((FIXTURES / s["bundle"]).read_text())["entry"]]
        kept = [r for r in resources if r["resourceType"] not in TYPES[data]]
        if len(kept) == len(resources):
            continue
        without = PatientRecord.from_resources(s["patientId"], kept, draft_orders=s["draftOrders"],
                                               retrieved=read | {r["resourceType"] for r in resources})
        full = PatientRecord.from_resources(s["patientId"], resources, draft_orders=s["draftOrders"],
                                            retrieved=read | {r["resourceType"] for r in resources})
        before = _results(policy, full, ctx.order, ctx.line_of_business)
        after = _results(policy, without, ctx.order, ctx.line_of_business)
        for cid, result in before.items():
            if cid in after and after[cid] != result:
                changed += 1
                kind = policy.criteria_by_id[cid].kind
                if data not in KINDS[kind].reads:
                    undeclared.add((kind, key))
    kinds = sorted({k for k, _ in undeclared})
    assert not undeclared, f"kinds that read {data} without registering it: {kinds}, e.g. {sorted(undeclared)[:3]}"
    assert changed, f"no fixture shows a criterion reading {data}: the measurement proves nothing"


def test_the_prefetch_asks_only_for_what_the_mapped_kinds_read():
    keys = {spec.key: spec.data for spec in prefetch_specs(LIBRARY)}
    assert {"patient", "coverage", "attestations"} <= set(keys)  # every call, every kind
    assert {d for d in keys.values() if d} == data_read(LIBRARY) == DATA
    # A library whose criteria are all diagnoses asks for the conditions and nothing else of the record.
    dx_only = [replace(p, criteria_by_id={k: c for k, c in p.criteria_by_id.items() if c.kind == "diagnosis"})
               for p in LIBRARY.policies]
    assert {s.data for s in prefetch_specs(replace(LIBRARY, policies=tuple(dx_only))) if s.data} == {"conditions"}


@pytest.mark.parametrize("kind, answer", [("lines", "integer"), ("lab", "decimal"), ("diagnosis", "boolean")])
def test_the_dtr_item_type_is_the_kinds(kind, answer):
    from cdshooks.dtr.questionnaire import answer_type
    from cdshooks.policy.model import Criterion

    assert answer_type(Criterion(id="x", kind=kind, text="t")) == answer
    assert answer_type(Criterion(id="x", kind="documentation", text="t", params={"report": True})) == "attachment"
