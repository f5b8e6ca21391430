"""Every leaf criterion of every seed policy, driven to each status its kind can take.

For each criterion the inputs are built from its own compiled parameters (its codes, thresholds, windows,
dose limits), then only that criterion is evaluated. This proves every mapping entry is wired to a kind that
can decide it both ways; whether the parameters are the policy's own is what the hand-written fixture
expectations (tests/test_fixtures.py) check.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cdshooks.policy.codes import SYSTEMS, CodeSet
from cdshooks.policy.context import Context
from cdshooks.policy.kinds import KINDS
from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Criterion, Status
from cdshooks.record import PatientRecord
from cdshooks.settings import DEFAULT_MAPPINGS

from .helpers import ALL_TYPES, ANCHOR, ATTEST, attestation

LIBRARY = load_library(DEFAULT_MAPPINGS)
M, N, X = Status.MET, Status.NOT_MET, Status.MISSING
SUBJECT = {"reference": "Patient/p1"}


def coding(cs: CodeSet) -> dict:
    """One concrete coding of a value set: its first code, else a code under its first prefix."""
    if cs.codes:
        system, code = sorted(cs.codes)[0]
    else:
        system, prefix = cs.prefixes[0]
        code = prefix + ("0" if "." in prefix else ".0")
    return {"coding": [{"system": system, "code": code}]}


def day(offset: int) -> str:
    return (ANCHOR + timedelta(days=offset)).isoformat()


def condition(cs: CodeSet, **kw: Any) -> dict:
    return {"resourceType": "Condition", "id": kw.pop("id", "cond"), "subject": SUBJECT, "code": coding(cs),
            "clinicalStatus": {"coding": [{"code": kw.pop("clinical", "active")}]},
            "verificationStatus": {"coding": [{"code": kw.pop("verification", "confirmed")}]}}


def obs(cs: CodeSet, when: str, value: Any = None, unit: str = "1", oid: str = "obs") -> dict:
    res = {"resourceType": "Observation", "id": oid, "status": "final", "subject": SUBJECT, "code": coding(cs),
           "effectiveDateTime": when}
    if isinstance(value, dict):
        res["valueCodeableConcept"] = value
    elif value is not None:
        res["valueQuantity"] = {"value": value, "unit": unit, "system": SYSTEMS["ucum"], "code": unit}
    return res


def given(concept: dict, start: str, rid: str = "adm", **kw: Any) -> dict:
    return {"resourceType": "MedicationAdministration", "id": rid, "status": kw.pop("status", "completed"),
            "subject": SUBJECT, "medicationCodeableConcept": concept, "effectivePeriod": {"start": start, "end": start},
            **kw}


def other_order(concept: dict, oid: str) -> dict:
    return {"resourceType": "MedicationRequest", "id": oid, "status": "draft", "intent": "order", "subject": SUBJECT,
            "medicationCodeableConcept": concept}


def dosage(phase: dict, factor: float) -> list[dict]:
    d: dict[str, Any] = {"doseAndRate": [{}]}
    if phase.get("max_dose"):
        q = phase["max_dose"]
        d["doseAndRate"][0]["doseQuantity"] = {"value": q.value * factor, "code": q.unit}
    if phase.get("max_daily"):
        q = phase["max_daily"]
        d["doseAndRate"][0]["rateQuantity"] = {"value": q.value * factor, "code": q.unit}
    if phase.get("min_interval_days"):
        repeat: dict[str, Any] = {"frequency": 1, "period": phase["min_interval_days"], "periodUnit": "d"}
        if phase.get("max_days"):
            repeat["boundsDuration"] = {"value": phase["max_days"] * (factor if factor > 1 else 1), "code": "d"}
        d["timing"] = {"repeat": repeat}
    return [d]


def dose_history(c: Criterion, drug: dict) -> list[dict]:
    phase = c.params["phases"][0]
    if c.params.get("phase_by") == "course":
        return [given(drug, day(-400))] if phase.get("course") == "subsequent" else []
    week = phase.get("from_week", 1)
    return [given(drug, day(-(week - 1) * 7))] if week > 1 else []


def cases(c: Criterion, drug: dict) -> list[tuple[Status, list[dict], dict]]:
    """(expected status, resources, order changes) for each status this criterion's kind can take."""
    p, k = c.params, c.kind
    out: list[tuple[Status, list[dict], dict]] = []
    if k == "diagnosis":
        statuses = p.get("clinical_status")
        out.append((M, [condition(p["codes"], clinical=statuses[0] if statuses else "active")], {}))
        out.append((X, [], {}))
        if "not_met_codes" in p:
            out.append((N, [condition(p["not_met_codes"])], {}))
        elif not statuses:
            out.append((N, [condition(p["codes"], verification="refuted")], {}))
    elif k == "no_diagnosis":
        out += [(M, [], {}), (N, [condition(p["codes"])], {}), (X, [{"unavailable": "Condition"}], {})]
    elif k == "age":
        born = ANCHOR.replace(year=ANCHOR.year - (p.get("min") or 0) - 1) if "min" in p else ANCHOR - timedelta(days=30)
        too = ANCHOR.replace(year=ANCHOR.year - 5) if "min" in p else ANCHOR.replace(year=ANCHOR.year - 3)
        out += [(M, [{"birthDate": born.isoformat()}], {}), (N, [{"birthDate": too.isoformat()}], {}),
                (X, [{"birthDate": None}], {})]
    elif k == "specialty":
        role = {"resourceType": "PractitionerRole", "id": "r1", "practitioner": {"reference": "Practitioner/dr1"},
                "specialty": [coding(p["codes"])]}
        out += [(M, [role], {}), (X, [], {})]
    elif k == "disease_status":
        since = [given(drug, day(-60))] if p.get("since_first_dose") else []
        out += [(M, since + [obs(p["codes"], day(-5), coding(p["met_values"]))], {}), (X, since, {})]
        if "not_met_values" in p:
            out.append((N, since + [obs(p["codes"], day(-5), coding(p["not_met_values"]))], {}))
    elif k == "progression_window":
        dose = given(coding(p["drugs"]), day(-40))
        out += [(M, [dose, obs(p["codes"], day(-10), coding(p["worsened"]))], {}), (X, [dose], {})]
    elif k == "documentation":
        out += [(M, [attestation(**{c.id: True})], {}), (N, [attestation(**{c.id: False})], {}), (X, [], {})]
    elif k == "never":
        out.append((N, [], {}))
    elif k == "lab":
        t, days = p["threshold"], p.get("lookback_days")
        if p["codes"].codes:
            out += [(M, [obs(p["codes"], day(-3), t.value, t.unit)], {}),
                    (N, [obs(p["codes"], day(-3), t.value * 0.5, t.unit)], {})]
            if days:
                out.append((X, [obs(p["codes"], day(-days - 5), t.value, t.unit)], {}))
        out.append((X, [], {}))
    elif k == "flc":
        t = p["threshold"]
        kappa = obs(p["kappa"], day(-3), t.value * 2, t.unit, "k")
        out += [(M, [kappa, obs(p["ratio"], day(-3), 5.0, "1", "r")], {}),
                (N, [kappa, obs(p["ratio"], day(-3), 1.0, "1", "r")], {}), (X, [kappa], {})]
    elif k == "med_class":
        out += [(M, [given(coding(p["codes"]), day(-100))], {}), (X, [], {})]
    elif k == "no_prior":
        out += [(M, [], {}), (N, [given(coding(p["codes"]), day(-100))], {}),
                (X, [{"unavailable": "MedicationAdministration"}], {})]
    elif k == "concurrent":
        other = next(cs for cs in [CodeSet("x", frozenset({code}))
                                   for code in sorted(p["codes"].codes)] if not cs.codes & _drug_codes(c))
        out += [(M, [], {}), (N, [], {"others": [other_order(coding(other), "other")]}),
                (X, [{"unavailable": "MedicationRequest"}], {})]
    elif k == "combination":
        orders = [other_order(coding(cs), f"o{i}") for i, cs in enumerate(p["components"])]
        out += [(M, [], {"others": orders}), (N, [], {})]
    elif k == "lines":
        out += [(M, [attestation(**{c.id: p["min"]})], {}), (N, [attestation(**{c.id: p["min"] - 1})], {}),
                (X, [], {})]
    elif k == "failure":
        stopped = given(coding(p["codes"]), day(-300), status="stopped", statusReason=[coding(p["reasons"])])
        out += [(M, [stopped], {}), (X, [given(coding(p["codes"]), day(-300))], {}), (X, [], {})]
    elif k == "time_since_last":
        out += [(M, [given(drug, day(-31 * (p["months"] + 1)))], {}), (N, [given(drug, day(-20))], {}), (X, [], {})]
    elif k == "receiving":
        out += [(M, [given(drug, day(-p.get("min_days", 0) - 1))], {}), (X, [], {})]
        if p.get("min_days"):
            out.append((N, [given(drug, day(-1))], {}))
    elif k == "dose":
        history = dose_history(c, drug)
        out += [(M, history, {"dosageInstruction": dosage(c.params["phases"][0], 1.0)}),
                (N, history, {"dosageInstruction": dosage(c.params["phases"][0], 2.0)}), (X, history, {})]
    else:
        raise AssertionError(f"no driver for kind {k}")
    return out


