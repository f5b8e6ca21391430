"""Against a real FHIR R4 server: every fixture gives the same outcome with full prefetch and with nothing but
fhirServer + fhirAuthorization, and the server's own answers (401, paging) are handled."""

from __future__ import annotations

import pytest
import requests
from conftest import FHIR_TOKEN, SCENARIOS, scenario_request
from test_fixtures import check_scenario

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_fixture_outcome_is_the_same_without_prefetch(key, client, library, fhir_server):
    with_prefetch = client.post("/cds-services/pa-order-sign", json=scenario_request(key, library))
    via_fhir = client.post("/cds-services/pa-order-sign",
                           json=scenario_request(key, library, fhir_server=fhir_server, token=FHIR_TOKEN))
    assert via_fhir.status_code == 200, via_fhir.json
    check_scenario(key, via_fhir.json)
    check_scenario(key, with_prefetch.json)

    def outcomes(resp):
        evs = [c["extension"]["pa-advisor.evaluation"] for c in resp.json["cards"] if "extension" in c]
        return [(ev["order"], ev["outcome"]) for ev in evs]

    assert outcomes(via_fhir) == outcomes(with_prefetch)


def test_wrong_token_gives_412_naming_the_data(client, library, fhir_server, caplog):
    body = scenario_request("elx-approve", library, fhir_server=fhir_server, token="not-the-token")
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 412
    text = resp.json["issue"][0]["diagnostics"]
    assert "Patient" in text and "401" not in text  # the server's answer goes to the log, not to the caller
    assert any("Patient: not authorized (401)" in str(getattr(r, "reason", "")) for r in caplog.records)
    assert "not-the-token" not in resp.get_data(as_text=True) + caplog.text


def test_missing_prefetch_keys_are_fetched_and_present_ones_are_not(client, library, fhir_server):
    """Partial prefetch: keys present are used as given, absent ones are read from the server."""
    full = scenario_request("elx-approve", library)["prefetch"]
    partial = {k: full[k] for k in ("patient", "coverage", "conditions")}
    body = scenario_request("elx-approve", library, prefetch=partial, fhir_server=fhir_server, token=FHIR_TOKEN)
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200
    check_scenario("elx-approve", resp.json)


def test_paged_prefetch_bundle_is_followed_with_the_token(client, library, fhir_server):
    """A prefetch Bundle with a `next` link: the rest is read from the server with the bearer token."""
    headers = {"Authorization": f"Bearer {FHIR_TOKEN}"}
    first = requests.get(f"{fhir_server}/MedicationStatement?patient=elx-approve-pt&_count=2", headers=headers,
                         timeout=10).json()
    assert any(link["relation"] == "next" for link in first["link"])
    full = scenario_request("elx-approve", library)["prefetch"]
    full["medicationStatements"] = first  # 2 of 8 statements: the 4 lines are only there after paging
    body = scenario_request("elx-approve", library, prefetch=full, fhir_server=fhir_server, token=FHIR_TOKEN)
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200
    check_scenario("elx-approve", resp.json)


def test_empty_access_token_is_treated_as_no_token(client, library, fhir_server, caplog):
    body = scenario_request("elx-approve", library, fhir_server=fhir_server, token="")
    resp = client.post("/cds-services/pa-order-sign", json=body)
    # The server requires a token, so without one the required data is unobtainable: 412, not 500.
    assert resp.status_code == 412
    assert resp.json["resourceType"] == "OperationOutcome"
    assert "Patient" in resp.json["issue"][0]["diagnostics"]
    assert any("Patient: not authorized (401)" in str(getattr(r, "reason", "")) for r in caplog.records)


@pytest.mark.parametrize("key", ["elx-approve", "lem-ppms"])
def test_order_dispatch_reads_the_dispatched_order_from_the_fhir_server(key, client, library, fhir_server):
    body = scenario_request(key, library, hook="order-dispatch", fhir_server=fhir_server, token=FHIR_TOKEN)
    resp = client.post("/cds-services/pa-order-dispatch", json=body)
    assert resp.status_code == 200, resp.json
    ev = resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]
    assert ev["outcome"] == SCENARIOS[key]["expected"]["outcome"]
    assert len(resp.json["systemActions"]) == 1


def test_a_medication_reference_is_resolved_from_the_fhir_server(client, library, fhir_server):
    """The draft order names its drug only through Medication/…: the service reads the Medication."""
    medication = {"resourceType": "Medication", "id": "elx-approve-med",
                  "code": {"coding": [{"system": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
                                       "code": "J1323"}]}}
    headers = {"Authorization": f"Bearer {FHIR_TOKEN}", "Content-Type": "application/fhir+json"}
    assert requests.put(f"{fhir_server}/Medication/elx-approve-med", json=medication, headers=headers,
                        timeout=10).status_code < 300
    body = scenario_request("elx-approve", library, fhir_server=fhir_server, token=FHIR_TOKEN)
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/elx-approve-med"}
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200, resp.json
    assert resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]["outcome"] == "likely-approved"
