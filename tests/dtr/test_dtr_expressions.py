"""The SDC pre-fill expressions of every policy's Questionnaire, run by a real FHIRPath engine (fhirpathpy) on
every fixture's data as a DTR app would have it (%patient, and %conditions from the x-fhir-query): an expression
answers "yes" exactly where the engine finds the criterion met from the record, and otherwise answers nothing —
never "no" (issue #23: pre-fill must not depend on the coverage-assertion-id)."""

from __future__ import annotations

import json

import fhirpathpy
import pytest
from conftest import FIXTURES, SCENARIOS
from policy.test_pathways import EVALUATIONS, LIBRARY

from cdshooks.dtr.expressions import INITIAL_EXPRESSION, LAUNCH_CONTEXT, VARIABLE
from cdshooks.dtr.questionnaire import items_of, questionnaire

BASE = "https://pa.example.org"
BY_KEY = {key: ev for key, _, _, ev in EVALUATIONS}


def expressions(policy) -> dict[str, str]:
    q = questionnaire(policy, BASE)
    return {i["linkId"]: e["valueExpression"]["expression"] for i in items_of(q) for e in i.get("extension", [])
            if e["url"] == INITIAL_EXPRESSION}


def test_every_form_names_its_launch_context_and_the_conditions_query():
    for policy in LIBRARY.policies:
        ext = questionnaire(policy, BASE)["extension"]
        assert {e["extension"][0]["valueCoding"]["code"] for e in ext if e["url"] == LAUNCH_CONTEXT} == \
            {"patient", "user"}
        (var,) = [e["valueExpression"] for e in ext if e["url"] == VARIABLE]
        assert var["expression"] == "Condition?patient={{%patient.id}}"
        assert expressions(policy), f"{policy.id}: no item the EHR's data can pre-fill"


CASES = [(key, policy, link, text) for key, policy, _, ev in EVALUATIONS
         if not SCENARIOS[key]["draftOrders"][0].get("reasonCode")
         and not SCENARIOS[key]["draftOrders"][0].get("reasonReference")
         for link, text in expressions(policy).items()]


@pytest.mark.parametrize("key, policy, link, text", CASES, ids=[f"{k}-{link}" for k, _, link, _ in CASES])
def test_an_expression_says_yes_exactly_where_the_record_meets_the_criterion(key, policy, link, text):
    s = SCENARIOS[key]
    resources = [e["resource"] for e in json.loads((FIXTURES / s["bundle"]).read_text())["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient" and r["id"] == s["patientId"])
    conditions = {"resourceType": "Bundle", "type": "searchset",
                  "entry": [{"resource": r} for r in resources if r["resourceType"] == "Condition"]}
    # The engine judges age on the order date; the form is filled later: compare on the same day.
    got = fhirpathpy.evaluate({}, text.replace("today()", "@2026-11-20"),
                              {"patient": patient, "conditions": conditions})
    statuses = {r.criterion.id: r.status.value for r in BY_KEY[key].root.walk()}
    if link not in statuses:
        return  # not in the pathway this record takes
    assert got in ([True], []), got
    assert (got == [True]) == (statuses[link] == "met"), (key, link, statuses[link], got)
