"""A patient with a distinctive name and identifier, and a distinctive token, go through every path — success,
FHIR server, each error — and none of them appears in any log line."""

from __future__ import annotations

import io
import json
import logging

import pytest
from conftest import FHIR_TOKEN, scenario_request

from cdshooks.logs import JsonFormatter, logger

NAME, MRN, TOKEN = "Zebediah", "MRN-ZQ-998877", "tok-SECRET-5150"


@pytest.fixture
def log_text():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    logger.addHandler(handler)
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    root.removeHandler(handler)
    root.setLevel(old)


def distinctive(body: dict) -> dict:
    patient = body["prefetch"]["patient"]
    patient["name"] = [{"family": "Quillfeather", "given": [NAME]}]
    patient["identifier"] = [{"system": "urn:mrn", "value": MRN}]
    return body


def test_no_name_identifier_or_token_in_any_log_line(client, library, log_text, fhir_server):
    calls = []
    ok = distinctive(scenario_request("elx-approve", library))
    calls.append(ok)
    with_token = distinctive(scenario_request("elx-approve", library))
    with_token.update(fhirServer=fhir_server, fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer"})
    calls.append(with_token)  # the FHIR server refuses this token: 401 inside, names nothing
    partial = distinctive(scenario_request("elx-approve", library))
    del partial["prefetch"]["conditions"]
    partial.update(fhirServer=fhir_server, fhirAuthorization={"access_token": FHIR_TOKEN, "token_type": "Bearer"})
    calls.append(partial)
    bad_schema = distinctive(scenario_request("elx-approve", library))
    bad_schema["context"]["patientId"] = {"name": NAME, "mrn": MRN}
    calls.append(bad_schema)
    no_data = distinctive(scenario_request("elx-approve", library))
    no_data["prefetch"] = {"patient": {"resourceType": "OperationOutcome", "issue": [{"diagnostics": NAME}]}}
    calls.append(no_data)
    for body in calls:
        client.post("/cds-services/pa-order-sign", json=body)
        client.post("/cds-services/pa-order-dispatch", json=body)
    client.post("/cds-services/pa-order-sign", data=json.dumps(ok)[:-5], content_type="application/json")
    client.post("/cds-services/pa-order-sign/feedback", json={"feedback": [{"card": NAME, "outcome": "accepted",
                                                                            "outcomeTimestamp": MRN}]})
    client.get(f"/cds-services/{NAME}")
    text = log_text.getvalue()
    assert "hook call" in text and "feedback stored" in text  # the logs did capture the calls
    for secret in (NAME, "Quillfeather", MRN, TOKEN, FHIR_TOKEN):
        assert secret not in text, secret


def test_a_free_text_hook_instance_is_logged_and_audited_only_by_its_shape(client, library, app, log_text):
    """hookInstance is meant to be a uuid; a caller may put anything there (issue #24)."""
    body = scenario_request("elx-approve", library)
    body["hookInstance"] = free = f"{NAME} {MRN} admitted"
    assert client.post("/cds-services/pa-order-sign", json=body).status_code == 200
    text = log_text.getvalue()
    assert NAME not in text and MRN not in text and f'"hook_instance": "text({len(free)})"' in text
    rows = app.extensions["pa"].store.query("SELECT hook_instance FROM audit")
    assert (f"text({len(free)})",) in rows and not any(NAME in r[0] for r in rows)
    body["hookInstance"] = "d0e1c2b3-a4f5-4678-9abc-def012345678"  # a uuid is random: kept for correlation
    client.post("/cds-services/pa-order-sign", json=body)
    assert '"hook_instance": "d0e1c2b3-a4f5-4678-9abc-def012345678"' in log_text.getvalue()


def test_the_dtr_contexts_kept_per_call_are_capped(client, library, app):
    from cdshooks.web.api import MAX_CONTEXTS_PER_CALL

    body = scenario_request("elx-approve", library)
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    body["context"]["draftOrders"]["entry"] = [{"resource": {**order, "id": f"o{i}"}} for i in range(30)]
    before = app.extensions["pa"].store.query("SELECT COUNT(*) FROM dtr_context")[0][0]
    response = client.post("/cds-services/pa-order-sign", json=body)
    assert response.status_code == 200 and len(response.json["cards"]) == 30
    after = app.extensions["pa"].store.query("SELECT COUNT(*) FROM dtr_context")[0][0]
    assert after - before == MAX_CONTEXTS_PER_CALL
