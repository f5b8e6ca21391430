"""Diagnosis, age, specialty, disease status, progression window and documentation kinds, status by status."""

from __future__ import annotations

from cdshooks.policy import kinds_clinical as k
from cdshooks.policy.model import Status

from .helpers import attestation, cc, codeset, condition, context, crit, obs, order

MM = codeset(("icd", "C90.00"), ("icd", "C90.02"))
PPMS = codeset(("icd", "G35.B1"))
UNSPEC = codeset(("icd", "G35.D"))
CNS = codeset(("sct", "84757009"), prefixes=(("icd", "G40"),))
STATUS = codeset(("loinc", "97509-4"))
WORSE = codeset(("sct", "271299001"))
BETTER = codeset(("sct", "268910001"))


def test_diagnosis_met_with_evidence():
    r = k.diagnosis(crit("diagnosis", codes=MM), context(condition("icd", "C90.02")))
    assert r.status is Status.MET and r.evidence[0].reference == "Condition/cond-C90.02"


def test_diagnosis_absent_is_missing_not_refuted():
    assert k.diagnosis(crit("diagnosis", codes=MM), context()).status is Status.MISSING


def test_diagnosis_refuted_is_not_met():
    r = k.diagnosis(crit("diagnosis", codes=MM), context(condition("icd", "C90.00", verification="refuted")))
    assert r.status is Status.NOT_MET and "refuted" in r.note


def test_diagnosis_contrary_code_is_not_met_and_unspecific_code_is_missing():
    c = crit("diagnosis", codes=codeset(("icd", "G35.A")), not_met_codes=PPMS, unspecific_codes=UNSPEC)
    assert k.diagnosis(c, context(condition("icd", "G35.B1"))).status is Status.NOT_MET
    r = k.diagnosis(c, context(condition("icd", "G35.D")))
    assert r.status is Status.MISSING and "subtype" in r.note


def test_diagnosis_clinical_status_filter():
    c = crit("diagnosis", codes=MM, clinical_status=["relapse", "recurrence"])
    assert k.diagnosis(c, context(condition("icd", "C90.00", clinical="relapse"))).status is Status.MET
    assert k.diagnosis(c, context(condition("icd", "C90.00", clinical="active"))).status is Status.MISSING


def test_diagnosis_without_condition_data_is_missing_with_the_reason():
    r = k.diagnosis(crit("diagnosis", codes=MM), context(unavailable={"Condition": "timed out"}))
    assert r.status is Status.MISSING and "timed out" in r.note


def test_no_diagnosis_met_not_met_and_prefix_match():
    c = crit("no_diagnosis", codes=CNS)
    assert k.no_diagnosis(c, context(condition("icd", "C90.02"))).status is Status.MET
    hit = k.no_diagnosis(c, context(condition("icd", "G40.909", clinical="resolved")))
    assert hit.status is Status.NOT_MET  # history counts


def test_no_diagnosis_is_missing_when_conditions_were_not_read_or_conflict():
    c = crit("no_diagnosis", codes=PPMS, unless_codes=codeset(("icd", "G35.A")))
    assert k.no_diagnosis(c, context(retrieved={"Patient"})).status is Status.MISSING
    both = context(condition("icd", "G35.B1"), condition("icd", "G35.A"))
    assert k.no_diagnosis(c, both).status is Status.MISSING


def test_age_statuses():
    assert k.age(crit("age", min=18), context()).status is Status.MET
    assert k.age(crit("age", min=70), context()).status is Status.NOT_MET
    assert k.age(crit("age", below=1), context()).status is Status.NOT_MET
    ctx = context()
    ctx.record.resources["Patient"][0].pop("birthDate")
    assert k.age(crit("age", min=18), ctx).status is Status.MISSING


def test_age_is_counted_at_the_anchor_date():
    born_day_after = {"resourceType": "Patient", "id": "p1", "birthDate": "2008-11-21"}
    ctx = context()
    ctx.record.resources["Patient"] = (born_day_after,)
    assert k.age(crit("age", min=18), ctx).status is Status.NOT_MET


