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
