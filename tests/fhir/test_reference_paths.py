"""References that try to leave the FHIR server's base path, and reference types a caller chose (issue #24): the
EHR token reaches only `{base}/Type/id` of the types we read, a `next` link stays under the base segment by segment,
and the FHIR metrics carry a fixed set of labels. Against a real loopback HTTP server that records every path."""

from __future__ import annotations

import copy

import pytest
from conftest import scenario_request
from faulty_fhir import FaultyFhir, _Handler

from cdshooks.fhir.client import under
from cdshooks.metrics import Metrics

SIGN = "/cds-services/pa-order-sign"


@pytest.fixture(scope="module")
def recorder():
    with FaultyFhir() as server:
        yield server


@pytest.mark.parametrize("ref", ["../admin/x", "Practitioner/..", "Practitioner/../../x", "../../x",
                                 "Practitioner/%2e%2e", "Binary/1", "Xyzzy/1", "Practitioner/a/b"])
def test_a_hostile_requester_reference_never_takes_the_token_out_of_the_base_path(client, library, recorder, ref):
    base = f"{recorder.url}/ok/fhir"
    body = scenario_request("elx-approve", library)
    body.update(fhirServer=base, fhirAuthorization={"access_token": "t0k", "token_type": "Bearer",
                                                    "expires_in": 300, "scope": "patient/*.read", "subject": "x"})
    body["context"]["draftOrders"]["entry"][0]["resource"]["requester"] = {"reference": ref}
    del body["context"]["userId"]
    before = len(_Handler.paths)
    response = client.post(SIGN, json=body)
    assert response.status_code in (200, 400), response.json
    for path in _Handler.paths[before:]:
        segments = path.split("?")[0].lower().split("/")
        assert path.startswith("/ok/fhir/") and not {"..", ".", "%2e%2e", "%2e"} & set(segments), path
        assert not path.startswith(("/ok/fhir/Binary", "/ok/fhir/Xyzzy")), path


@pytest.mark.parametrize("url, ok", [
    ("http://h/fhir/Observation?page=2", True),
    ("http://h/fhir", True),
    ("http://h/fhir/../admin", False),
    ("http://h/fhir/%2E%2E/admin", False),
    ("http://h/fhirx/Observation", False),
    ("http://h/fhir/./Observation", False),
    ("http://other/fhir/Observation", False),
    ("https://h/fhir/Observation", False),
])
def test_under_the_base_is_segment_by_segment(url, ok):
    assert under(url, "http://h/fhir") is ok


def test_a_next_link_out_of_the_base_path_is_not_followed(client, library, recorder):
    base = f"{recorder.url}/ok/fhir"
    body = scenario_request("elx-approve", library)
    body["fhirServer"] = base
    page = copy.deepcopy(body["prefetch"]["conditions"])
    page["link"] = [{"relation": "next", "url": f"{base}/../sink/steal"}]
    body["prefetch"]["conditions"] = page
    before = len(_Handler.sink)
    assert client.post(SIGN, json=body).status_code == 200
    assert len(_Handler.sink) == before


def test_fhir_metric_labels_come_from_a_fixed_set():
    m = Metrics()
    for rtype in ("Patient", "Xyzzy", "Evil123", "a" * 30, "Patient/../x"):
        m.fhir(rtype, 0.01, "timeout")
    from prometheus_client import generate_latest

    text = generate_latest(m.registry).decode()  # this process's registry (render() sums gunicorn workers)
    assert 'resource="Patient"' in text and 'resource="other"' in text
    assert "Xyzzy" not in text and "Evil123" not in text and "aaaa" not in text
