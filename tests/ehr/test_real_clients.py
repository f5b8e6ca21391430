"""The two EHR stand-ins integrators use, played as observed (cdshooks/ehr/profiles.py): the CDS Hooks Sandbox
offline and the Da Vinci CRD request generator with its key-list `jku`, both in trust mode."""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import scenario_request
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from loopback import JsonEndpoint

from cdshooks.cli.sandbox import SandboxError, fhir_sandbox, post_fixtures, sekmet_executable
from cdshooks.ehr import profiles as clients
from cdshooks.settings import Settings
from cdshooks.web.app import create_app

BASE = "http://127.0.0.1:8080"  # the --public-url both clients call
SIGN = "/cds-services/pa-order-sign"
SANDBOX_KID = str(uuid.uuid4())
SANDBOX_KEY = ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def key_list():
    """The generator's /public_keys: a JSON array, one entry per key pair (one per page load)."""
    endpoint = JsonEndpoint("/public_keys")
    yield endpoint
    endpoint.close()


def publish(key_list, *private_keys):
    key_list.body = clients.generator_key_list(*(k.public_key() for k in private_keys))


@pytest.fixture(scope="module")
def open_fhir(tmp_path_factory):
    """The generator's FHIR server is open (it sends an empty access token): a real one, with two patients."""
    import os

    if sekmet_executable() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sekmet-fhir is not installed")
        pytest.skip("sekmet-fhir not installed")
    try:
        with fhir_sandbox(None, fixtures=False, workdir=tmp_path_factory.mktemp("open-fhir")) as base:
            loaded = dict(post_fixtures(base, None, keys=("elx-approve", "ide-approve")))
            assert all(status < 300 for status in loaded.values()), loaded
            yield base
    except SandboxError as exc:
        pytest.fail(str(exc))


def trusting_both(tmp_path, key_list, open_fhir, **settings):
    """A trust-mode service trusting the Sandbox (its JWKS file) and the generator (its key list)."""
    (tmp_path / "sandbox-jwks.json").write_text(json.dumps(
        {"keys": [clients.public_jwk(SANDBOX_KEY.public_key(), SANDBOX_KID, "ES384")]}))
    (tmp_path / "trust.yaml").write_text(
        f"- iss: {clients.SANDBOX_ISS}\n  jku: {clients.SANDBOX_JKU}\n  jwks_file: sandbox-jwks.json\n"
        f"- iss: {open_fhir}\n  jku: {key_list.url}\n  jku_format: key-list\n  algorithms: [RS256]\n"
        f"  fhir_servers: [{open_fhir}]\n")
    app = create_app(Settings(trust_file=str(tmp_path / "trust.yaml"), public_url=BASE, jwks_refresh_cooldown=0,
                              store_url=f"sqlite:///{tmp_path / 'store.db'}", **settings))
    return app.test_client()


@pytest.fixture
def trusted(tmp_path, key_list, open_fhir):
    return trusting_both(tmp_path, key_list, open_fhir)


def sandbox_call(client, library, key="elx-approve", token=None, user_specialty=("207RX0202X", "Medical Oncology")):
    user = {"resourceType": "Practitioner", "id": "COREPRACTITIONER1", "name": [{"family": "Core"}]}
    role = {"resourceType": "PractitionerRole", "id": "core-role",
            "practitioner": {"reference": clients.SANDBOX_USER},
            "specialty": [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": user_specialty[0],
                                       "display": user_specialty[1]}]}]}
    body = clients.sandbox_body(scenario_request(key, library), user_resources=(user, role))
    tok = token or clients.sandbox_token(SANDBOX_KEY, SANDBOX_KID, BASE + SIGN)
    return client.post(SIGN, json=body, headers={"Authorization": f"Bearer {tok}"})


def test_the_sandbox_token_verifies_from_the_local_jwks_without_any_fetch(trusted, library):
    # The Sandbox's jku (sandbox.cds-hooks.org) is unreachable here: a 200 proves nothing was fetched.
    resp = sandbox_call(trusted, library)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    card = resp.json["cards"][0]
    assert card["extension"]["pa-advisor.evaluation"]["outcome"] == "likely-approved"


def test_the_sandbox_order_with_single_object_category_gets_its_card_but_no_system_action(trusted, library):
    resp = sandbox_call(trusted, library)
    assert resp.status_code == 200 and len(resp.json["cards"]) == 1
    assert "systemActions" not in resp.json  # the order is not valid R4: never sent back


