"""Prefetch values case by case, and FHIR failures: what could not be read is named, never guessed."""

from __future__ import annotations

import pytest
from conftest import scenario_request
from faulty_fhir import FaultyFhir, _Handler

from cdshooks.cli.sandbox import free_port
from cdshooks.ehr.request import searchset


@pytest.fixture(scope="module")
def faulty():
    with FaultyFhir() as server:
        yield server


def criteria_of(resp) -> dict[str, dict]:
    ev = resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]
    return {c["id"]: c for c in ev["criteria"]}


def test_absent_key_without_fhir_server_makes_its_criteria_missing(client, library):
    body = scenario_request("elx-approve", library)
    del body["prefetch"]["conditions"]
    crit = criteria_of(client.post("/cds-services/pa-order-sign", json=body))
    assert crit["dx-mm"]["status"] == "missing"
    assert "Condition" in crit["dx-mm"]["note"] and "no FHIR server" in crit["dx-mm"]["note"]


def test_null_prefetch_value_means_the_client_has_no_data(client, library):
    body = scenario_request("ide-approve", library)
    body["prefetch"]["conditions"] = None
    crit = criteria_of(client.post("/cds-services/pa-order-sign", json=body))
    assert crit["dx-mm"]["status"] == "missing"
    # null = the EHR has no data (per spec); an empty problem list is still no proof of no CNS pathology (#23)
    assert crit["no-cns"]["status"] == "missing"


def test_operation_outcome_in_prefetch_is_not_taken_as_empty(client, library):
    body = scenario_request("ide-approve", library)
    body["prefetch"]["conditions"] = {"resourceType": "OperationOutcome",
                                      "issue": [{"severity": "error", "code": "timeout"}]}
    crit = criteria_of(client.post("/cds-services/pa-order-sign", json=body))
    assert crit["no-cns"]["status"] == "missing"  # a negative criterion is never met on failed data
    assert "prefetch error" in crit["no-cns"]["note"]


def test_empty_searchset_is_real_data(client, library):
    body = scenario_request("ide-approve", library)
    body["prefetch"]["medicationAdministrations"] = searchset([])
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert criteria_of(resp)["no-prior-bcma"]["status"] == "met"


def test_single_resource_and_unusable_values(client, library):
    body = scenario_request("elx-approve", library)
    body["prefetch"]["coverage"] = body["prefetch"]["coverage"]["entry"][0]["resource"]  # a bare resource
    body["prefetch"]["allergies"] = "garbage"
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200
    assert resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]["outcome"] == "likely-approved"


def test_paged_prefetch_without_fhir_server_marks_the_type_incomplete(client, library):
    body = scenario_request("ide-approve", library)
    body["prefetch"]["medicationAdministrations"] = {
        **searchset([]), "link": [{"relation": "next", "url": "https://ehr.example/fhir/next-page"}]}
    crit = criteria_of(client.post("/cds-services/pa-order-sign", json=body))
    assert crit["no-prior-bcma"]["status"] == "missing"
    assert "paged" in crit["no-prior-bcma"]["note"]


FAULTS = {
    "e500": "FHIR server answered 500",
    "e401": "not authorized (401)",
    "e403": "not authorized (403)",
    "slow": "timed out",
    "trunc": "malformed JSON",
    "notjson": "malformed JSON",
    "wrongtype": "expected a Bundle, got Patient",
    "endless": "stopped after 3 pages",
    "big": "response too large",
}


@pytest.mark.parametrize("mode", sorted(FAULTS))
def test_fhir_failures_name_the_data_that_could_not_be_read(mode, faulty, app, library):
    app.extensions["pa"].hooks.settings = app.extensions["pa"].hooks.settings  # settings from the fixture
    app.extensions["pa"].client.settings = app.extensions["pa"].client.settings.with_(fhir_max_pages=3)
    body = scenario_request("ide-approve", library, fhir_server=f"{faulty.url}/{mode}", token="tok-123")
    keep = scenario_request("ide-approve", library)["prefetch"]
    body["prefetch"] = {k: keep[k] for k in ("patient", "coverage", "user", "userRoles", "observations")}
    resp = app.test_client().post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 200, resp.json
    crit = criteria_of(resp)
    assert crit["no-cns"]["status"] == "missing"
    assert FAULTS[mode] in crit["no-cns"]["note"], crit["no-cns"]["note"]
    assert resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]["outcome"] == "documentation-needed"


@pytest.mark.parametrize("mode", ["e500", "e401", "trunc", "wrongtype"])
def test_required_data_unobtainable_from_a_failing_server_is_412(mode, faulty, client, library):
    body = scenario_request("ide-approve", library, fhir_server=f"{faulty.url}/{mode}", token="tok-123")
    resp = client.post("/cds-services/pa-order-sign", json=body)
    assert resp.status_code == 412
    assert resp.json["resourceType"] == "OperationOutcome"


