"""The production shape on one machine: two `pa-advisor serve` instances in trust mode behind nginx (Debian's
package) as load balancer, sharing PostgreSQL (store) and Redis (replay cache). Real processes, real HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from backing import PG_URL, REDIS_URL, needs, postgres_or_skip, redis_or_skip
from conftest import SCENARIOS, scenario_request
from cryptography.hazmat.primitives.asymmetric import ec
from loopback import CLI, wait_until_up

from cdshooks.cli.sandbox import free_port
from cdshooks.ehr.profiles import public_jwk
from cdshooks.store import Store

ISS = "https://ehr.example.org"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    needs(Path(NGINX).exists(), "nginx (apt-get install nginx)")
    postgres_or_skip()
    redis_or_skip()
    work = tmp_path_factory.mktemp("scale-out")
    key = ec.generate_private_key(ec.SECP384R1())
    (work / "jwks.json").write_text(json.dumps({"keys": [public_jwk(key.public_key(), "k1", "ES384")]}))
    (work / "trust.yaml").write_text(f"- iss: {ISS}\n  jwks_file: jwks.json\n")
    front = free_port()
    public = f"http://127.0.0.1:{front}"
    ports = [free_port(), free_port()]
    env = {**os.environ, "PA_STORE_URL": PG_URL, "PA_REPLAY_STORE": REDIS_URL, "PA_AUDIT_RETENTION_DAYS": "36500"}
    env.pop("PA_DEV_MODE", None)
    procs = []
    for i, port in enumerate(ports):
        log = open(work / f"instance{i}.log", "wb")
        procs.append(subprocess.Popen(
            [*CLI, "serve", "--trust",
             str(work / "trust.yaml"), "--public-url", public, "--port", str(port), "--workers", "2"],
            cwd=work, env={**env, "PA_METRICS_DIR": str(work / f"metrics{i}")}, stdout=log, stderr=log))
    (work / "nginx.conf").write_text(f"""
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
    uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    upstream pa_advisor {{ server 127.0.0.1:{ports[0]}; server 127.0.0.1:{ports[1]}; }}
    server {{
        listen 127.0.0.1:{front};
        client_max_body_size 5m;
        client_body_buffer_size 5m;      # whole requests in memory (nginx workers may not write here)
        proxy_max_temp_file_size 0;
        location / {{ proxy_pass http://pa_advisor; proxy_set_header Host $host; }}
    }}
}}
""")
    nginx = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
        wait_until_up(f"{public}/healthz", nginx)
        yield {"public": public, "direct": [f"http://127.0.0.1:{p}" for p in ports], "key": key}
    finally:
        for proc in [nginx, *procs]:
            proc.terminate()
        for proc in [nginx, *procs]:
            proc.wait(timeout=30)


def token(key, public: str, path: str) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": f"{public}{path}", "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": "k1", "typ": "JWT"})


def sign(cluster, base: str, library, key: str = "elx-approve", tok: str | None = None) -> requests.Response:
    path = "/cds-services/pa-order-sign"
    body = scenario_request(key, library)
    headers = {"Authorization": f"Bearer {tok or token(cluster['key'], cluster['public'], path)}"}
    return requests.post(f"{base}{path}", json=body, headers=headers, timeout=30)


def test_a_token_used_on_one_instance_is_refused_on_the_other(cluster, library):
    one, two = cluster["direct"]
    tok = token(cluster["key"], cluster["public"], "/cds-services/pa-order-sign")
    assert sign(cluster, one, library, tok=tok).status_code == 200
    replayed = sign(cluster, two, library, tok=tok)
    assert replayed.status_code == 401  # the other instance saw it in the shared replay cache
    # Through the load balancer, whichever instance answers: once only.
    tok = token(cluster["key"], cluster["public"], "/cds-services/pa-order-sign")
    codes = [sign(cluster, cluster["public"], library, tok=tok).status_code for _ in range(3)]
    assert codes == [200, 401, 401]


@pytest.mark.parametrize("key", ["elx-approve", "elx-nospec", "lem-age17", "blin-approve"])
def test_both_instances_give_the_same_verdict(cluster, library, key):
    outcomes = []
    for base in cluster["direct"]:
        r = sign(cluster, base, library, key)
        assert r.status_code == 200, r.text
        outcomes.append([c["extension"]["pa-advisor.evaluation"]["outcome"] for c in r.json()["cards"]])
    assert outcomes[0] == outcomes[1] == [SCENARIOS[key]["expected"]["outcome"]]


def test_audit_feedback_and_dtr_contexts_from_both_instances_land_in_one_store(cluster, library):
    path = "/cds-services/pa-order-sign"
    store = Store(PG_URL)
    try:
        instances, contexts = [], []
        for base in cluster["direct"]:
            body = scenario_request("elx-nospec", library)
            body["hookInstance"] = hook_instance = str(uuid.uuid4())
            r = requests.post(f"{base}{path}", json=body, timeout=30,
                              headers={"Authorization": f"Bearer {token(cluster['key'], cluster['public'], path)}"})
            assert r.status_code == 200
            card = r.json()["cards"][0]
            info = {e["url"]: e for e in r.json()["systemActions"][0]["resource"]["extension"][-1]["extension"]}
            contexts.append((info["coverage-assertion-id"]["valueString"], r.json()["systemActions"][0]["resource"]))
            fb_path = f"{path}/feedback"
            fb = requests.post(f"{base}{fb_path}", timeout=30, json={"feedback": [
                {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-20T10:00:00Z"}]},
                headers={"Authorization": f"Bearer {token(cluster['key'], cluster['public'], fb_path)}"})
            assert fb.status_code == 200, fb.text
            instances.append((hook_instance, card["uuid"]))
        for hook_instance, card_uuid in instances:
            assert store.query("SELECT status FROM audit WHERE hook_instance = ?", (hook_instance,)) == [(200,)]
            assert store.query("SELECT outcome FROM feedback WHERE card_uuid = ?", (card_uuid,)) == [("accepted",)]
        # A DTR form asked of either instance (by the same EHR) finds the assertion the other one made.
        package = "/fhir/Questionnaire/$questionnaire-package"
        for asked, (made, order) in ((cluster["direct"][0], contexts[1]), (cluster["direct"][1], contexts[0])):
            out = requests.post(f"{asked}{package}", timeout=30, json={
                "resourceType": "Parameters", "parameter": [{"name": "context", "valueString": made},
                                                            {"name": "order", "resource": order}]},
                headers={"Authorization": f"Bearer {token(cluster['key'], cluster['public'], package)}"}).json()
            entries = out["parameter"][0]["resource"]["entry"]
            assert [e["resource"]["resourceType"] for e in entries][:2] == ["Questionnaire", "QuestionnaireResponse"]
    finally:
        store.close()