def _drug_codes(c: Criterion) -> frozenset:
    return next(p.drug_codes.codes for p in LIBRARY.policies if c.id in p.criteria_by_id
                and p.criteria_by_id[c.id] is c)


def evaluate(policy, c: Criterion, resources: list[dict], order_changes: dict) -> Status:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-01"}
    unavailable, res = {}, []
    for r in resources:
        if "unavailable" in r:
            unavailable[r["unavailable"]] = "FHIR server answered 500"
        elif "birthDate" in r and "resourceType" not in r:
            patient = {**patient, "birthDate": r["birthDate"]} if r["birthDate"] else {"resourceType": "Patient",
                                                                                     "id": "p1"}
        else:
            res.append(r)
    drug = {"coding": [dict(policy.drug_coding)]}
    order = {"resourceType": "MedicationRequest", "id": "draft", "status": "draft", "intent": "order",
             "subject": SUBJECT, "authoredOn": ANCHOR.isoformat(), "requester": {"reference": "Practitioner/dr1"},
             "medicationCodeableConcept": drug}
    others = order_changes.get("others", [])
    order.update({k: v for k, v in order_changes.items() if k != "others"})
    record = PatientRecord.from_resources("p1", [patient, {"resourceType": "Practitioner", "id": "dr1"}, *res],
                                          retrieved=ALL_TYPES, unavailable=unavailable, draft_orders=[order, *others])
    return KINDS[c.kind](c, Context(record, order, ANCHOR, policy.drug_codes, ATTEST)).status


