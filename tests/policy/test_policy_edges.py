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
ELX, IDE = cc("hcpcs", "J1323"), cc("hcpcs", "Q2055")


def day(offset: int) -> str:
    return (ANCHOR + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize("last, status", [(-60, Status.MET), (-61, Status.MISSING)])
def test_elrexfio_continued_needs_a_dose_within_60_days(last, status):
    doses = [given(ELX, day(-120), id="first"), given(ELX, day(last), id="last")]
    assert run_criterion(POLICIES["LA.PHAR.652"], "receiving-30-days", doses) is status


def test_an_abecma_infusion_on_the_order_date_is_a_prior_infusion():
    assert run_criterion(POLICIES["CP.PHAR.481"], "continued-selector", [given(IDE, day(0))]) is Status.MET


@pytest.mark.parametrize("birth, status", [(day(-364), Status.MET), (day(-365), Status.NOT_MET)])
def test_interfant_is_for_infants_under_one_year(birth, status):
    # 2025-11-20 is exactly one year before the order date (no leap day in between)
    assert run_criterion(POLICIES["MP-RX-FP-14-23"], "interfant-infant", [], birth=birth) is status


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
