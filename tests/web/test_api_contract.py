"""The CDS Hooks 2.0 / Da Vinci CRD contract, proved on HTTP calls to the app (Flask test client)."""

from __future__ import annotations

import copy
import json
import re

import pytest
from conftest import SCENARIOS, scenario_request

from cdshooks.fhir import models as fhir_models
from cdshooks.service.cards import COVERAGE_INFO_URL
from cdshooks.settings import DEFAULT_MAPPINGS

ALLOWED_TOKENS = {"{{context.patientId}}", "{{context.userId}}", "{{userPractitionerId}}"}


def assert_no_empty_values(value, path="$"):
    """CDS Hooks: no null, "", [] or {} anywhere, except `cards: []`."""
    if isinstance(value, dict):
        for k, v in value.items():
            if path == "$" and k == "cards" and v == []:
                continue
            assert v not in (None, "", [], {}), f"empty value at {path}.{k}"
            assert_no_empty_values(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert v not in (None, "", [], {}), f"empty value at {path}[{i}]"
            assert_no_empty_values(v, f"{path}[{i}]")


def sign(client, library, key="elx-approve", **kw):
    return client.post("/cds-services/pa-order-sign", json=scenario_request(key, library, **kw))


def test_discovery_lists_one_service_per_hook_with_crd_extensions(client):
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    services = resp.json["services"]
    assert sorted(s["hook"] for s in services) == ["order-dispatch", "order-select", "order-sign"]
    for s in services:
        assert s["id"] and s["title"] and s["description"]
        assert s["extension"]["davinci-crd.version"] == ["2.2"]
        options = s["extension"]["davinci-crd.configuration-options"]
        assert all({"code", "type", "name", "description", "default"} <= set(o) for o in options)
        assert {o["code"] for o in options if o["type"] == "boolean"} >= {"coverage-info"}
        for key, template in s["prefetch"].items():
            tokens = set(re.findall(r"\{\{[^}]*\}\}", template))
            assert tokens <= ALLOWED_TOKENS, (key, template)  # plain 2.0 tokens, no FHIRPath
    assert_no_empty_values(resp.json)


def test_observation_prefetch_is_restricted_to_the_lab_codes_the_mappings_use(client):
    sign_service = next(s for s in client.get("/cds-services").json["services"] if s["hook"] == "order-sign")
    template = sign_service["prefetch"]["observations"]
    assert "http://loinc.org|33358-3" in template and "http://loinc.org|97509-4" in template
    assert "32730-5" not in template  # the rejected urine code never comes back


def test_order_sign_card_follows_cds_hooks_and_crd_rules(client, library):
    resp = sign(client, library)
    assert resp.status_code == 200
    body = resp.json
    assert_no_empty_values(body)
    (card,) = body["cards"]
    assert card["uuid"] and len(card["summary"]) < 140
    assert card["indicator"] == "info"
    assert card["source"]["label"] == "Louisiana Healthcare Connections"
    assert card["source"]["topic"]["system"] and card["source"]["topic"]["code"] == "coverage-info"
    assert all(link["type"] == "absolute" and link["url"].startswith("https://") for link in card["links"])
    assert any("cancer.gov" in link["url"] for link in card["links"])
    order_ref = "MedicationRequest/elx-approve-order"
    assert card["extension"]["davinci-crd.associated-resource"] == [{"reference": order_ref}]
    ev = card["extension"]["pa-advisor.evaluation"]
    assert {"order", "drug", "policy", "pathway", "outcome", "criteria", "approvalDuration"} <= set(ev)
    assert ev["order"] == order_ref and ev["outcome"] == "likely-approved"
    assert "missingDocumentation" not in ev  # empty lists are left out, as CDS Hooks requires
    assert ev["policy"] == {"id": "LA.PHAR.652", "title": "Elranatamab-bcmm (Elrexfio)",
                            "payer": "Louisiana Healthcare Connections"}
    for c in ev["criteria"]:
        assert c["status"] in ("met", "not-met", "missing")
        if c["status"] in ("met", "not-met") and c["kind"] not in ("all", "any", "not", "at_least", "same_as"):
            assert c.get("evidence"), f"{c['id']} is {c['status']} without evidence"


def test_coverage_information_action_is_the_whole_draft_order_plus_the_extension(client, library):
    body = scenario_request("elx-approve", library)
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    resp = client.post("/cds-services/pa-order-sign", json=body).json
    (action,) = resp["systemActions"]
    assert action["type"] == "update" and action["description"]
    resource = copy.deepcopy(action["resource"])
    extensions = resource.pop("extension")
    assert resource == draft  # nothing else changed
    (ext,) = [e for e in extensions if e["url"] == COVERAGE_INFO_URL]
    subs = {e["url"]: e for e in ext["extension"]}
    assert subs["coverage"]["valueReference"]["reference"] == "Coverage/elx-approve-cov2"
    assert subs["covered"]["valueCode"] == "covered"
    assert subs["pa-needed"]["valueCode"] == "auth-needed"  # present exactly when covered is not not-covered
    assert "info-needed" not in subs  # nothing is conditional
    assert subs["reason"]["valueCodeableConcept"]["text"]  # doc-purpose requires a reason
    assert subs["date"]["valueDate"] == "2026-11-20" and subs["coverage-assertion-id"]["valueString"]
    assert fhir_models.problems(action["resource"]) == []


def test_warning_indicator_for_documentation_needed_and_denied(client, library):
    card = sign(client, library, "elx-stale").json["cards"][0]
    assert card["indicator"] == "warning"
    assert card["summary"] == ("Elrexfio PA: document 1 item first — Serum M-protein (SPEP) result from the last 30 "
                               "days (or an alternative)")
    assert card["detail"].startswith("**Next steps**\n\n1. Document one of: I.A.5.a.i: Serum M-protein")
    assert card["extension"]["pa-advisor.evaluation"]["missingDocumentation"][0].startswith("one of: I.A.5.a.i")
    card = sign(client, library, "elx-age").json["cards"][0]
    assert card["indicator"] == "warning"
    assert card["summary"] == "Elrexfio PA likely denied — Age ≥ 18 years — age 16 on 2026-11-20"
    assert "**Why**\n\n- I.A.3: Age ≥ 18 years — age 16 on 2026-11-20" in card["detail"]


def test_a_plan_no_policy_covers_gets_no_card_and_conditional_coverage_information(client, library):
    """CRD: coverage-information for every order. No policy of ours judges this plan, so it is said honestly:
    conditional, with info-needed and the coded reason, never silence and never a guess."""
    resp = sign(client, library, "elx-otherplan")
    assert resp.status_code == 200 and resp.json["cards"] == []
    (action,) = resp.json["systemActions"]
    order = scenario_request("elx-otherplan", library)["context"]["draftOrders"]["entry"][0]["resource"]
    assert {k: v for k, v in action["resource"].items() if k != "extension"} == \
        {k: v for k, v in order.items() if k != "extension"}
    (info,) = [e for e in action["resource"]["extension"] if e["url"].endswith("ext-coverage-information")]
    parts = {e["url"]: e for e in info["extension"]}
    assert [parts[k]["valueCode"] for k in ("covered", "pa-needed", "info-needed")] == ["conditional"] * 2 + ["OTH"]
    reason = parts["reason"]["valueCodeableConcept"]
    assert reason["coding"][0]["code"] == "no-policy" and reason["text"]


def test_orders_no_policy_governs_get_no_card_and_no_fetch(client, library):
    body = scenario_request("elx-approve", library)
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "161", "display": "acetaminophen"}]}
    body["prefetch"] = {}  # nothing to read: an ungoverned order must not need patient data
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200 and resp.json == {"cards": []}