def test_412_says_the_same_whatever_the_server_answered(faulty, client, library, caplog):
    """Red-team finding 1: the 412 text was a port-scan oracle (closed port, 404 and 401 told apart). Now one
    generic reason goes to the caller; the real one goes to the log."""
    texts = {}
    for name, url in {"closed port": f"http://127.0.0.1:{free_port()}/fhir", "404": f"{faulty.url}/e404",
                      "401": f"{faulty.url}/e401", "500": f"{faulty.url}/e500"}.items():
        body = scenario_request("ide-approve", library, fhir_server=url, token="t")
        resp = client.post("/cds-services/pa-order-sign", json=body)
        assert resp.status_code == 412, name
        texts[name] = resp.json["issue"][0]["diagnostics"]
    assert len(set(texts.values())) == 1, texts
    assert texts["401"] == "Required data could not be obtained: Patient, Coverage"
    logged = " ".join(str(getattr(r, "reason", "")) for r in caplog.records)
    assert "unreachable" in logged and "not found (404)" in logged and "not authorized (401)" in logged


def test_bearer_token_is_sent_and_an_empty_token_sends_none(faulty, client, library):
    _Handler.seen_auth.clear()
    client.post("/cds-services/pa-order-sign",
                json=scenario_request("ide-approve", library, fhir_server=f"{faulty.url}/ok", token="tok-abc"))
    assert _Handler.seen_auth and set(_Handler.seen_auth) == {"Bearer tok-abc"}
    _Handler.seen_auth.clear()
    client.post("/cds-services/pa-order-sign",
                json=scenario_request("ide-approve", library, fhir_server=f"{faulty.url}/ok", token=""))
    assert _Handler.seen_auth and set(_Handler.seen_auth) == {None}


def test_searches_ask_for_large_pages_and_reads_do_not(faulty, client, library):
    """Servers page by 20 by default; each page is a round trip inside the call's deadline."""
    _Handler.paths.clear()
    client.post("/cds-services/pa-order-sign",
                json=scenario_request("ide-approve", library, fhir_server=f"{faulty.url}/ok", token="t"))
    searches = [p for p in _Handler.paths if "?" in p]
    assert searches and all(p.endswith("&_count=200") for p in searches), searches
    assert any(p.endswith("/Patient/ide-approve-pt") for p in _Handler.paths)  # a read stays a plain read


def test_next_links_to_another_server_are_not_followed(faulty, client, library):
    """The bearer token only ever goes to the fhirServer the EHR named (here: another port on loopback)."""
    with FaultyFhir() as other:
        _Handler.seen_auth.clear()
        body = scenario_request("ide-approve", library)
        body.update(fhirServer=f"{faulty.url}/ok", fhirAuthorization={"access_token": "tok-x", "token_type": "Bearer"})
        body["prefetch"]["medicationAdministrations"] = {
            **searchset([]), "link": [{"relation": "next", "url": f"{other.url}/ok/steal"}]}
        del body["prefetch"]["conditions"]  # so the named server is asked for something
        _Handler.hits.clear()
        resp = client.post("/cds-services/pa-order-sign", json=body)
        assert resp.status_code == 200
        assert other.server.server_address[1] not in _Handler.hits
        assert _Handler.hits  # the named server was asked (for Conditions), so the path was live


def test_bundle_entry_cap_marks_the_type_incomplete(app, library):
    """A prefetch value larger than PA_MAX_BUNDLE_ENTRIES is cut, and negative criteria on it are not met."""
    service = app.extensions["pa"].hooks
    service.builder.settings = service.builder.settings.with_(max_bundle_entries=5)
    body = scenario_request("ide-approve", library)
    filler = [{"resourceType": "MedicationAdministration", "id": f"f{i}", "status": "completed",
               "subject": {"reference": "Patient/ide-approve-pt"}, "medicationCodeableConcept": {"text": "saline"},
               "effectiveDateTime": "2025-01-01"} for i in range(50)]
    body["prefetch"]["medicationAdministrations"] = searchset(filler)
    crit = criteria_of(app.test_client().post("/cds-services/pa-order-sign", json=body))
    assert crit["no-prior-bcma"]["status"] == "missing" and "too many entries" in crit["no-prior-bcma"]["note"]


def test_text_echoed_from_the_request_is_clipped_in_the_card(client, library):
    body = scenario_request("elx-approve", library)
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"]["coding"][0]["display"] = "Elrexfio " + "x" * 20000
    card = client.post("/cds-services/pa-order-sign", json=body).json["cards"][0]
    assert len(card["summary"]) < 140
    assert "x" * 100 not in card["detail"] and len(card["detail"]) < 20000