HEMONC = codeset(("nucc", "207RX0202X"))


def role(specialty: str | None, practitioner: str = "Practitioner/dr1", rid: str = "role1") -> dict:
    res = {"resourceType": "PractitionerRole", "id": rid, "practitioner": {"reference": practitioner}}
    if specialty:
        res["specialty"] = [cc("nucc", specialty, "spec")]
    return res


def test_specialty_met_through_the_requesters_role():
    ctx = context({"resourceType": "Practitioner", "id": "dr1"}, role("207RX0202X"))
    assert k.specialty(crit("specialty", codes=HEMONC), ctx).status is Status.MET


def test_specialty_met_when_the_requester_is_a_practitioner_role():
    draft = order(requester={"reference": "PractitionerRole/role1"})
    assert k.specialty(crit("specialty", codes=HEMONC), context(role("207RX0202X"), draft=draft)).status is Status.MET


def test_specialty_other_or_unknown_is_missing_never_not_met():
    ctx = context({"resourceType": "Practitioner", "id": "dr1"}, role("207Q00000X"))
    r = k.specialty(crit("specialty", codes=HEMONC), ctx)
    assert r.status is Status.MISSING and r.evidence  # shows what was found
    assert k.specialty(crit("specialty", codes=HEMONC), context()).status is Status.MISSING


def test_disease_status_uses_the_latest_assessment():
    c = crit("disease_status", codes=STATUS, met_values=BETTER, not_met_values=WORSE)
    older = obs("97509-4", None, "", "2026-09-01", valueCodeableConcept=cc("sct", "271299001"), id="o1")
    newer = obs("97509-4", None, "", "2026-11-01", valueCodeableConcept=cc("sct", "268910001"), id="o2")
    assert k.disease_status(c, context(older, newer)).status is Status.MET
    assert k.disease_status(c, context(older)).status is Status.NOT_MET
    assert k.disease_status(c, context()).status is Status.MISSING
    stable = obs("97509-4", None, "", "2026-11-01", valueCodeableConcept=cc("sct", "359746009"))
    assert k.disease_status(c, context(stable)).status is Status.MISSING  # reviewer judgment


def test_progression_window_met_inside_and_missing_outside():
    from .helpers import given

    drugs = codeset(("rx", "358258"))
    c = crit("progression_window", codes=STATUS, worsened=WORSE, drugs=drugs, days=60)
    dose = given(cc("rx", "358258"), "2026-08-01", "2026-09-01")
    inside = obs("97509-4", None, "", "2026-10-01", valueCodeableConcept=cc("sct", "271299001"))
    outside = obs("97509-4", None, "", "2026-11-15", valueCodeableConcept=cc("sct", "271299001"))
    assert k.progression_window(c, context(dose, inside)).status is Status.MET
    assert k.progression_window(c, context(dose, outside)).status is Status.MISSING
    assert k.progression_window(c, context(inside)).status is Status.MISSING


def test_documentation_is_missing_unless_attested():
    c = crit("documentation", cid="regimen-fda-nccn")
    assert k.documentation(c, context()).status is Status.MISSING
    assert k.documentation(c, context(attestation(regimen_fda_nccn=True))).status is Status.MET
    assert k.documentation(c, context(attestation(regimen_fda_nccn=False))).status is Status.NOT_MET
    in_progress = {**attestation(regimen_fda_nccn=True), "status": "in-progress"}
    assert k.documentation(c, context(in_progress)).status is Status.MISSING
    other = {**attestation(regimen_fda_nccn=True), "questionnaire": "http://example.org/Questionnaire/x"}
    assert k.documentation(c, context(other)).status is Status.MISSING


def test_never_is_not_met():
    assert k.never(crit("never", reason="one-time therapy"), context()).status is Status.NOT_MET