def test_order_select_comments_only_on_selections_and_returns_no_system_action(client, library):
    body = scenario_request("elx-combo", library, hook="order-select")
    assert body["context"]["selections"] == ["MedicationRequest/elx-combo-order"]
    resp = client.post("/cds-services/pa-order-select", json=body)
    assert resp.status_code == 200
    assert [c["extension"]["pa-advisor.evaluation"]["order"] for c in resp.json["cards"]] == [
        "MedicationRequest/elx-combo-order"]
    assert "systemActions" not in resp.json
    body["context"]["selections"] = ["MedicationRequest/elx-combo-dara"]
    assert client.post("/cds-services/pa-order-select", json=body).json == {"cards": []}


@pytest.mark.parametrize("shape", ["dispatchedOrders", "order"])
def test_order_dispatch_accepts_both_context_shapes(client, library, shape):
    s = SCENARIOS["elx-approve"]
    body = scenario_request("elx-approve", library, hook="order-dispatch")
    body["prefetch"]["medicationRequests"]["entry"].append({"resource": s["draftOrders"][0]})
    if shape == "order":
        ctx = body["context"]
        ctx["order"] = ctx.pop("dispatchedOrders")[0]
        ctx["task"] = {"resourceType": "Task", "status": "requested", "intent": "order"}
    resp = client.post("/cds-services/pa-order-dispatch", json=body)
    assert resp.status_code == 200, resp.json
    ev = resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]
    # order-dispatch has no user, so no prescriber prefetch: without a FHIR server that one criterion is missing.
    statuses = {c["id"]: c["status"] for c in ev["criteria"]}
    assert statuses["prescriber"] == "missing" and statuses["age"] == statuses["prior-lines"] == "met"
    assert ev["outcome"] == "documentation-needed"
    assert len(resp.json["systemActions"]) == 1


