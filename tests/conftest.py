"""Shared fixtures: apps built from explicit settings, the fixture manifest, request builders."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cdshooks.cli.sandbox import SandboxError, fhir_sandbox, sekmet_executable
from cdshooks.ehr.request import hook_request, prefetch_from_resources
from cdshooks.policy import evaluate
from cdshooks.policy.loader import load_library
from cdshooks.service.hooks import prefetch_specs
from cdshooks.settings import DEFAULT_MAPPINGS, Settings
from cdshooks.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fhir_fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
SCENARIOS = {s["key"]: s for s in MANIFEST["scenarios"]}


# Production turns a crashing criterion into `missing`; under test a crash must fail loudly instead, or a broken
# criterion would pass every 'missing' and 'documentation-needed' expectation. Set on import, before any test
# module evaluates at collection (tests/policy/test_pathways.py's EVALUATIONS).
evaluate.CAUGHT = ()


@pytest.fixture(scope="session")
def library():
    return load_library(DEFAULT_MAPPINGS)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(dev_mode=True, store_url=f"sqlite:///{tmp_path / 'store.db'}", fhir_deadline=5.0,
                    fhir_read_timeout=2.0, fhir_connect_timeout=1.0)


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def bundle_resources(key: str) -> list[dict[str, Any]]:
    bundle = json.loads((FIXTURES / SCENARIOS[key]["bundle"]).read_text())
    return [e["resource"] for e in bundle["entry"]]


def info_of(response: dict[str, Any]) -> dict[str, Any]:
    """The first system action's coverage-information, by sub-extension url."""
    ext = response["systemActions"][0]["resource"]["extension"][-1]["extension"]
    return {e["url"]: e for e in ext}


def needs_of(items: list[dict]) -> list[dict]:
    """Every need of an evaluation extension's structured `missing`, through its alternatives."""
    return [n for item in items for n in
            ([item] if "oneOf" not in item else needs_of([x for option in item["oneOf"] for x in option]))]


def scenario_request(key: str, library, hook: str = "order-sign", **kw: Any) -> dict[str, Any]:
    """The order-sign request an EHR would send for a fixture, with full prefetch unless told otherwise."""
    s = SCENARIOS[key]
    prefetch = kw.pop("prefetch", None)
    if prefetch is None and not kw.get("fhir_server"):
        prefetch = prefetch_from_resources(bundle_resources(key), prefetch_specs(library), s["patientId"], s["userId"])
    orders = copy.deepcopy(s["draftOrders"])  # tests may edit the request; the manifest stays as written
    return hook_request(hook, s["patientId"], orders, user_id=s["userId"], prefetch=prefetch, **kw)


FHIR_TOKEN = "integration-s3cret"


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory):
    """A real FHIR R4 server (sekmet-fhir 0.1.1) on loopback, fresh data dir, static bearer token,
    simulator off, with every fixture bundle loaded. Started and stopped by the tests themselves."""
    import os

    if sekmet_executable() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sekmet-fhir is not installed: pip install -e '.[test]'")
        pytest.skip("sekmet-fhir not installed (pip install -e '.[test]')")
    try:
        with fhir_sandbox(FHIR_TOKEN, workdir=tmp_path_factory.mktemp("fhir")) as base:
            yield base
    except SandboxError as exc:
        pytest.fail(str(exc))
