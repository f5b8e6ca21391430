"""The HL7 DTR reference app's own requests, emulated exactly (../shared/reference/real-parts.md and issue #23):
it reads the Library named by the Questionnaire's cqf-library and needs its dataRequirement, asks for the package
without the coverage-assertion-id, and "Send to Payer" POSTs the completed QuestionnaireResponse to us; the next
signing reads it. Over HTTP, through the real app."""

from __future__ import annotations

import copy

import pytest
from conftest import SCENARIOS, scenario_request
from test_dtr_access import EHR_TOKEN, KEY, PACKAGE, SIGN, ehr, keys  # noqa: F401  (fixtures)

CQF_LIBRARY = "http://hl7.org/fhir/StructureDefinition/cqf-library"


def evaluation(response) -> dict:
    return response.json["cards"][0]["extension"]["pa-advisor.evaluation"]


def coverage_info(response) -> dict:
    return {e["url"]: e for e in response.json["systemActions"][0]["resource"]["extension"][-1]["extension"]}


def completed(q: dict, answers: dict, author: str, authored: str = "2026-11-20T09:00:00Z") -> dict:
    """What the app saves: its items in the form's nesting, the unversioned canonical as `questionnaire`."""
    def walk(items):
        out = []
        for item in items:
            if item["type"] == "group":
                if children := walk(item.get("item", [])):
                    out.append({"linkId": item["linkId"], "item": children})
            elif item["linkId"] in answers:
                out.append({"linkId": item["linkId"], "answer": [answers[item["linkId"]]]})
        return out

    return {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": q["url"],
            "subject": {"reference": f"Patient/{SCENARIOS[KEY]['patientId']}"}, "author": {"reference": author},
            "authored": authored, "item": walk(q["item"])}


def test_the_reference_apps_loop_changes_the_verdict(client, library):
    body = scenario_request(KEY, library)
    before = client.post(SIGN, json=body)
    assert evaluation(before)["outcome"] == "documentation-needed"
    assert "prescriber" in {c["id"] for c in evaluation(before)["criteria"] if c["status"] == "missing"}
    canonical = coverage_info(before)["questionnaire"]["valueCanonical"]
    order = before.json["systemActions"][0]["resource"]
    assert order["insurance"], "the fixture order names its Coverage (CRD Must Support; the generator needs it)"
    # 1. the package without the assertion id: a blank form, its Library named by cqf-library
    out = client.post(PACKAGE, json={"resourceType": "Parameters", "parameter": [
        {"name": "questionnaire", "valueCanonical": canonical}, {"name": "order", "resource": order}]}).json
    bundle = next(p["resource"] for p in out["parameter"] if p["name"] == "PackageBundle")
    q = bundle["entry"][0]["resource"]
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Questionnaire", "Library"]
    # 2. the Library by its canonical, with the data requirements the app checks before saving
    lib_url = next(e["valueCanonical"] for e in q["extension"] if e["url"] == CQF_LIBRARY)
    lib = client.get("/" + lib_url.split("://", 1)[1].split("/", 1)[1]).json
    assert {"Patient", "Practitioner", "Coverage", "MedicationRequest"} <= {d["type"] for d in lib["dataRequirement"]}
    # 3. "Send to Payer": the completed response, answered by the signing prescriber
    sent = client.post("/fhir/QuestionnaireResponse", json=completed(q, {"prescriber": {"valueBoolean": True}},
                                                                      SCENARIOS[KEY]["userId"]))
    assert sent.status_code == 201, sent.json
    assert sent.headers["Location"].endswith(f"/fhir/QuestionnaireResponse/{sent.json['id']}")
    # 4. the next signing reads it: decided, with the response as evidence
    again = copy.deepcopy(body)
    again["hookInstance"] = "a-second-signing"
    after = evaluation(client.post(SIGN, json=again))
    prescriber = next(c for c in after["criteria"] if c["id"] == "prescriber")
    assert prescriber["status"] == "met"
    assert prescriber["evidence"][0]["reference"] == f"QuestionnaireResponse/{sent.json['id']}"
    assert "(by the prescriber)" in prescriber["evidence"][0]["text"]


def test_a_response_for_a_patient_with_no_kept_assertion_is_404(client):
    q = {"url": "http://localhost/fhir/Questionnaire/la-phar-652", "item": []}
    qr = completed(q, {}, "Practitioner/x")
    qr["subject"] = {"reference": "Patient/nobody-signed-for"}
    r = client.post("/fhir/QuestionnaireResponse", json=qr)
    assert r.status_code == 404 and r.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("change, where", [
    ({"resourceType": "Patient"}, "$.resourceType"),
    ({"status": "in-progress"}, "$.status"),
    ({"item": 5}, "$.item"),
    ({"subject": {"reference": "Group/1"}}, "$.subject"),
])
def test_a_malformed_response_is_a_400(client, library, change, where):
    client.post(SIGN, json=scenario_request(KEY, library))
    qr = completed({"url": "http://localhost/fhir/Questionnaire/la-phar-652", "item": []}, {}, "Practitioner/x")
    r = client.post("/fhir/QuestionnaireResponse", json={**qr, **change})
    assert r.status_code == 400 and r.json["issue"][0]["expression"] == [where]


def test_a_response_to_a_form_not_ours_is_404(client):
    qr = completed({"url": "http://elsewhere/Questionnaire/x", "item": []}, {}, "Practitioner/x")
    assert client.post("/fhir/QuestionnaireResponse", json=qr).status_code == 404


def test_reading_responses_is_405_with_an_operation_outcome(client):
    r = client.get("/fhir/QuestionnaireResponse")
    assert r.status_code == 405 and r.json["resourceType"] == "OperationOutcome"
    assert "POST" in r.headers["Allow"]


def test_in_trust_mode_only_the_assertions_ehr_may_send_answers(ehr):  # noqa: F811
    q = {"url": "https://pa.example.org/fhir/Questionnaire/la-phar-652", "item": []}
    qr = completed(q, {}, "Practitioner/x")
    anonymous = ehr["client"].post("/fhir/QuestionnaireResponse", json=qr)
    assert anonymous.status_code == 403 and anonymous.json["resourceType"] == "OperationOutcome"
    sent = ehr["client"].post("/fhir/QuestionnaireResponse", json=qr, headers={"Authorization": f"Bearer {EHR_TOKEN}"})
    assert sent.status_code == 201


@pytest.mark.parametrize("method, path", [("GET", "/no/such/route"), ("POST", "/fhir/Nothing"),
                                          ("DELETE", "/cds-services"), ("GET", "/fhir/QuestionnaireResponse")])
def test_an_unknown_route_is_404_or_405_never_401_even_in_trust_mode(ehr, method, path):  # noqa: F811
    r = ehr["client"].open(path, method=method)
    assert r.status_code in (404, 405), (path, r.status_code)
    assert r.json["resourceType"] == "OperationOutcome"
