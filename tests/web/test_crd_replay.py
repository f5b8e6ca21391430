"""A replayed CRD-style order-sign (as Inferno's CRD server suite or the CRD request generator sends it) passes
the reference's "easy to miss" checks."""

from __future__ import annotations

import copy

import pytest
from conftest import FHIR_TOKEN, SCENARIOS, bundle_resources
from test_api_contract import assert_no_empty_values

from cdshooks.ehr.request import searchset
from cdshooks.fhir import models as fhir_models
from cdshooks.service.cards import COVERAGE_INFO_URL, md

pytestmark = pytest.mark.integration
HEX_BREAKING_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2va"  # the RI preset's non-hex hookInstance


def crd_request(key: str, fhir_server: str) -> dict:
    """CRD generator style: its own prefetch keys (not our templates), a token always sent, configuration."""
    s = SCENARIOS[key]
    resources = bundle_resources(key)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    coverage = [r for r in resources if r["resourceType"] == "Coverage"]
    return {
        "hook": "order-sign",
        "hookInstance": HEX_BREAKING_INSTANCE,
        "fhirServer": fhir_server,
        "fhirAuthorization": {"access_token": FHIR_TOKEN, "token_type": "Bearer", "expires_in": 300,
                              "scope": "patient/Patient.read patient/Coverage.read", "subject": "cds-service4"},
        "context": {"userId": s["userId"], "patientId": s["patientId"], "encounterId": "enc-1",
                    "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                    "entry": [{"resource": copy.deepcopy(o)} for o in s["draftOrders"]]}},
        "prefetch": {"patient": patient, "coverage": searchset(coverage),
                     "deviceRequestBundle": searchset([])},  # a key we never asked for: ignored
        "extension": {"davinci-crd.configuration": {"alt-drug": True, "coverage-info": True}},
    }


def easy_to_miss(request: dict, response: dict) -> None:
    """The reference's section 6 list, items 1-5 and 13, as assertions."""
    assert_no_empty_values(response)  # 2
    drafts = {f"{o['resourceType']}/{o['id']}": o for o in
              (e["resource"] for e in request["context"]["draftOrders"]["entry"])}
    for card in response["cards"]:
        assert card["uuid"] and len(card["summary"]) <= 139  # 1, 2
        assert "suggestions" not in card or (card["selectionBehavior"] and all(s["uuid"] for s in card["suggestions"]))
        assert card["source"]["label"] and card["source"]["topic"]["system"] and card["source"]["topic"]["code"]  # 3
        assert card["extension"]["davinci-crd.associated-resource"][0]["reference"] in drafts  # 13
        # 13: names the order in detail in human terms (its drug as the order codes it), never by a raw id
        order = drafts[card["extension"]["davinci-crd.associated-resource"][0]["reference"]]
        assert f"Order: {md(order['medicationCodeableConcept']['coding'][0]['display'])}" in card["detail"]
        assert card["extension"]["pa-advisor.evaluation"]["order"] not in card["detail"]
    assert response["systemActions"]  # 4: always on order-sign for in-scope orders
    assertion_ids: dict[str, set[str]] = {}
    for action in response["systemActions"]:
        assert action["type"] == "update" and action["description"]  # 4
        resource = copy.deepcopy(action["resource"])
        ext = [e for e in resource.pop("extension") if e["url"] == COVERAGE_INFO_URL]
        original = drafts[f"{resource['resourceType']}/{resource['id']}"]
        assert resource == {k: v for k, v in original.items() if k != "extension"}  # whole order, nothing changed
        assert resource["status"] == "draft" and all(resource.get(f) for f in
                                                     ("authoredOn", "requester", "subject", "intent"))
        assert fhir_models.problems(action["resource"]) == []
        (info,) = ext
        subs = {e["url"]: e for e in info["extension"]}
        assert {"coverage", "covered", "date", "coverage-assertion-id"} <= set(subs)  # 5
        if subs["covered"]["valueCode"] != "not-covered":
            assert "pa-needed" in subs
        assert subs["covered"]["valueCode"] in ("covered", "not-covered", "conditional")  # 2.0.1 ∩ 2.2.1
        assert subs.get("doc-needed", {}).get("valueCode", "clinical") in ("clinical", "admin", "conditional")
        assert "reason" in subs and subs["reason"]["valueCodeableConcept"]["text"]
        cov = subs["coverage"]["valueReference"]["reference"]
        assertion_ids.setdefault(cov, set()).add(subs["coverage-assertion-id"]["valueString"])
    assert all(len(ids) == 1 for ids in assertion_ids.values())  # one assertion id per coverage


@pytest.mark.parametrize("key", ["elx-approve", "elx-combo", "ide-cns", "blin-approve", "lem-nofailreason"])
def test_crd_style_order_sign_passes_the_easy_to_miss_checks(key, client, fhir_server):
    request = crd_request(key, fhir_server)
    resp = client.post("/cds-services/pa-order-sign", json=request)
    assert resp.status_code == 200, resp.json
    easy_to_miss(request, resp.json)
    ev = resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]
    assert ev["outcome"] == SCENARIOS[key]["expected"]["outcome"]
