"""Tiny builders for criterion-kind tests: a few resources in, a Context out."""

from __future__ import annotations

from datetime import date
from typing import Any

from cdshooks.fhir.record import PatientRecord
from cdshooks.policy.codes import EMPTY, CodeSet
from cdshooks.policy.context import Context
from cdshooks.policy.model import Criterion, Quantity, Status

ANCHOR = date(2026, 11, 20)
ATTEST = "urn:pa-advisor:Questionnaire:pa-attestation"
ALL_TYPES = {"Patient", "Condition", "Observation", "MedicationRequest", "MedicationAdministration",
             "MedicationStatement", "MedicationDispense", "Procedure", "AllergyIntolerance", "PractitionerRole",
             "QuestionnaireResponse", "Coverage"}
SYS = {"icd": "http://hl7.org/fhir/sid/icd-10-cm", "sct": "http://snomed.info/sct", "loinc": "http://loinc.org",
       "rx": "http://www.nlm.nih.gov/research/umls/rxnorm", "nucc": "http://nucc.org/provider-taxonomy",
       "hcpcs": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"}


def cc(system: str, code: str, display: str = "") -> dict:
    return {"coding": [{"system": SYS[system], "code": code, "display": display or code}]}


def codeset(*pairs: tuple[str, str], names: tuple[str, ...] = (),
            prefixes: tuple[tuple[str, str], ...] = ()) -> CodeSet:
    return CodeSet("test", frozenset((SYS[s], c) for s, c in pairs), tuple((SYS[s], p) for s, p in prefixes), names)


def crit(kind: str, cid: str = "c1", **params: Any) -> Criterion:
    return Criterion(id=cid, kind=kind, text=f"{kind} criterion", source="I.A.1", params=params)


def order(drug: dict | None = None, **extra: Any) -> dict:
    res = {"resourceType": "MedicationRequest", "id": "draft1", "status": "draft", "intent": "order",
           "subject": {"reference": "Patient/p1"}, "authoredOn": "2026-11-20",
           "requester": {"reference": "Practitioner/dr1"}, "medicationCodeableConcept": drug or cc("hcpcs", "J1323")}
    res.update(extra)
    return res


DRUG = codeset(("hcpcs", "J1323"), names=("elranatamab",))


def context(*resources: dict, draft: dict | None = None, others: tuple[dict, ...] = (),
            retrieved: set[str] | None = None, unavailable: dict[str, str] | None = None,
            drug: CodeSet = DRUG) -> Context:
    draft = draft or order()
    record = PatientRecord.from_resources(
        "p1", [{"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-01"}, *resources],
        retrieved=ALL_TYPES if retrieved is None else retrieved, unavailable=unavailable or {},
        draft_orders=[draft, *others])
    return Context(record, draft, ANCHOR, drug, (ATTEST,))


def condition(system: str, code: str, clinical: str = "active", verification: str = "confirmed", **kw: Any) -> dict:
    res = {"resourceType": "Condition", "id": kw.pop("id", f"cond-{code}"), "subject": {"reference": "Patient/p1"},
           "code": cc(system, code),
           "clinicalStatus": {"coding": [{"code": clinical}]},
           "verificationStatus": {"coding": [{"code": verification}]}}
    res.update(kw)
    return res


def obs(loinc: str, value: float | None, unit: str, when: str, status: str = "final", **kw: Any) -> dict:
    res = {"resourceType": "Observation", "id": kw.pop("id", f"obs-{loinc}-{when}"), "status": status,
           "code": cc("loinc", loinc), "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when}
    if value is not None:
        res["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    res.update(kw)
    return res


def given(drug: dict, start: str, end: str | None = None, rtype: str = "MedicationAdministration", **kw: Any) -> dict:
    res: dict[str, Any] = {"resourceType": rtype, "id": kw.pop("id", f"{rtype}-{start}"),
                           "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": drug}
    if rtype in ("MedicationAdministration", "MedicationStatement"):
        res["status"] = kw.pop("status", "completed")
        res["effectivePeriod"] = {"start": start, "end": end or start}
    else:
        res.update(status=kw.pop("status", "completed"), intent="order", authoredOn=start,
                   dosageInstruction=[{"timing": {"repeat": {"boundsPeriod": {"start": start, "end": end or start}}}}])
    res.update(kw)
    return res


def attestation(**answers: Any) -> dict:
    def answer(v: Any) -> dict:
        return {("valueBoolean" if isinstance(v, bool) else "valueInteger"): v}

    items = [{"linkId": k.replace("_", "-"), "answer": [answer(v)]} for k, v in answers.items()]
    return {"resourceType": "QuestionnaireResponse", "id": "qr1", "status": "completed", "questionnaire": ATTEST,
            "subject": {"reference": "Patient/p1"}, "authored": "2026-11-19",
            "author": {"reference": "Practitioner/dr"}, "item": items}


def q(value: float, unit: str) -> Quantity:
    return Quantity(value, unit)


__all__ = ["EMPTY"]


def run_criterion(policy: Any, criterion: str, resources: list[dict], draft_changes: dict | None = None,
                  birth: str = "1960-01-01") -> Status:
    """One criterion of a loaded policy, evaluated on a draft order of the policy's drug and these resources."""
    from cdshooks.policy.kinds import KINDS

    draft = {"resourceType": "MedicationRequest", "id": "draft", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p1"}, "authoredOn": ANCHOR.isoformat(),
             "medicationCodeableConcept": {"coding": [dict(policy.drug_coding)]}, **(draft_changes or {})}
    record = PatientRecord.from_resources("p1", [{"resourceType": "Patient", "id": "p1", "birthDate": birth},
                                                 *resources], draft_orders=[draft], retrieved=ALL_TYPES)
    c = policy.criteria_by_id[criterion]
    return KINDS[c.kind](c, Context(record, draft, ANCHOR, policy.ordered_drug, (ATTEST,))).status