def test_crd_configuration_is_honoured_and_odd_values_ignored(client, library):
    body = scenario_request("elx-approve", library)
    body["extension"] = {"davinci-crd.configuration": {"coverage-info": False}}
    assert client.post("/cds-services/pa-order-sign", json=body).json == {"cards": []}
    body["extension"] = {"davinci-crd.configuration": {"max-cards": 0, "unknown-option": True}}
    resp = client.post("/cds-services/pa-order-sign", json=body).json
    assert resp["cards"] == [] and len(resp["systemActions"]) == 1
    body["extension"] = {"davinci-crd.configuration": {"coverage-info": "no", "max-cards": "many"}}
    assert len(client.post("/cds-services/pa-order-sign", json=body).json["cards"]) == 1


def test_unknown_fields_and_extensions_are_ignored(client, library):
    body = scenario_request("elx-approve", library)
    body["somethingNew"] = {"x": 1}
    body["context"]["futureField"] = "value"
    body["extension"] = {"com.example.thing": [1, 2]}
    assert sign(client, library).json["cards"][0]["extension"]["pa-advisor.evaluation"]["outcome"] == \
        client.post("/cds-services/pa-order-sign", json=body).json["cards"][0]["extension"][
            "pa-advisor.evaluation"]["outcome"]


def test_repeated_hook_instance_and_non_uuid_hook_instance_work(client, library):
    body = scenario_request("elx-approve", library, hook_instance="d1577c69-dfbe-44ad-ba6d-3e05e953b2va")
    first = client.post("/cds-services/pa-order-sign", json=body)
    second = client.post("/cds-services/pa-order-sign", json=body)
    assert first.status_code == second.status_code == 200


# ---- errors ---------------------------------------------------------------------------------------------------
def outcome_of(resp):
    assert resp.mimetype == "application/fhir+json"
    assert resp.json["resourceType"] == "OperationOutcome"
    return resp.json["issue"][0]


def test_not_json_is_400_with_operation_outcome(client):
    resp = client.post("/cds-services/pa-order-sign", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert "not valid JSON" in outcome_of(resp)["diagnostics"]


def test_schema_invalid_is_400_naming_the_path(client, library):
    body = scenario_request("elx-approve", library)
    del body["context"]["patientId"]
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 400
    issue = outcome_of(resp)
    assert "patientId" in issue["diagnostics"] and issue["expression"] == ["$.context"]
    body = scenario_request("elx-approve", library)
    body["context"]["draftOrders"]["entry"] = "nope"
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 400 and "draftOrders" in outcome_of(resp)["expression"][0]


def test_fhir_authorization_without_fhir_server_is_400(client, library):
    body = scenario_request("elx-approve", library)
    body["fhirAuthorization"] = {"access_token": "x", "token_type": "Bearer"}
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 400 and "fhirServer" in outcome_of(resp)["diagnostics"]


def test_invalid_fhir_draft_order_is_400(client, library):
    body = scenario_request("elx-approve", library)
    body["context"]["draftOrders"]["entry"][0]["resource"]["status"] = 42
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 400 and "not a valid FHIR R4 resource" in outcome_of(resp)["diagnostics"]


def test_hook_name_must_match_the_service(client, library):
    body = scenario_request("elx-approve", library)
    body["hook"] = "order-select"
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 400 and outcome_of(resp)["expression"] == ["$.hook"]


def test_unknown_service_is_404(client, library):
    resp = client.post("/cds-services/nope", json=scenario_request("elx-approve", library))
    assert resp.status_code == 404 and outcome_of(resp)["code"] == "not-found"
    assert client.post("/cds-services/nope/feedback", json={"feedback": []}).status_code == 404
    assert client.get("/nothing-here").status_code == 404


def test_wrong_method_is_405(client):
    resp = client.get("/cds-services/pa-order-sign")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    assert client.delete("/cds-services").status_code == 405


def test_body_over_the_cap_is_413(app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = app.test_client().post("/cds-services/pa-order-sign", data=json.dumps({"x": "y" * 2000}),
                                  content_type="application/json")
    assert resp.status_code == 413 and outcome_of(resp)


def test_wrong_content_type_is_415(client):
    resp = client.post("/cds-services/pa-order-sign", data="hook=order-sign", content_type="text/plain")
    assert resp.status_code == 415 and outcome_of(resp)
    assert client.post("/cds-services/pa-order-sign", data="{}").status_code == 415


def test_no_prefetch_and_no_fhir_server_is_412(client, library):
    body = scenario_request("elx-approve", library, prefetch={})
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 412
    assert "Patient" in outcome_of(resp)["diagnostics"]


@pytest.mark.parametrize("body", [
    [], "string", 42, None, {"hook": 1}, {"hook": "order-sign", "hookInstance": "x", "context": []},
    {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": 5, "draftOrders": {}}},
    {"hook": "order-sign", "hookInstance": "x",
     "context": {"patientId": "p", "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": 1}]}}},
    {"hook": "order-sign", "hookInstance": "x", "prefetch": [], "context": {"patientId": "p", "draftOrders": {}}},
    {"hook": "order-dispatch", "hookInstance": "x", "context": {"patientId": "p"}},
])
def test_malformed_requests_are_4xx_never_500(client, body):
    for service in ("pa-order-sign", "pa-order-dispatch"):
        resp = client.post(f"/cds-services/{service}", json=body)
        assert 400 <= resp.status_code < 500, (body, resp.status_code)


