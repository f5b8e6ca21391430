"""The red-team findings of issue 11, one test (or a few) per numbered finding, against the real app with real
loopback servers of the tests' own: a token-logging sink, a redirecting and a trickling FHIR server, a hung Redis.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import threading
import time
import uuid

import jwt
import pytest
from conftest import scenario_request
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from faulty_fhir import FaultyFhir, _Handler

from cdshooks import strict_json
from cdshooks.cli.sandbox import free_port
from cdshooks.ehr.profiles import public_jwk
from cdshooks.security.tokens import Issuer, fhir_server_allowed
from cdshooks.settings import Settings, SettingsError
from cdshooks.web.app import ConfigError, create_app

BASE = "https://pa.example.org"
ISS = "https://ehr.example.org"
SIGN = "/cds-services/pa-order-sign"
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def faulty():
    with FaultyFhir() as server:
        yield server


def trust_file(tmp_path, fhir_servers=None):
    rsa_no_alg = public_jwk(RSA_KEY.public_key(), "rsa-1", "RS384")
    rsa_no_alg.pop("alg", None)  # many EHRs publish RSA keys without `alg`
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [public_jwk(EC_KEY.public_key(), "ec-1", "ES384"),
                                                             rsa_no_alg]}))
    text = f"- iss: {ISS}\n  jwks_file: jwks.json\n"
    if fhir_servers:
        text += f"  fhir_servers: [{', '.join(fhir_servers)}]\n"
    (tmp_path / "trust.yaml").write_text(text)
    return tmp_path / "trust.yaml"


def trusted_app(tmp_path, fhir_servers=None, **kw):
    settings = Settings(trust_file=str(trust_file(tmp_path, fhir_servers)), public_url=BASE,
                        store_url=f"sqlite:///{tmp_path / 'store.db'}", fhir_deadline=3.0, **kw)
    return create_app(settings)


def token(*, key=EC_KEY, kid="ec-1", alg="ES384", path=SIGN, life=300, jti=None):
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + path, "iat": now, "exp": now + life, "jti": jti or str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


def signed(client, body, tok=None, path=SIGN):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {tok or token(path=path)}"})


def outcome(resp) -> str:
    return resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]["outcome"]


def criteria(resp) -> dict[str, dict]:
    return {c["id"]: c for c in resp.json["cards"][0]["extension"]["pa-advisor.evaluation"]["criteria"]}


# -- 1. SSRF and token leaks ---------------------------------------------------------------------------------

def test_1_a_fhir_server_the_issuer_does_not_own_is_refused_before_any_request(tmp_path, faulty, library):
    client = trusted_app(tmp_path, [f"{faulty.url}/ok"]).test_client()
    _Handler.sink.clear()
    body = scenario_request("elx-approve", library, fhir_server=f"{faulty.url}/sink/internal-admin",
                            token="ehr-bearer-s3cret")
    resp = signed(client, body)
    assert resp.status_code == 403, resp.json
    assert resp.json["issue"][0]["code"] == "forbidden"
    assert _Handler.sink == []  # not one request, so the token went nowhere
    # the listed base (and the base with a trailing slash) is read as usual
    for url in (f"{faulty.url}/ok", f"{faulty.url}/ok/"):
        body = scenario_request("elx-approve", library, fhir_server=url, token="ehr-bearer-s3cret")
        assert signed(client, body).status_code == 200


def test_1_without_a_list_only_https_on_the_issuers_own_host_is_allowed():
    issuer = Issuer(ISS, jwks_file="x")
    assert fhir_server_allowed(issuer, "https://ehr.example.org/fhir/r4")
    for url in ("http://ehr.example.org/fhir", "https://ehr.example.org:8443/fhir", "https://127.0.0.1/fhir",
                "https://ehr.example.org@127.0.0.1/fhir", "https://ehr.example.org.evil.test/fhir",
                "https://ehr.example.org:99999/fhir"):
        assert not fhir_server_allowed(issuer, url), url
    listed = Issuer(ISS, jwks_file="x", fhir_servers=("http://127.0.0.1:8092/fhir",))
    assert fhir_server_allowed(listed, "http://127.0.0.1:8092/fhir/")
    assert not fhir_server_allowed(listed, "http://127.0.0.1:8092/fhir/Patient")
    assert not fhir_server_allowed(listed, "https://ehr.example.org/fhir")  # a list replaces the default


def test_1_redirects_are_never_followed(faulty, client, library):
    _Handler.sink.clear()
    body = scenario_request("elx-approve", library, fhir_server=f"{faulty.url}/redirect", token="ehr-bearer-s3cret")
    resp = client.post(SIGN, json=body)
    assert resp.status_code == 412  # Patient and Coverage could not be read: the redirect was the answer
    assert _Handler.sink == []


# -- 2. One slow server must not starve anyone ---------------------------------------------------------------

@pytest.fixture
def quick_app(tmp_path):
    app = create_app(Settings(dev_mode=True, store_url=f"sqlite:///{tmp_path / 'store.db'}", fhir_deadline=2.0,
                              fhir_read_timeout=10.0))
    return app


def _prefetch_without_history(library, key="elx-approve"):
    keep = scenario_request(key, library)["prefetch"]
    return {k: keep[k] for k in ("patient", "coverage", "user", "userRoles")}


def test_2_a_trickling_server_is_cut_at_the_deadline_and_others_are_served_meanwhile(quick_app, faulty, library):
    results: dict[str, tuple[int, float]] = {}

    def run(name: str, url: str) -> None:
        body = scenario_request("elx-approve", library, fhir_server=url, token="t",
                                prefetch=_prefetch_without_history(library))
        started = time.monotonic()
        resp = quick_app.test_client().post(SIGN, json=body)
        results[name] = (resp.status_code, time.monotonic() - started)

    slow = [threading.Thread(target=run, args=(f"trickle-{i}", f"{faulty.url}/trickle")) for i in range(4)]
    for t in slow:
        t.start()
    time.sleep(0.3)  # the trickling calls hold their reads now
    run("healthy", f"{faulty.url}/ok")
    for t in slow:
        t.join(30)
    assert results["healthy"][0] == 200
    # the healthy call did not wait for the trickling ones (whose reads run to their 2 s deadline)
    assert results["healthy"][1] < min(r[1] for k, r in results.items() if k.startswith("trickle"))
    for name, (status, took) in results.items():
        assert status == 200, name
        assert took < 2.0 + 2.0, (name, took)  # PA_FHIR_DEADLINE + 2 s, whatever the server does


def test_2_order_dispatch_has_one_deadline_for_the_order_and_the_record(quick_app, faulty, library):
    s = scenario_request("elx-approve", library, hook="order-dispatch", fhir_server=f"{faulty.url}/trickle",
                         token="t", prefetch={})
    started = time.monotonic()
    resp = quick_app.test_client().post("/cds-services/pa-order-dispatch", json=s)
    assert resp.status_code == 412
    assert time.monotonic() - started < 2.0 + 2.0


# -- 3. Only the context patient's data is evidence -------------------------------------------------------------

FOREIGN_SUBJECTS = [
    {"reference": "urn:uuid:4b1f6a4e-0000-4000-8000-000000000001"},
    {"identifier": {"system": "urn:mrn", "value": "elx-approve-pt"}},
    {"display": "elx-approve-pt"},
    None,
    {"reference": "Group/elx-approve-pt"},
    {"reference": "https://other.example.org/fhir/Patient/elx-approve-pt"},
    {"reference": "Patient/someone-else/_history/1"},
    {"reference": "Patient/someone-else"},
]


def _with_condition_subject(library, subject, fhir_server=None):
    body = scenario_request("elx-approve", library)
    conditions = body["prefetch"]["conditions"]["entry"]
    for entry in conditions:
        if subject is None:
            entry["resource"].pop("subject", None)
        else:
            entry["resource"]["subject"] = subject
    if fhir_server:
        body["fhirServer"] = fhir_server
    return body


@pytest.mark.parametrize("subject", FOREIGN_SUBJECTS, ids=lambda s: json.dumps(s)[:40])
def test_3_a_condition_about_someone_else_is_not_evidence(subject, client, library):
    resp = client.post(SIGN, json=_with_condition_subject(library, subject))
    assert resp.status_code == 200
    assert criteria(resp)["dx-mm"]["status"] != "met"
    assert outcome(resp) != "likely-approved"


@pytest.mark.parametrize("subject", ["Patient/elx-approve-pt", "Patient/elx-approve-pt/_history/3",
                                     "https://ehr.example.org/fhir/Patient/elx-approve-pt"])
def test_3_the_patients_own_references_count(subject, faulty, client, library):
    # the absolute form only on the call's own fhirServer (here an open one; prefetch is complete)
    resp = client.post(SIGN, json=_with_condition_subject(library, {"reference": subject},
                                                          fhir_server="https://ehr.example.org/fhir"))
    assert resp.status_code == 200
    assert criteria(resp)["dx-mm"]["status"] == "met"
    assert outcome(resp) == "likely-approved"


def test_3_a_draft_order_for_another_patient_is_400(client, library):
    body = scenario_request("elx-approve", library)
    body["context"]["draftOrders"]["entry"][0]["resource"]["subject"] = {"reference": "Patient/someone-else"}
    resp = client.post(SIGN, json=body)
    assert resp.status_code == 400
    assert "not the context patient" in resp.json["issue"][0]["diagnostics"]


def test_3_a_duplicated_patient_id_is_400_not_last_wins(client, library):
    body = scenario_request("elx-approve", library)
    raw = json.dumps(body).replace('"patientId": "elx-approve-pt"',
                                   '"patientId": "elx-approve-pt", "patientId": "someone-else"', 1)
    resp = client.post(SIGN, data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert "duplicate key 'patientId'" in resp.json["issue"][0]["diagnostics"]


# -- 4. Strict parsing -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("birth, status", [("20081201", "missing"), ("9999-12-31", "missing"),
                                           ("2008-13-01", "missing"), ("1960-05-01", "met")])
def test_4_birth_dates_are_read_by_the_fhir_pattern_never_guessed(birth, status, client, library):
    body = scenario_request("elx-approve", library)
    body["prefetch"]["patient"]["birthDate"] = birth
    resp = client.post(SIGN, json=body)
    assert criteria(resp)["age"]["status"] == status


def test_4_a_partial_birth_date_decides_only_when_every_possible_age_agrees(client, library):
    body = scenario_request("elx-approve", library)
    authored = body["context"]["draftOrders"]["entry"][0]["resource"]["authoredOn"][:4]
    body["prefetch"]["patient"]["birthDate"] = str(int(authored) - 18)  # 17 or 18 on the order date
    assert criteria(client.post(SIGN, json=body))["age"]["status"] == "missing"
    body["prefetch"]["patient"]["birthDate"] = str(int(authored) - 40)
    assert criteria(client.post(SIGN, json=body))["age"]["status"] == "met"


BAD_BODIES = {
    "Infinity": '"value": Infinity',
    "NaN": '"value": NaN',
    "4000 digits": '"value": ' + "9" * 4000,
    "1e999": '"value": 1e999',
    "lone surrogate": '"value": "\\ud800"',
    "300 deep": '"value": ' + "[" * 300 + "]" * 300,
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
@pytest.mark.parametrize("path", [SIGN, "/cds-services/pa-order-select", "/cds-services/pa-order-sign/feedback"])
def test_4_malformed_numbers_strings_and_nesting_are_400_with_an_operation_outcome(name, path, app, library):
    hook = "order-select" if "select" in path else "order-sign"
    body = scenario_request("elx-approve", library, hook=hook)
    if path.endswith("feedback"):
        body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-11-25"}]}
    raw = json.dumps(body)[:-1] + ", " + BAD_BODIES[name] + "}"
    resp = app.test_client().post(path, data=raw, content_type="application/json")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.json["resourceType"] == "OperationOutcome"
    assert resp.json["issue"][0]["code"] == "invalid"


def test_4_a_lone_surrogate_hook_instance_is_refused_and_audited(app, library):
    raw = json.dumps(scenario_request("elx-approve", library)).replace(
        '"hookInstance": "', '"hookInstance": "\\ud800', 1)
    for path in (SIGN, "/cds-services/pa-order-select"):
        assert app.test_client().post(path, data=raw, content_type="application/json").status_code == 400
    rows = app.extensions["pa"].store.query("SELECT status FROM audit")
    assert rows == [(400,), (400,)]


def test_4_valid_surrogate_pairs_and_ordinary_numbers_still_parse():
    assert strict_json.loads(b'{"a": "\\ud83d\\ude00", "b": 1.5e3, "c": -12}') == {"a": "\U0001F600", "b": 1500.0,
                                                                                    "c": -12}
    with pytest.raises(strict_json.JsonRejected):
        strict_json.loads(b'{"a": "\\udc00\\ud83d"}')  # low then high: both alone


def test_4_settings_are_checked_with_one_line_naming_the_variable():
    with pytest.raises(SettingsError, match=r"PA_FHIR_DEADLINE='soon': expected a number"):
        Settings.from_env({"PA_FHIR_DEADLINE": "soon"})
    with pytest.raises(SettingsError, match=r"PA_MAX_ORDERS=0: expected a number above 0"):
        Settings.from_env({"PA_MAX_ORDERS": "0"})


# -- 5. Many orders --------------------------------------------------------------------------------------------

def _orders_body(library, n):
    body = scenario_request("elx-approve", library)
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    body["context"]["draftOrders"]["entry"] = [{"resource": {**copy.deepcopy(order), "id": f"o{i}"}}
                                               for i in range(n)]
    return body


def test_5_order_sets_up_to_the_cap_are_answered_and_more_are_refused_and_audited_as_sent(app, library):
    client = app.test_client()
    resp = client.post(SIGN, json=_orders_body(library, 200))
    assert resp.status_code == 200
    assert len(resp.json["cards"]) == 200 and len(resp.json["systemActions"]) == 200
    resp = client.post(SIGN, json=_orders_body(library, 2500))
    assert resp.status_code == 400
    assert "2500 orders in one call; at most 200" in resp.json["issue"][0]["diagnostics"]
    rows = app.extensions["pa"].store.query("SELECT status FROM audit ORDER BY id")
    assert rows == [(200,), (400,)]


# -- 6. Slow clients -------------------------------------------------------------------------------------------

def test_6_eight_slow_loris_clients_do_not_take_healthz_down(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cdshooks.cli.commands", "serve", "--dev", "--port", str(port)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lorises: list[socket.socket] = []
    try:
        _wait_healthy(port)
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /cds-services/pa-order-sign HTTP/1.1\r\nHost: x\r\n")  # and never finish
            lorises.append(s)
        time.sleep(0.5)
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert s.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        for s in lorises:
            s.close()
        proc.terminate()
        proc.wait(20)


def _wait_healthy(port: int) -> None:
    for _ in range(150):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service did not start")


# -- 7. Replay and token checks --------------------------------------------------------------------------------

def test_7_two_workers_share_the_default_replay_store(tmp_path, library):
    """Two apps on one store file, as two gunicorn workers are: the second refuses the first's token."""
    first, second = trusted_app(tmp_path).test_client(), trusted_app(tmp_path).test_client()
    tok = token()
    assert signed(first, scenario_request("elx-approve", library), tok).status_code == 200
    assert signed(second, scenario_request("elx-approve", library), tok).status_code == 401


