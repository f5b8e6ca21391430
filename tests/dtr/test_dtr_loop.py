"""The documentation loop end to end against the real FHIR server (sekmet), one fixture per policy, as an EHR and
its DTR app run it: sign → coverage-information names the form → `$questionnaire-package` with the assertion
id → the clinician answers what is missing → the response is saved to the EHR's FHIR server → sign again."""

from __future__ import annotations

import base64

import pytest
import requests
from conftest import FHIR_TOKEN, SCENARIOS, scenario_request

from cdshooks.dtr.questionnaire import items_of

SIGN = "/cds-services/pa-order-sign"
PACKAGE = "/fhir/Questionnaire/$questionnaire-package"
REPORT = {"valueAttachment": {"contentType": "application/pdf", "title": "Flow cytometry, bone marrow",
                              "data": base64.b64encode(b"%PDF-1.4 CD19 positive blasts").decode()}}

# Fixture → the clinician's answers to what the record leaves open (as a reviewer would accept them) → outcome.
LOOPS = [
    ("elx-stale", {"serum-mprotein": {"valueDecimal": 1.1}}, "completed", "likely-approved"),  # a fresh SPEP, g/dL
    ("ide-nospec", {"prescriber": {"valueBoolean": True}}, "completed", "likely-approved"),    # hematologist consulted
    ("blin-nocd19", {"cd19-positive": REPORT}, "completed", "likely-approved"),                # flow report attached
    ("lem-nospec", {"prescriber": {"valueBoolean": True}}, "amended", "likely-approved"),      # neurologist prescribes
    ("lem-nospec", {"prescriber": {"valueBoolean": False}}, "completed", "likely-denied"),     # honestly: none
]


def _sign(client, library, key, fhir_server):
    r = client.post(SIGN, json=scenario_request(key, library, fhir_server=fhir_server, token=FHIR_TOKEN))
    assert r.status_code == 200, r.json
    card = r.json["cards"][0]
    info = {e["url"]: e for e in r.json["systemActions"][0]["resource"]["extension"][-1]["extension"]}
    return card["extension"]["pa-advisor.evaluation"], info


def _answer(items: list[dict], answers: dict[str, dict]) -> list[dict]:
    """The response items of the form: what the DTR app saves (pre-filled answers kept, the clinician's added)."""
    out = []
    for item in items:
        if item["type"] == "display":
            continue
        if item["type"] == "group":
            children = _answer(item["item"], answers)
            if children:
                out.append({"linkId": item["linkId"], "item": children})
            continue
        answer = answers.get(item["linkId"]) or (item.get("initial") or [None])[0]
        if answer is not None:
            out.append({"linkId": item["linkId"], "answer": [answer]})
    return out


@pytest.mark.parametrize("key, answers, status, outcome", LOOPS, ids=[f"{k}-{o}" for k, _, _, o in LOOPS])
def test_answering_the_form_decides_the_next_signing(key, answers, status, outcome, client, library, fhir_server):
    before, info = _sign(client, library, key, fhir_server)
    assert before["outcome"] == "documentation-needed"
    missing = {c["id"] for c in before["criteria"] if c["status"] == "missing"}
    assert set(answers) <= missing, "the test answers only what the record leaves open"
    canonical = info["questionnaire"]["valueCanonical"]
    # The DTR app posts to the canonical with its last segment replaced by $questionnaire-package.
    package_url = canonical.rsplit("/", 1)[0] + "/$questionnaire-package"
    assert package_url.endswith(PACKAGE)
    found = requests.get(f"{fhir_server}/Coverage", params={"patient": SCENARIOS[key]["patientId"]},
                         headers={"Authorization": f"Bearer {FHIR_TOKEN}"}, timeout=10).json()
    coverage = found["entry"][0]["resource"]
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "coverage", "resource": coverage},
        {"name": "order", "resource": SCENARIOS[key]["draftOrders"][0]},
        {"name": "context", "valueString": info["coverage-assertion-id"]["valueString"]},
    ]}
    out = client.post(PACKAGE, json=params, headers={"Authorization": "Bearer the-ehr-token"})
    assert out.status_code == 200, out.json
    (bundle,) = [p["resource"] for p in out.json["parameter"] if p["name"] == "PackageBundle"]
    q = bundle["entry"][0]["resource"]
    assert q["url"] == canonical
    initial = {i["linkId"]: i.get("initial") for i in items_of(q)}
    met = {c["id"] for c in before["criteria"] if c["status"] == "met" and c["id"] in initial}
    assert met and all(initial[cid] for cid in met if _question(q, cid)["type"] == "boolean")
    assert all(initial[cid] is None for cid in answers), "what is missing is left for the clinician"
    response = {"resourceType": "QuestionnaireResponse", "status": status, "questionnaire": canonical,
                "subject": {"reference": f"Patient/{SCENARIOS[key]['patientId']}"},
                "authored": "2026-11-20T09:30:00Z", "author": {"reference": SCENARIOS[key]["userId"]},
                "item": _answer(q["item"], answers)}
    headers = {"Authorization": f"Bearer {FHIR_TOKEN}", "Content-Type": "application/fhir+json"}
    saved = requests.post(f"{fhir_server}/QuestionnaireResponse", json=response, headers=headers, timeout=10)
    assert saved.status_code in (200, 201), saved.text
    qr_id = saved.json()["id"]
    try:
        after, _ = _sign(client, library, key, fhir_server)
        assert after["outcome"] == outcome, after
        decided = {c["id"]: c for c in after["criteria"]}
        for cid in answers:
            assert decided[cid]["status"] in ("met", "not-met")
            assert any(f"QuestionnaireResponse/{qr_id}" == e["reference"] for e in decided[cid]["evidence"])
    finally:  # the FHIR server is shared by the session: remove what this test wrote
        requests.delete(f"{fhir_server}/QuestionnaireResponse/{qr_id}", headers=headers, timeout=10)
    again, _ = _sign(client, library, key, fhir_server)
    assert again["outcome"] == "documentation-needed"


def _question(q: dict, link_id: str) -> dict:
    return next(i for i in items_of(q) if i["linkId"] == link_id)