def test_deeply_nested_json_is_400(client):
    resp = client.post("/cds-services/pa-order-sign", data="[" * 100000 + "]" * 100000,
                       content_type="application/json")
    assert resp.status_code == 400
    assert outcome_of(resp)["code"] in ("invalid", "structure") and outcome_of(resp)["diagnostics"]


# ---- feedback, health, CORS -------------------------------------------------------------------------------------
def test_feedback_is_validated_stored_and_answered_200(client, app):
    item = {"card": "7b9b8f7c-0000-4000-8000-000000000001", "outcome": "overridden",
            "overrideReason": {"reason": {"code": "x", "system": "urn:x", "display": "Not relevant"},
                               "userComment": "patient declined"},
            "outcomeTimestamp": "2026-11-20T10:00:00Z"}
    resp = client.post("/cds-services/pa-order-sign/feedback", json={"feedback": [item, {**item, "outcome": "accepted",
                                                                       "acceptedSuggestions": [{"id": "s1"}]}]})
    assert resp.status_code == 200
    rows = app.extensions["pa"].store.query("SELECT service_id, card_uuid, outcome FROM feedback ORDER BY id")
    assert rows == [("pa-order-sign", item["card"], "overridden"), ("pa-order-sign", item["card"], "accepted")]
    bad = client.post("/cds-services/pa-order-sign/feedback", json={"feedback": [{"card": "x", "outcome": "maybe"}]})
    assert bad.status_code == 400 and outcome_of(bad)


def test_every_hook_call_is_audited_without_phi(client, app, library):
    sign(client, library)
    client.post("/cds-services/pa-order-sign", json=scenario_request("elx-approve", library, prefetch={}))
    client.post("/cds-services/pa-order-sign", data="{nope", content_type="application/json")
    rows = app.extensions["pa"].store.query("SELECT service_id, status, orders, outcomes FROM audit ORDER BY id")
    assert [r[1] for r in rows] == [200, 412, 400]
    assert json.loads(rows[0][3])[0] == {"order": "MedicationRequest/elx-approve-order", "policy": "LA.PHAR.652",
                                         "outcome": "likely-approved"}


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    policies = len(list(DEFAULT_MAPPINGS.glob("policies/*.yaml")))
    assert ready.status_code == 200 and ready.json["mappings"] == policies and ready.json["store"] == "ok"


def test_cors_preflight_needs_no_credentials(client):
    resp = client.open("/cds-services/pa-order-sign", method="OPTIONS",
                       headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
                                "Access-Control-Request-Headers": "authorization,content-type"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    allowed = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]


def test_metrics_count_requests_fhir_reads_and_outcomes_without_phi(client, library):
    sign(client, library)
    client.post("/cds-services/pa-order-sign", json=scenario_request("elx-approve", library, prefetch={}))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'pa_requests_total{endpoint="cds.call_service",status="200"} 1.0' in text
    assert 'pa_requests_total{endpoint="cds.call_service",status="412"} 1.0' in text
    assert 'pa_outcomes_total{outcome="likely-approved",policy="LA.PHAR.652"} 1.0' in text
    assert "elx-approve" not in text and "Testpatient" not in text
