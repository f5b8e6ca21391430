"""Who may read a pre-filled DTR form (issue #23): in trust mode, only the EHR the assertion was made for (its
JWT, or the EHR token of the ordering call, which is what a DTR app sends), with the assertion's patient, each
read audited; anyone else gets the blank form. Real ES384 tokens, the real app."""

from __future__ import annotations

import json

import pytest
from conftest import SCENARIOS, scenario_request
from test_security import BASE, ISS, keys, make_app, token  # noqa: F401  (keys: a fixture)

FHIR = "http://127.0.0.1:9/fhir"  # loopback: nothing is read from it (the prefetch is complete)
EHR_TOKEN = "the-ehrs-own-access-token"
SIGN = "/cds-services/pa-order-sign"
PACKAGE = "/fhir/Questionnaire/$questionnaire-package"
KEY = "elx-nospec"


@pytest.fixture
def ehr(tmp_path, keys):  # noqa: F811
    from cdshooks.ehr.profiles import public_jwk as jwk

    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk(keys["ec"].public_key(), "ec-1", "ES384")]}))
    (tmp_path / "other.json").write_text(json.dumps({"keys": [jwk(keys["other"].public_key(), "o-1", "ES384")]}))
    (tmp_path / "trust.yaml").write_text(f"- iss: {ISS}\n  jwks_file: jwks.json\n  fhir_servers: [{FHIR}]\n"
                                         f"- iss: https://other-ehr.example.org\n  jwks_file: other.json\n")
    app = make_app(tmp_path, tmp_path / "trust.yaml")
    client = app.test_client()
    body = scenario_request(KEY, app.extensions["pa"].library)
    body.update(fhirServer=FHIR, fhirAuthorization={"access_token": EHR_TOKEN, "token_type": "Bearer",
                                                    "expires_in": 300, "scope": "patient/*.read", "subject": "pa"})
    signed = client.post(SIGN, json=body, headers={"Authorization": f"Bearer {token(keys['ec'])}"})
    assert signed.status_code == 200, signed.json
    action = signed.json["systemActions"][0]["resource"]
    info = {e["url"]: e for e in action["extension"][-1]["extension"]}
    return {"app": app, "client": client, "order": action, "id": info["coverage-assertion-id"]["valueString"]}


def ask(ehr, auth: str | None, *extra: dict, with_order: bool = True) -> dict:
    params = [{"name": "context", "valueString": ehr["id"]}]
    if with_order:
        params.append({"name": "order", "resource": ehr["order"]})
    headers = {"Authorization": auth} if auth else {}
    r = ehr["client"].post(PACKAGE, json={"resourceType": "Parameters", "parameter": params + list(extra)},
                           headers=headers)
    assert r.status_code == 200, r.json
    return r.json


def kinds(out: dict) -> list[str]:
    bundle = next(p["resource"] for p in out["parameter"] if p["name"] == "PackageBundle")
    return [e["resource"]["resourceType"] for e in bundle["entry"]]


def warnings(out: dict) -> list[str]:
    return [i["diagnostics"] for p in out["parameter"] if p["name"] == "outcome" for i in p["resource"]["issue"]]


def package_jwt(key, **kw) -> str:
    return f"Bearer {token(key, aud=f'{BASE}{PACKAGE}', **kw)}"


def test_the_ehrs_jwt_reads_the_pre_filled_form(ehr, keys):  # noqa: F811
    assert kinds(ask(ehr, package_jwt(keys["ec"]))) == ["Questionnaire", "QuestionnaireResponse", "Library"]


def test_the_dtr_apps_ehr_token_reads_the_pre_filled_form(ehr):
    assert kinds(ask(ehr, f"Bearer {EHR_TOKEN}")) == ["Questionnaire", "QuestionnaireResponse", "Library"]