def test_without_a_requester_the_signing_user_is_the_prescriber(trusted, library):
    ev = sandbox_call(trusted, library).json["cards"][0]["extension"]["pa-advisor.evaluation"]
    (prescriber,) = [c for c in ev["criteria"] if c["id"] == "prescriber"]
    assert prescriber["status"] == "met" and "signing user" in prescriber["evidence"][0]["text"]
    ev = sandbox_call(trusted, library, user_specialty=("207Q00000X", "Family Medicine")).json["cards"][0][
        "extension"]["pa-advisor.evaluation"]
    (prescriber,) = [c for c in ev["criteria"] if c["id"] == "prescriber"]
    assert prescriber["status"] == "missing" and "Family Medicine" in prescriber["evidence"][0]["text"]


def test_a_malformed_element_the_evaluation_reads_is_still_400(trusted, library):
    body = clients.sandbox_body(scenario_request("elx-approve", library))
    body["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"] = {"text": "76 mg weekly"}
    tok = clients.sandbox_token(SANDBOX_KEY, SANDBOX_KID, BASE + SIGN)
    resp = trusted.post(SIGN, json=body, headers={"Authorization": f"Bearer {tok}"})
    assert resp.status_code == 400 and "dosageInstruction" in resp.json["issue"][0]["diagnostics"]


def generator_call(client, library, open_fhir, key_list, key, scenario="elx-approve", **kw):
    body = scenario_request(scenario, library, fhir_server=open_fhir, token="")
    body["prefetch"] = scenario_request(scenario, library)["prefetch"]
    body = clients.generator_body(body)
    tok = kw.get("token") or clients.generator_token(key, kw.get("jku", key_list.url), open_fhir, BASE + SIGN)
    return client.post(SIGN, json=body, headers={"Authorization": f"Bearer {tok}"})


def test_the_generator_key_list_verifies_and_a_new_key_pair_per_page_load_is_fetched(trusted, library, open_fhir,
                                                                                     key_list):
    first, second = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    publish(key_list, first)
    resp = generator_call(trusted, library, open_fhir, key_list, first)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]["outcome"] == "likely-approved"
    assert resp.json["systemActions"]  # a valid R4 order goes back with its coverage-information
    publish(key_list, first, second)  # the tester reloaded the page
    before = key_list.fetches
    assert generator_call(trusted, library, open_fhir, key_list, second).status_code == 200
    assert key_list.fetches == before + 1  # the unknown kid made the service fetch the list again


def test_assertion_ids_are_distinct_per_order_and_per_evaluation(trusted, library, open_fhir, key_list):
    key = rsa.generate_private_key(65537, 2048)
    publish(key_list, key)
    ids = []
    for _ in range(2):  # the generator re-signs with its constant hookInstance
        resp = generator_call(trusted, library, open_fhir, key_list, key)
        for action in resp.json["systemActions"]:
            info = action["resource"]["extension"][-1]["extension"]
            ids += [e["valueString"] for e in info if e["url"] == "coverage-assertion-id"]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_two_orders_in_one_call_get_two_assertion_ids(client, library):
    body = scenario_request("elx-approve", library)
    second = json.loads(json.dumps(body["context"]["draftOrders"]["entry"][0]["resource"]))
    second["id"] = "elx-approve-order-2"
    body["context"]["draftOrders"]["entry"].append({"resource": second})
    resp = client.post(SIGN, json=body)
    ids = {e["valueString"] for a in resp.json["systemActions"] for e in a["resource"]["extension"][-1]["extension"]
           if e["url"] == "coverage-assertion-id"}
    assert len(resp.json["systemActions"]) == 2 and len(ids) == 2


