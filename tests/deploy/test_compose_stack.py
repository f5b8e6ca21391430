"""deploy/compose.yaml as shipped: the build context (.dockerignore, read by docker-py's own rules), the Dockerfile's
layers and healthcheck, one image for every PA Advisor service — and the whole stack run as local processes
(compose_local.py: the same commands, settings and files, no Docker engine): the patients load into sekmet, the
test EHR's key is trusted, both instances and the console come up healthy by the image's own HEALTHCHECK, and the
`ehr` service's signed call through nginx gets a card read from sekmet."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from backing import PG_URL, REDIS_URL, needs, postgres_or_skip, redis_or_skip
from compose_local import DEPLOY, NGINX, ROOT, LocalStack, build_context, stages

from cdshooks.cli.sandbox import free_port

COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_private():
    context = build_context()
    for stage in stages().values():
        for source in [*stage.files.values()]:
            assert source in context, source
    for folder in ("cdshooks", "mappings", "fhir_fixtures"):
        tracked = {str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts}
        assert tracked <= context, sorted(tracked - context)[:5]
    for name in ("pyproject.toml", "README.md", "deploy/constraints.txt"):
        assert name in context
    leaked = [p for p in context if p.startswith((".git/", ".venv/", ".ci-venv/", "tests/", "bench/"))
              or p.endswith((".db", ".pyc", ".jwk")) or "trust" in p]
    assert not leaked, leaked[:5]


def test_dependencies_are_a_layer_before_the_code_and_the_healthcheck_reads_the_bind():
    text = (DEPLOY / "Dockerfile").read_text()
    app = text[text.rindex("\nFROM "):]
    assert app.index("pip install --no-cache-dir -r constraints.txt") < app.index("COPY cdshooks")
    assert "--no-deps" in app and "pip check" in app  # the code layer adds no unpinned dependency
    last = list(stages().values())[-1]
    assert last.healthcheck == ["pa-advisor", "probe"] and "8080" not in " ".join(last.healthcheck)


def test_one_image_serves_every_pa_advisor_service_and_only_one_builds_it():
    services = COMPOSE["services"]
    users = [n for n, s in services.items() if s.get("image") == "pa-advisor:local"]
    assert {"pa-advisor-1", "pa-advisor-2", "console", "fixtures", "ehr-key", "ehr"} <= set(users)
    assert [n for n in users if "build" in services[n]] == ["pa-advisor-1"]
    assert services["pa-advisor-1"]["environment"] == services["pa-advisor-2"]["environment"]
    # The console never sits behind the trusted front door: dev mode, published on the host's loopback only.
    assert services["console"]["ports"] == ["127.0.0.1:8090:8090"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    needs(Path(NGINX).exists(), "nginx (apt-get install nginx)")
    postgres_or_skip()
    redis_or_skip()
    local = LocalStack(tmp_path_factory.mktemp("compose"), store_url=PG_URL, redis_url=REDIS_URL, profiles=("call",))
    try:
        for name in local.services:
            if name != "ehr":
                local.start(name)
        for name in local.procs:
            local.wait_for(name, "service_healthy")
        yield local
    finally:
        local.down()


def test_the_one_shots_load_the_patients_and_make_the_trusted_key(stack):
    loaded = stack.exits["fixtures"]
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    bundles = len(list((ROOT / "fhir_fixtures" / "bundles").glob("*.json")))
    assert f"loaded {bundles} of {bundles} bundles" in loaded.stdout
    patient = requests.get(stack.url("sekmet", "/fhir/Patient/elx-approve-pt"), timeout=10)
    assert patient.status_code == 200
    keys = stack.work / "volumes" / "ehr-keys"
    assert json.loads((keys / "jwks.json").read_text())["keys"][0]["alg"] == "ES384"
    assert (keys / "ehr-key.jwk").stat().st_mode & 0o077 == 0  # the private key is its owner's only


def test_the_ehr_service_signs_a_call_through_nginx_and_gets_a_card_from_the_fhir_record(stack):
    shown = stack.start("ehr")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "Elrexfio" in shown.stdout
    raw = stack.start("ehr", ("--json",))
    assert raw.returncode == 0, raw.stderr
    answer = json.loads(raw.stdout)
    (card,) = answer["cards"]
    assert answer["systemActions"][0]["type"] == "update"
    evaluation = card["extension"]["pa-advisor.evaluation"]
    assert evaluation["drug"]["code"] == "J1323" and evaluation["outcome"]
    # Read from sekmet, not guessed: the record's myeloma diagnosis is cited as evidence.
    (dx,) = [c for c in evaluation["criteria"] if c["id"] == "dx-mm"]
    assert dx["status"] == "met" and dx["evidence"][0]["reference"].startswith("Condition/")
    # An unsigned call through the same front door is refused: the stack runs in trust mode.
    path = "/cds-services/pa-order-sign"
    assert requests.post(stack.url("nginx", path), json={}, timeout=10).status_code == 401


def test_both_instances_and_the_console_answer_behind_their_own_healthcheck(stack):
    for name in ("pa-advisor-1", "pa-advisor-2"):
        ready = requests.get(stack.url(name, "/readyz"), timeout=10)
        assert ready.status_code == 200, ready.text
    assert requests.get(stack.url("console", "/console"), timeout=10).status_code == 200
    assert requests.get(stack.url("nginx", "/console"), timeout=10).status_code == 404  # not in trust mode
    # The probe follows PA_BIND: told another port, it reports not ready in one line.
    env = {**stack.environment("console"), "PA_BIND": f"127.0.0.1:{free_port()}"}
    out = subprocess.run(stack.argv("console", ["pa-advisor", "probe"]), env=env, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 1 and out.stderr.startswith("pa-advisor: not ready") and "Traceback" not in out.stderr