@pytest.mark.parametrize("auth", [None, "Bearer guessed-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_without_the_ehrs_credentials_the_form_is_blank(ehr, auth):
    out = ask(ehr, auth)
    assert kinds(out) == ["Questionnaire", "Library"]
    assert any("needs the caller the assertion was made for" in w for w in warnings(out))
    assert "QuestionnaireResponse" not in json.dumps(out)


def test_another_trusted_ehr_cannot_read_an_assertion_it_did_not_make(ehr, keys):  # noqa: F811
    other = package_jwt(keys["other"], kid="o-1", iss="https://other-ehr.example.org")
    assert kinds(ask(ehr, other)) == ["Questionnaire", "Library"]


def test_a_forged_or_expired_jwt_gets_the_blank_form(ehr, keys):  # noqa: F811
    assert kinds(ask(ehr, package_jwt(keys["other"]))) == ["Questionnaire", "Library"]  # wrong key for ISS
    assert kinds(ask(ehr, package_jwt(keys["ec"], exp_in=-60))) == ["Questionnaire", "Library"]


def test_the_patients_coverage_or_order_is_required(ehr):
    out = ask(ehr, f"Bearer {EHR_TOKEN}", with_order=False)
    assert kinds(out) == ["Questionnaire", "Library"]
    assert any("send the patient's coverage or the order" in w for w in warnings(out))
    coverage = {"resourceType": "Coverage", "status": "active",
                "beneficiary": {"reference": f"Patient/{SCENARIOS[KEY]['patientId']}"}, "payor": [{"display": "x"}]}
    out = ask(ehr, f"Bearer {EHR_TOKEN}", {"name": "coverage", "resource": coverage}, with_order=False)
    assert "QuestionnaireResponse" in kinds(out)


def test_an_order_of_another_patient_or_another_order_gets_the_blank_form(ehr):
    stranger = {**ehr["order"], "subject": {"reference": "Patient/someone-else"}}
    ehr_other = {**ehr, "order": stranger}
    assert kinds(ask(ehr_other, f"Bearer {EHR_TOKEN}")) == ["Questionnaire", "Library"]
    renamed = {**ehr, "order": {**ehr["order"], "id": "another-order"}}
    out = ask(renamed, f"Bearer {EHR_TOKEN}")
    assert kinds(out) == ["Questionnaire", "Library"]
    assert any("not the order of this assertion" in w for w in warnings(out))


def test_every_read_of_an_assertion_is_audited(ehr, keys):  # noqa: F811
    ask(ehr, None)
    ask(ehr, f"Bearer {EHR_TOKEN}")
    rows = ehr["app"].extensions["pa"].store.query(
        "SELECT jwt_iss, orders, outcomes FROM audit WHERE service_id = 'dtr.questionnaire-package' ORDER BY id")
    assert [json.loads(o)[0]["outcome"] for _, _, o in rows] == ["refused", "pre-filled"]
    assert all(json.loads(orders) == [f"MedicationRequest/{ehr['order']['id']}"] for _, orders, _ in rows)
    text = json.dumps(rows)
    assert EHR_TOKEN not in text and ehr["id"] not in text  # neither the token nor the capability is stored


def test_the_context_keeps_a_hash_of_the_ehr_token_never_the_token(ehr):
    rows = ehr["app"].extensions["pa"].store.query("SELECT body FROM dtr_context")
    assert rows and all(EHR_TOKEN not in body for (body,) in rows)


@pytest.mark.parametrize("body", ["not json", [], {"resourceType": "Parameters", "parameter": 5},
                                  {"resourceType": "Parameters", "parameter": [{"name": "context", "valueString": 5}]},
                                  {"resourceType": "Parameters", "parameter": [{"name": "order", "resource": 5}]}])
def test_malformed_input_is_a_400_never_a_500(ehr, body):
    kw = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    r = ehr["client"].post(PACKAGE, headers={"Authorization": f"Bearer {EHR_TOKEN}"}, **kw)
    assert r.status_code == 400, r.json
    assert r.json["resourceType"] == "OperationOutcome"
