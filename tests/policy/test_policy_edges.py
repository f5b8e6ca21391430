"""Numbers of the policy texts that no fixture sits at, run through the real criteria with literal inputs.

LA.PHAR.652 II.A.1: receiving Elrexfio for at least 30 days, "the last within 60 days" (the request's reading of
"currently receiving"). CP.PHAR.481 II: any prior Abecma infusion, even one on the order date, makes the request
a repeat. MP-RX-FP-14-23 A.xii: the Interfant regimen is for infants, under 1 year. Prescriber specialty:
every hematology/oncology (LA.PHAR.652, CP.PHAR.481) and neurology (CP.PHAR.243) taxonomy code of the reviewed
value sets.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Status
from cdshooks.settings import DEFAULT_MAPPINGS

from .helpers import ANCHOR, cc, given, run_criterion

POLICIES = {p.id: p for p in load_library(DEFAULT_MAPPINGS).policies}
GOLDEN = json.loads((Path(__file__).resolve().parent / "golden" / "valuesets.json").read_text())
ELX, IDE, BLIN = cc("hcpcs", "J1323"), cc("hcpcs", "Q2055"), cc("hcpcs", "J9039")


def day(offset: int) -> str:
    return (ANCHOR + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize("last, status", [(-60, Status.MET), (-61, Status.MISSING)])
def test_elrexfio_continued_needs_a_dose_within_60_days(last, status):
    doses = [given(ELX, day(-120), id="first"), given(ELX, day(last), id="last")]
    assert run_criterion(POLICIES["LA.PHAR.652"], "receiving-30-days", doses) is status


@pytest.mark.parametrize("policy, drug", [("CP.PHAR.481", IDE), ("LA.PHAR.652", ELX), ("MP-RX-FP-14-23", BLIN),
                                          ("CP.PHAR.243", cc("rx", "1594660", "alemtuzumab 10 MG/ML [Lemtrada]"))])
def test_a_dose_on_the_order_date_makes_the_request_continued_therapy(policy, drug):
    """Any dose given before or on the order date selects continued therapy (the selectors' min_days 0)."""
    assert run_criterion(POLICIES[policy], "continued-selector", [given(drug, day(0))]) is Status.MET


@pytest.mark.parametrize("criterion, limit", [("cycles-within-4", 4), ("cycles-within-9", 9)])
@pytest.mark.parametrize("break_days, status", [(13, Status.MET), (14, Status.NOT_MET)])
def test_blincyto_a_13_day_break_continues_a_cycle_and_14_days_start_the_next(criterion, limit, break_days, status):
    """MP-RX-FP-14-23 B.i: up to 4 (MRD) or 9 (R/R) cycles; a cycle is 4 weeks on, 2 weeks (14 days) off. With
    limit − 1 cycles given, this request is the last allowed one — unless a dose 14 days after the last cycle
    already started another."""
    starts = [-300 + 30 * i for i in range(limit - 1)]
    doses = [given(BLIN, day(d), id=f"cycle{i}") for i, d in enumerate(starts)]
    doses.append(given(BLIN, day(starts[-1] + break_days), id="after-break"))
    assert run_criterion(POLICIES["MP-RX-FP-14-23"], criterion, doses) is status


def _ball(onset: str) -> dict:
    return {"resourceType": "Condition", "id": "ball", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.00"}]},
            "clinicalStatus": {"coding": [{"code": "active"}]}, "onsetDateTime": onset}


@pytest.mark.parametrize("birth, status", [(day(-364), Status.MET), (day(-365), Status.NOT_MET)])
def test_interfant_is_for_infants_under_one_year_at_diagnosis(birth, status):
    # diagnosed on the order date; 2025-11-20 is exactly one year before it (no leap day in between)
    assert run_criterion(POLICIES["MP-RX-FP-14-23"], "interfant-infant", [_ball(day(0))], birth=birth) is status


def test_infant_all_is_the_age_at_diagnosis_not_at_the_order():
    # diagnosed at 11 months, ordered at 13 months: still infant ALL (owner's answer, README decision 10)
    assert run_criterion(POLICIES["MP-RX-FP-14-23"], "interfant-infant", [_ball(day(-60))],
                         birth=day(-395)) is Status.MET
    # no diagnosis date: open (asked, or attested), never guessed from today's age
    assert run_criterion(POLICIES["MP-RX-FP-14-23"], "interfant-infant", [], birth=day(-100)) is Status.MISSING


def _role(system: str, code: str) -> list[dict]:
    return [{"resourceType": "Practitioner", "id": "dr"},
            {"resourceType": "PractitionerRole", "id": "role", "practitioner": {"reference": "Practitioner/dr"},
             "specialty": [{"coding": [{"system": system, "code": code}]}]}]


SPECIALTIES = [(policy, *code.split("|", 1)) for policy, vs in (("LA.PHAR.652", "SPEC-HEMONC"),
                                                                  ("CP.PHAR.481", "SPEC-HEMONC"),
                                                                  ("CP.PHAR.243", "SPEC-NEURO"))
               for code in GOLDEN[vs]["codes"]]


@pytest.mark.parametrize("policy, system, code", SPECIALTIES, ids=lambda v: str(v)[-12:])
def test_every_specialty_code_of_the_set_is_a_qualified_prescriber(policy, system, code):
    status = run_criterion(POLICIES[policy], "prescriber", _role(system, code),
                           {"requester": {"reference": "Practitioner/dr"}})
    assert status is Status.MET


@pytest.mark.parametrize("policy, criterion, vs_id", [
    ("MP-RX-FP-14-23", "single-agent", "DRUG-ALL-CHEMO"), ("LA.PHAR.652", "monotherapy", "DRUG-PI"),
    ("CP.PHAR.481", "no-concurrent-cart", "DRUG-CART"), ("CP.PHAR.243", "no-concurrent-dmt", "DRUG-MS-DMT")])
def test_an_active_order_never_given_is_current_for_90_days_then_asked_about(policy, criterion, vs_id):
    system, code = GOLDEN[vs_id]["codes"][0].split("|", 1)

    def order(written: int) -> dict:
        return {"resourceType": "MedicationRequest", "id": "other", "status": "active", "intent": "order",
                "subject": {"reference": "Patient/p1"}, "authoredOn": day(written),
                "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]}}

    assert run_criterion(POLICIES[policy], criterion, [order(-90)]) is Status.NOT_MET
    assert run_criterion(POLICIES[policy], criterion, [order(-91)]) is Status.MISSING


@pytest.mark.parametrize("given_on, status", [(-90, Status.MET), (-91, Status.NOT_MET)])
def test_mini_hyper_cvd_counts_a_component_given_in_the_last_90_days(given_on, status):
    """A.viii: courses A and B alternate, so cytarabine given in the last 90 days is part of the regimen."""
    def first(vs_id: str) -> dict:
        system, code = GOLDEN[vs_id]["codes"][0].split("|", 1)
        return {"coding": [{"system": system, "code": code}]}

    current = [{"resourceType": "MedicationRequest", "id": f"o-{vs}", "status": "active", "intent": "order",
                "subject": {"reference": "Patient/p1"}, "authoredOn": day(-10), "medicationCodeableConcept": first(vs)}
               for vs in ("DRUG-CYCLOPHOSPHAMIDE", "DRUG-DEXAMETHASONE", "DRUG-VINCRISTINE", "DRUG-METHOTREXATE",
                          "DRUG-INOTUZUMAB")]
    cytarabine = given(first("DRUG-CYTARABINE"), day(given_on))
    assert run_criterion(POLICIES["MP-RX-FP-14-23"], "with-hypercvd", [*current, cytarabine]) is status


@pytest.mark.parametrize("hsct", GOLDEN["HSCT"]["codes"], ids=lambda v: v[-9:])
def test_every_transplant_code_keeps_induction_and_maintenance_one_line(hsct):
    """CP.PHAR.481 I.A.5 (IMWG): induction, transplant and maintenance are one line. With the transplant
    recognised, VRd then ixazomib maintenance 24 days after it is one line (≥ 2 not shown: missing); without,
    the maintenance would count as a second line."""
    system, code = hsct.split("|", 1)
    rx = "http://www.nlm.nih.gov/research/umls/rxnorm"

    def stmt(rxcui: str, start: str, end: str) -> dict:
        return given({"coding": [{"system": rx, "code": rxcui}]}, start, end, rtype="MedicationStatement",
                     id=f"{rxcui}-{start}")

    transplant = {"resourceType": "Procedure", "id": "hsct", "status": "completed",
                  "subject": {"reference": "Patient/p1"}, "performedDateTime": "2022-06-16",
                  "code": {"coding": [{"system": system, "code": code}]}}
    record = [stmt("358258", "2022-01-10", "2022-04-30"), stmt("342369", "2022-01-10", "2022-04-30"), transplant,
              stmt("1723735", "2022-07-10", "2024-01-31")]
    assert run_criterion(POLICIES["CP.PHAR.481"], "prior-lines", record) is Status.MISSING
    assert run_criterion(POLICIES["CP.PHAR.481"], "prior-lines", record[:2] + record[3:]) is Status.MET