@pytest.mark.parametrize("case, logged", [
    ("other-jku", "jku:"), ("unknown-kid", "kid:"), ("rs256-not-allowed", "alg: RS256 is not allowed"),
    ("wrong-aud", "aud: expected 'http://127.0.0.1:8080/cds-services/pa-order-sign', received"),
])
def test_refusals_are_401_and_log_the_first_failing_check(case, logged, trusted, library, open_fhir, key_list,
                                                          caplog):
    key = rsa.generate_private_key(65537, 2048)
    publish(key_list, key)
    if case == "other-jku":
        resp = generator_call(trusted, library, open_fhir, key_list, key, jku="http://127.0.0.1:9/public_keys")
    elif case == "unknown-kid":
        stranger = rsa.generate_private_key(65537, 2048)  # never published in the key list
        resp = generator_call(trusted, library, open_fhir, key_list, stranger)
    elif case == "rs256-not-allowed":  # the Sandbox's entry allows ES384/RS384 only
        import jwt

        tok = jwt.encode({"iss": clients.SANDBOX_ISS, "aud": BASE + SIGN, "iat": 0, "exp": 2 ** 31, "jti": "x"},
                         rsa.generate_private_key(65537, 2048), algorithm="RS256", headers={"kid": SANDBOX_KID})
        resp = sandbox_call(trusted, library, token=tok)
    else:
        tok = clients.sandbox_token(SANDBOX_KEY, SANDBOX_KID, "http://localhost:8080" + SIGN)
        resp = sandbox_call(trusted, library, token=tok)
    assert resp.status_code == 401
    assert "diagnostics" not in resp.get_data(as_text=True)
    reasons = [getattr(r, "reason", "") for r in caplog.records if r.getMessage() == "JWT refused"]
    assert reasons and reasons[0].startswith(logged.split(" ")[0]) and logged in reasons[0], reasons


def test_the_cli_signs_its_calls_for_a_trust_mode_service(tmp_path):
    """`pa-advisor hook --sign-key` builds tokens the service accepts (checked with the same verifier)."""
    from cdshooks.cli.ehr_cli import Signer
    from cdshooks.security.tokens import MemoryReplayCache, Verifier, load_trust

    key = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "key.jwk").write_text(json.dumps({**clients.public_jwk(key.public_key(), "cli-1"),
                                                  "d": _private_d(key)}))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [clients.public_jwk(key.public_key(), "cli-1")]}))
    (tmp_path / "trust.yaml").write_text("- iss: https://cli.example\n  jwks_file: jwks.json\n")
    signer = Signer.from_file(str(tmp_path / "key.jwk"), "https://cli.example", None, BASE)
    token = signer.headers(SIGN)["Authorization"].removeprefix("Bearer ")
    claims = Verifier(load_trust(tmp_path / "trust.yaml"), MemoryReplayCache()).verify(token, BASE + SIGN)
    assert claims["iss"] == "https://cli.example" and signer.alg == "ES384" and signer.kid == "cli-1"


def _private_d(key) -> str:
    import base64

    d = key.private_numbers().private_value.to_bytes(48, "big")
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()





def test_a_single_object_reason_code_from_the_sandbox_is_still_read(trusted, library):
    resp = sandbox_call(trusted, library, key="elx-amyloid")
    assert resp.status_code == 200
    ev = resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]
    (dx,) = [c for c in ev["criteria"] if c["id"] == "dx-mm"]
    assert dx["status"] == "not-met" and "amyloidosis" in dx["evidence"][0]["text"]
    assert ev["referrals"] and "LA.PMN.53" in ev["referrals"][0]


def test_both_clients_get_the_documentation_launch_and_the_suggestions(tmp_path, library, open_fhir, key_list):
    """With the EHR's DTR app configured, a documentation-needed card carries the SMART launch and the lab-order
    suggestion for both real clients, in the shapes they display (links with label/url/type, suggestions)."""
    client = trusting_both(tmp_path, key_list, open_fhir, dtr_app_url="https://dtr.example/launch")
    key = rsa.generate_private_key(65537, 2048)
    publish(key_list, key)
    # The generator reads what its own prefetch lacks (the Coverage) from its open FHIR server: the patient is there.
    assert all(status < 300 for _, status in post_fixtures(open_fhir, None, keys=("elx-mp049",)))
    for resp in (sandbox_call(client, library, "elx-mp049"),
                 generator_call(client, library, open_fhir, key_list, key, scenario="elx-mp049")):
        assert resp.status_code == 200, resp.get_data(as_text=True)
        (card,) = resp.json["cards"]
        launch = card["links"][0]
        assert (launch["type"], launch["url"], launch["label"]) == ("smart", "https://dtr.example/launch",
                                                                    "Complete the documentation")
        assert "context=" in launch["appContext"] and "questionnaire=" in launch["appContext"]
        labels = [s["label"] for s in card["suggestions"]]
        # The serum M-protein is in the record (below the threshold): the other results of I.A.5.a are offered.
        assert "Order 24-h urine M-protein (I.A.5.a.ii)" in labels, labels
        assert card["selectionBehavior"] == "at-most-one"
