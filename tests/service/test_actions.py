"""From the card to done: the documentation launch (a SMART link with the DTR appContext), the suggestions (the label
dose as an update of the draft order, a LOINC-coded lab order, the CRD form-completion Task), and the loop an EHR
runs with them over real HTTP — accept, send feedback, apply the update, sign again, a changed verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import unquote

import pytest
import requests
from conftest import info_of, scenario_request
from loopback import serve_app

from cdshooks.ehr.request import accepted_feedback, apply_suggestion
from cdshooks.fhir import models as fhir_models
from cdshooks.settings import Settings
from cdshooks.web.app import create_app

SIGN = "/cds-services/pa-order-sign"


def sign(client, library, key: str, hook: str = "order-sign") -> dict:
    r = client.post(f"/cds-services/pa-{hook}", json=scenario_request(key, library, hook=hook))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def app_context(link: dict) -> dict[str, str]:
    """As the DTR reference app reads a legacy appContext: decode, split on & and =."""
    return dict(part.split("=", 1) for part in unquote(link["appContext"]).split("&"))


def test_a_card_needing_documentation_links_the_dtr_launch_with_the_assertion(client, library):
    response = sign(client, library, "elx-nospec")
    (card,) = response["cards"]
    smart = [link for link in card["links"] if link["type"] == "smart"]
    assert [link["label"] for link in smart] == ["Complete the documentation"]
    assert smart[0]["url"] == "http://localhost/console"  # dev mode, no DTR app configured: the console's form
    info, ctx = info_of(response), app_context(smart[0])
    assert ctx == {"questionnaire": info["questionnaire"]["valueCanonical"],
                   "order": "MedicationRequest/elx-nospec-order",
                   "coverage": info["coverage"]["valueReference"]["reference"],
                   "context": info["coverage-assertion-id"]["valueString"]}
    # The context it names opens the pre-filled form, as the DTR app asks for it.
    order = response["systemActions"][0]["resource"]
    package = client.post("/fhir/Questionnaire/$questionnaire-package", json={
        "resourceType": "Parameters", "parameter": [{"name": "context", "valueString": ctx["context"]},
                                                    {"name": "order", "resource": order}]})
    entries = package.json["parameter"][0]["resource"]["entry"]
    assert [e["resource"]["resourceType"] for e in entries][:2] == ["Questionnaire", "QuestionnaireResponse"]


def test_the_configured_dtr_app_is_launched_and_no_link_where_nothing_is_missing(settings, library):
    app = create_app(replace(settings, dtr_app_url="https://dtr.example.org/launch"))
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    client = app.test_client()
    (card,) = sign(client, library, "elx-nospec")["cards"]
    assert card["links"][0]["url"] == "https://dtr.example.org/launch" and card["links"][0]["type"] == "smart"
    assert not any(s["actions"][0]["resource"]["resourceType"] == "Task" for s in card.get("suggestions", []))
    (approved,) = sign(client, library, "elx-approve")["cards"]
    assert all(link["type"] == "absolute" for link in approved["links"])
    (selected,) = sign(client, library, "elx-nospec", "order-select")["cards"]  # a secondary hook asks for nothing
    assert all(link["type"] == "absolute" for link in selected["links"])


@pytest.mark.parametrize("key, dose", [("lem-13mg", 12), ("elx-dose77", 76)])
def test_a_dose_over_the_limit_suggests_the_draft_at_the_dose_the_policy_allows(client, library, key, dose):
    (card,) = sign(client, library, key)["cards"]
    assert card["selectionBehavior"] == "at-most-one"
    (update,) = [s for s in card["suggestions"] if s["actions"][0]["type"] == "update"]
    action = update["actions"][0]
    order = scenario_request(key, library)["context"]["draftOrders"]["entry"][0]["resource"]
    assert (action["resource"]["resourceType"], action["resource"]["id"]) == (order["resourceType"], order["id"])
    doses = [d["doseAndRate"][0]["doseQuantity"]["value"] for d in action["resource"]["dosageInstruction"]]
    assert dose in doses and update["uuid"] and action["description"]
    # Only the dose changed: everything else of the order is as it was sent.
    changed = {k for k in order if order[k] != action["resource"].get(k)}
    assert changed == {"dosageInstruction"}
    assert fhir_models.problems(action["resource"]) == []


def test_a_missing_lab_result_suggests_a_loinc_coded_order_and_every_suggestion_is_valid_r4(client, library):
    (card,) = sign(client, library, "elx-mp049")["cards"]
    creates = [s["actions"][0]["resource"] for s in card["suggestions"] if s["actions"][0]["type"] == "create"]
    labs = [r for r in creates if r["resourceType"] == "ServiceRequest"]
    assert labs, card["suggestions"]
    for lab in labs:
        assert lab["code"]["coding"][0]["system"] == "http://loinc.org" and lab["status"] == "draft"
        assert lab["subject"] == {"reference": "Patient/elx-mp049-pt"}
    for s in card["suggestions"]:
        assert s["uuid"] and s["label"] and len(s["label"]) <= 140
        for a in s["actions"]:
            assert a["description"] and fhir_models.problems(a["resource"]) == []


def test_without_a_dtr_app_and_outside_dev_mode_the_form_is_a_crd_task(app, library):
    hooks = app.extensions["pa"].hooks
    hooks.settings = replace(hooks.settings, dev_mode=False)  # as in trust mode: the console is dev-only
    (card,) = sign(app.test_client(), library, "elx-nospec")["cards"]
    assert all(link["type"] == "absolute" for link in card["links"])
    (task,) = [s["actions"][0]["resource"] for s in card["suggestions"]
               if s["actions"][0]["resource"]["resourceType"] == "Task"]
    assert task["code"]["coding"][0]["code"] == "complete-questionnaire" and task["status"] == "ready"
    assert task["input"][0]["type"]["text"] == "questionnaire"
    assert task["input"][0]["valueCanonical"].endswith("/fhir/Questionnaire/la-phar-652")
    assert task["basedOn"] == [{"reference": "MedicationRequest/elx-nospec-order"}]
    assert fhir_models.problems(task) == []


def test_the_ehr_accepts_the_suggestion_sends_feedback_and_the_next_signing_sees_the_changed_order(tmp_path, library):
    """Over real HTTP, as an EHR: sign, accept the dose suggestion (feedback with acceptedSuggestions), apply the
    update to its draft, sign again — the dose criterion is now met and the verdict changes."""
    app = create_app(Settings(dev_mode=True, store_url=f"sqlite:///{tmp_path / 's.db'}"))
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    body = scenario_request("lem-13mg", library)
    with serve_app(app) as base:
        first = requests.post(f"{base}{SIGN}", json=body, timeout=30).json()
        (card,) = first["cards"]
        assert card["extension"]["pa-advisor.evaluation"]["outcome"] == "likely-denied"
        (update,) = [s for s in card["suggestions"] if s["actions"][0]["type"] == "update"]
        fb = requests.post(f"{base}{SIGN}/feedback", timeout=30,
                           json=accepted_feedback(card, update, "2026-11-20T10:00:00Z"))
        assert fb.status_code == 200
        again, created = apply_suggestion(body, update)
        assert created == []
        second = requests.post(f"{base}{SIGN}", json=again, timeout=30).json()
    ev = second["cards"][0]["extension"]["pa-advisor.evaluation"]
    statuses = {c["id"]: c["status"] for c in ev["criteria"]}
    assert statuses["dose"] == "met" and ev["outcome"] == "likely-approved", ev.get("denialReasons")
    rows = app.extensions["pa"].store.query("SELECT outcome, accepted_suggestions FROM feedback WHERE card_uuid = ?",
                                            (card["uuid"],))
    assert rows == [("accepted", f'[{{"id": "{update["uuid"]}"}}]')]
