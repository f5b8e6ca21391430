"""EHR JWT verification with real signed tokens (ES384 and RS384 keys made here), JWKS from a file and from a
jku served on loopback, replay protection in-process and shared through Redis."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import jwt
import pytest
from conftest import scenario_request
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from loopback import JsonEndpoint

from cdshooks.ehr.profiles import public_jwk as jwk
from cdshooks.settings import Settings
from cdshooks.web.app import ConfigError, create_app

BASE = "https://pa.example.org"
ISS = "https://ehr.example.org"
REDIS_URL = os.environ.get("PA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def keys():
    return {"ec": ec.generate_private_key(ec.SECP384R1()), "rsa": rsa.generate_private_key(65537, 2048),
            "other": ec.generate_private_key(ec.SECP384R1())}


@pytest.fixture(scope="module")
def jku_server():
    endpoint = JsonEndpoint("/jwks.json")
    yield endpoint
    endpoint.close()


@pytest.fixture
def trust(tmp_path, keys, jku_server):
    (tmp_path / "ehr-jwks.json").write_text(json.dumps({"keys": [jwk(keys["ec"].public_key(), "ec-1", "ES384"),
                                                                  jwk(keys["rsa"].public_key(), "rsa-1", "RS384")]}))
    jku_server.body = {"keys": [jwk(keys["ec"].public_key(), "jku-1", "ES384")]}
    (tmp_path / "trust.yaml").write_text(
        f"- iss: {ISS}\n  jwks_file: ehr-jwks.json\n"
        f"- iss: https://fetching-ehr.example.org\n  jku: {jku_server.url}\n")
    return tmp_path / "trust.yaml"


def make_app(tmp_path, trust, **kw):
    kw.setdefault("jwks_refresh_cooldown", 0)
    settings = Settings(dev_mode=False, trust_file=str(trust), public_url=BASE,
                        store_url=f"sqlite:///{tmp_path / 'store.db'}", **kw)
    return create_app(settings)


@pytest.fixture
def secured(tmp_path, trust):
    return make_app(tmp_path, trust).test_client()


def token(key, *, kid="ec-1", alg="ES384", iss=ISS, aud=f"{BASE}/cds-services/pa-order-sign", exp_in=300,
          jti=None, headers=None, **claims):
    now = int(time.time())
    payload = {"iss": iss, "aud": aud, "exp": now + exp_in, "iat": now, "jti": jti or str(uuid.uuid4()), **claims}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": "JWT", **(headers or {})})


def call(client, library, tok, path="/cds-services/pa-order-sign"):
    headers = {"Authorization": f"Bearer {tok}"} if tok is not None else {}
    return client.post(path, json=scenario_request("elx-approve", library), headers=headers)


def test_valid_es384_and_rs384_tokens_are_accepted(secured, keys, library):
    assert call(secured, library, token(keys["ec"])).status_code == 200
    assert call(secured, library, token(keys["rsa"], kid="rsa-1", alg="RS384")).status_code == 200


def test_aud_tolerates_a_trailing_slash_and_discovery_and_feedback_need_their_own_aud(secured, keys, library):
    assert call(secured, library, token(keys["ec"], aud=f"{BASE}/cds-services/pa-order-sign/")).status_code == 200
    def bearer(aud):
        return {"Authorization": f"Bearer {token(keys['ec'], aud=aud)}"}

    assert secured.get("/cds-services", headers=bearer(f"{BASE}/cds-services")).status_code == 200
    assert secured.get("/cds-services").status_code == 401
    item = {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-20T00:00:00Z"}
    fb = secured.post("/cds-services/pa-order-sign/feedback", json={"feedback": [item]},
                      headers=bearer(f"{BASE}/cds-services/pa-order-sign/feedback"))
    assert fb.status_code == 200


@pytest.mark.parametrize("case", ["no-token", "wrong-aud", "wrong-iss", "expired", "future-iat", "none", "hs256",
                                  "unknown-kid", "no-kid", "jku-not-allowlisted", "wrong-key", "garbage", "no-jti",
                                  "es256-not-allowed"])
def test_untrusted_tokens_get_401_with_no_detail(case, secured, keys, library, caplog):
    ec_key = keys["ec"]
    tok = {
        "no-token": None,
        "wrong-aud": lambda: token(ec_key, aud=f"{BASE}/cds-services/pa-order-select"),
        "wrong-iss": lambda: token(ec_key, iss="https://evil.example.org"),
        "expired": lambda: token(ec_key, exp_in=-3600),
        "future-iat": lambda: token(ec_key, iat=int(time.time()) + 3600),
        "none": lambda: jwt.encode({"iss": ISS, "aud": f"{BASE}/cds-services/pa-order-sign", "exp": time.time() + 300,
                                    "iat": time.time(), "jti": "x"}, None, algorithm="none", headers={"kid": "ec-1"}),
        "hs256": lambda: jwt.encode({"iss": ISS, "aud": f"{BASE}/cds-services/pa-order-sign", "exp": time.time() + 300,
                                     "iat": time.time(), "jti": "y"}, "secret-secret-secret-secret-32b!",
                                    algorithm="HS256", headers={"kid": "ec-1"}),
        "unknown-kid": lambda: token(ec_key, kid="nope"),
        "no-kid": lambda: jwt.encode({"iss": ISS}, ec_key, algorithm="ES384"),
        "jku-not-allowlisted": lambda: token(ec_key, headers={"jku": "https://evil.example.org/jwks.json"}),
        "wrong-key": lambda: token(keys["other"]),
        "garbage": lambda: "not.a.jwt",
        "no-jti": lambda: jwt.encode({"iss": ISS, "aud": f"{BASE}/cds-services/pa-order-sign",
                                      "exp": int(time.time()) + 300, "iat": int(time.time())}, ec_key,
                                     algorithm="ES384", headers={"kid": "ec-1"}),
        "es256-not-allowed": lambda: jwt.encode({"iss": ISS, "aud": f"{BASE}/cds-services/pa-order-sign",
                                                 "exp": int(time.time()) + 300, "iat": int(time.time()), "jti": "z"},
                                                ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                                                headers={"kid": "ec-1"}),
    }[case]
    raw = tok() if tok else None
    resp = call(secured, library, raw)
    assert resp.status_code == 401
    assert "diagnostics" not in resp.get_data(as_text=True)
    if raw:
        assert raw not in caplog.text  # the reason is logged, the token never
    # The log names the first failing check.
    check = {"no-token": "no bearer", "wrong-aud": "aud: expected", "wrong-iss": "iss:", "expired": "exp:",
             "future-iat": "iat", "none": "alg:", "hs256": "alg:", "unknown-kid": "kid:", "no-kid": "kid:",
             "jku-not-allowlisted": "jku:", "wrong-key": "signature:", "garbage": "malformed",
             "no-jti": "jti: missing", "es256-not-allowed": "alg: ES256 is not allowed"}[case]
    reasons = [getattr(r, "reason", "") for r in caplog.records if r.getMessage() == "JWT refused"]
    assert reasons and reasons[0].startswith(check), (case, reasons)


def test_replayed_jti_is_refused(secured, keys, library):
    tok = token(keys["ec"])
    assert call(secured, library, tok).status_code == 200
    assert call(secured, library, tok).status_code == 401


def test_a_24_hour_token_is_accepted(secured, keys, library):
    assert call(secured, library, token(keys["ec"], exp_in=24 * 3600)).status_code == 200


def test_keys_come_from_the_jku_and_an_unknown_kid_refreshes_the_set(secured, keys, library, jku_server):
    iss = "https://fetching-ehr.example.org"
    ok = token(keys["ec"], kid="jku-1", iss=iss, headers={"jku": jku_server.url})
    assert call(secured, library, ok).status_code == 200
    # the EHR rotates its key: the new kid is not in the cached set, so the set is fetched again
    jku_server.body = {"keys": [jwk(keys["other"].public_key(), "jku-2", "ES384")]}
    before = jku_server.fetches
    rotated = token(keys["other"], kid="jku-2", iss=iss)
    assert call(secured, library, rotated).status_code == 200
    assert jku_server.fetches == before + 1


def test_cors_preflight_and_health_need_no_token(secured):
    pre = secured.open("/cds-services/pa-order-sign", method="OPTIONS",
                       headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200 and "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    assert secured.get("/healthz").status_code == 200


def test_open_discovery_is_opt_in(tmp_path, trust):
    client = make_app(tmp_path, trust, open_discovery=True).test_client()
    assert client.get("/cds-services").status_code == 200
    assert client.post("/cds-services/pa-order-sign", json={}).status_code == 401


def test_bad_trust_files_stop_start_up(tmp_path):
    for text, message in [("- iss: x\n", "give `jku`, `jwks_file`, or both"), ("[]", "list of issuers"),
                          ("- iss: x\n  jku: https://x/k\n  jku_format: pem\n", "jku_format"),
                          ("- iss: x\n  jwks_file: missing.json\n", "cannot read JWK Set"),
                          ("- iss: x\n  jku: https://x/jwks\n  algorithms: [HS256]\n", "asymmetric")]:
        (tmp_path / "t.yaml").write_text(text)
        with pytest.raises(ConfigError, match=message):
            make_app(tmp_path, tmp_path / "t.yaml")


def _redis_or_skip():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis must be reachable under CI at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}; CI runs this test")


def test_replay_is_caught_across_workers_through_redis(tmp_path, trust, keys, library):
    """Two app instances (as two gunicorn workers would be) share the jti store."""
    _redis_or_skip()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_app(tmp_path / "a", trust, replay_store=REDIS_URL).test_client()
    second = make_app(tmp_path / "b", trust, replay_store=REDIS_URL).test_client()
    tok = token(keys["ec"])
    assert call(first, library, tok).status_code == 200
    assert call(second, library, tok).status_code == 401
    # with the default in-process store, a second instance would not know the jti
    alone = make_app(tmp_path / "b", trust).test_client()
    assert call(alone, library, tok).status_code == 200


def test_audit_records_iss_and_jti(tmp_path, trust, keys, library):
    app = make_app(tmp_path, trust)
    jti = str(uuid.uuid4())
    assert call(app.test_client(), library, token(keys["ec"], jti=jti)).status_code == 200
    rows = app.extensions["pa"].store.query("SELECT jwt_iss, jwt_jti FROM audit")
    assert rows == [(ISS, jti)]


def test_trust_file_path_is_relative_to_the_file(tmp_path, trust):
    assert Path(trust).parent == tmp_path


def test_an_unreachable_replay_store_refuses_the_call_instead_of_failing(tmp_path, trust, keys, library):
    """Redis down: jti freshness cannot be checked, so the call is refused (401, reason logged), never a 500."""
    from cdshooks.cli.sandbox import free_port

    client = make_app(tmp_path, trust, replay_store=f"redis://127.0.0.1:{free_port()}/0").test_client()
    assert call(client, library, token(keys["ec"])).status_code == 401


def test_readyz_is_not_ready_while_the_replay_store_is_down(tmp_path, trust, keys, library):
    """Every trust-mode call needs the replay store: /readyz says so (503) instead of "ready" while all calls are
    refused (issue #24)."""
    from cdshooks.cli.sandbox import free_port

    (tmp_path / "down").mkdir()
    down = make_app(tmp_path / "down", trust, replay_store=f"redis://127.0.0.1:{free_port()}/0").test_client()
    r = down.get("/readyz")
    assert r.status_code == 503 and r.json["replay_store"] == "unreachable" and r.json["status"] == "not-ready"
    assert call(down, library, token(keys["ec"])).status_code == 401  # and indeed every call is refused


def test_readyz_is_ready_with_a_reachable_replay_store(tmp_path, trust):
    _redis_or_skip()
    up = make_app(tmp_path, trust, replay_store=REDIS_URL).test_client()
    r = up.get("/readyz")
    assert r.status_code == 200 and r.json["replay_store"] == "ok"
    (tmp_path / "store").mkdir()
    assert make_app(tmp_path / "store", trust).test_client().get("/readyz").json["replay_store"] == "ok"


def test_a_refused_tokens_kid_and_the_callers_path_are_logged_only_by_shape(secured, keys, library, caplog):
    """A kid or a URL path is the caller's free text: the log keeps its shape and the route, never the text."""
    secret = "Zebediah-MRN-998877"
    with caplog.at_level("INFO", logger="pa_advisor"):
        assert call(secured, library, token(keys["ec"], kid=secret)).status_code == 401
        # no such service: a 404 before any token check, and the path is never echoed into a log
        assert call(secured, library, token(keys["ec"]), path=f"/cds-services/{secret}").status_code == 404
        assert call(secured, library, "not-a-jwt").status_code == 401
    logged = [(r.getMessage(), getattr(r, "reason", ""), getattr(r, "path", "")) for r in caplog.records]
    assert secret not in repr(logged), logged
    assert any(f"text({len(secret)})" in reason for _, reason, _ in logged), logged
    assert all(path == "/cds-services/<service_id>" for _, _, path in logged if path), logged


def test_forged_kids_cannot_storm_a_failing_jku_or_stall_real_calls(tmp_path, keys, library, jku_server):
    """Issue #24: while an issuer's jku is down (or slow), forged tokens with random kids make at most one fetch at
    a time and back off; a token whose kid is known is answered from the cache meanwhile."""
    import threading

    iss = "https://fetching-ehr.example.org"
    jku_server.status, jku_server.hold = 200, None
    jku_server.body = {"keys": [jwk(keys["ec"].public_key(), "jku-1", "ES384")]}
    (tmp_path / "t.yaml").write_text(f"- iss: {iss}\n  jku: {jku_server.url}\n")
    client = make_app(tmp_path, tmp_path / "t.yaml").test_client()
    real = lambda: call(client, library, token(keys["ec"], kid="jku-1", iss=iss))  # noqa: E731
    assert real().status_code == 200
    fetched = jku_server.fetches
    # The jku goes down and hangs: the first forged kid starts a fetch that waits on the server ...
    jku_server.status, jku_server.hold = 500, threading.Event()
    forged = [threading.Thread(target=call, args=(client, library, token(keys["other"], kid=f"x{i}", iss=iss)))
              for i in range(16)]
    for t in forged:
        t.start()
    for _ in range(200):
        if jku_server.fetches > fetched:
            break
        threading.Event().wait(0.01)
    # ... and while it is in flight, a real call with the known kid is answered from the cache
    assert real().status_code == 200
    jku_server.hold.set()
    for t in forged:
        t.join(10)
    assert jku_server.fetches == fetched + 1, "one fetch for sixteen forged tokens"
    # after the failure it backs off: more forged tokens make no fetch at all
    for i in range(20):
        assert call(client, library, token(keys["other"], kid=f"y{i}", iss=iss)).status_code == 401
    assert jku_server.fetches == fetched + 1
    jku_server.status, jku_server.hold = 200, None