PARAMS = [
    pytest.param(policy, c, status, resources, changes, id=f"{policy.id}:{c.id}:{status.value}:{i}")
    for policy in LIBRARY.policies
    for c in policy.criteria_by_id.values() if not c.is_combinator and c.kind != "same_as"
    for i, (status, resources, changes) in enumerate(cases(c, {"coding": [dict(policy.drug_coding)]}))
]


@pytest.mark.parametrize("policy, criterion, expected, resources, changes", PARAMS)
def test_criterion_reaches_status(policy, criterion, expected, resources, changes):
    assert evaluate(policy, criterion, resources, changes) is expected


# Statuses a kind can never produce, by design: `never` is always not-met; a missing combination partner is
# not-met (the pathway does not apply); documentation and attestation kinds are the only way to reach the rest.
CANNOT = {"never": {M, X}, "combination": {X}, "specialty": {N}, "med_class": {N}, "progression_window": {N},
          "receiving": set(), "failure": {N}}


def test_every_leaf_criterion_reaches_every_status_its_kind_allows():
    seen: dict[tuple[str, str], set] = {}
    for param in PARAMS:
        policy, c, status = param.values[:3]
        seen.setdefault((policy.id, c.id), set()).add(status)
    leaves = [(p, c) for p in LIBRARY.policies for c in p.criteria_by_id.values()
              if not c.is_combinator and c.kind != "same_as"]
    assert len(seen) == len(leaves)
    for policy, c in leaves:
        expected = {M, N, X} - CANNOT.get(c.kind, set())
        if c.kind == "receiving" and not c.params.get("min_days"):
            expected -= {N}  # "any prior dose" cannot be too recent
        if c.kind == "diagnosis" and c.params.get("clinical_status") and "not_met_codes" not in c.params:
            expected -= {N}  # a status filter alone never refutes the diagnosis
        if c.kind == "disease_status" and "not_met_values" not in c.params:
            expected -= {N}  # e.g. "assessed as worsened" is one leg of relapsed-or-refractory: absence is missing
        if c.kind == "lab" and not c.params["codes"].codes:
            expected = {X}  # B-ALL MRD: no standard LOINC; sites add local codes (valuesets/observations.yaml)
        assert seen[(policy.id, c.id)] == expected, (policy.id, c.id, c.kind)