def test_7_a_token_living_longer_than_a_day_is_refused_and_a_day_is_fine(tmp_path, library):
    client = trusted_app(tmp_path).test_client()
    assert signed(client, scenario_request("elx-approve", library), token(life=365 * 86400)).status_code == 401
    assert signed(client, scenario_request("elx-approve", library), token(life=86400)).status_code == 200


def test_7_an_rsa_key_without_alg_verifies_rs384(tmp_path, library):
    client = trusted_app(tmp_path).test_client()
    tok = token(key=RSA_KEY, kid="rsa-1", alg="RS384")
    assert signed(client, scenario_request("elx-approve", library), tok).status_code == 200


def test_7_trust_mode_needs_a_public_url(tmp_path):
    with pytest.raises(ConfigError, match="--public-url"):
        create_app(Settings(trust_file=str(trust_file(tmp_path)), store_url=f"sqlite:///{tmp_path / 's.db'}"))


def test_7_memory_replay_store_with_several_workers_does_not_start(tmp_path):
    env = {"PA_REPLAY_STORE": "memory", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "cdshooks.cli.commands", "serve", "--trust", str(trust_file(tmp_path)),
                           "--public-url", BASE, "--workers", "2"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("pa-advisor: cannot start: PA_REPLAY_STORE=memory")
    assert "Traceback" not in done.stderr


# -- 8. A hung Redis -------------------------------------------------------------------------------------------

class HungRedis:
    """Accepts connections and never answers (a SIGSTOPped Redis, as the kernel sees it)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for s in self.accepted:
            s.close()


def test_8_a_hung_redis_fails_closed_and_fast(tmp_path, library):
    hung = HungRedis()
    try:
        app = trusted_app(tmp_path, replay_store=f"redis://127.0.0.1:{hung.sock.getsockname()[1]}/0")
        client = app.test_client()
        statuses = [signed(client, scenario_request("elx-approve", library)).status_code for _ in range(20)]
        assert statuses == [401] * 20
        # the circuit opened after the first timeout: Redis was tried once, not twenty times
        assert len(hung.accepted) == 1
    finally:
        hung.close()
