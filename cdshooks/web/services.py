"""What a request handler may use, built once by create_app: one typed object on the app, not loose keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from cdshooks.fhir.client import FhirClient
from cdshooks.metrics import Metrics
from cdshooks.policy.loader import Library
from cdshooks.security.tokens import Verifier
from cdshooks.service.call import HookService
from cdshooks.settings import Settings
from cdshooks.store import Store


@dataclass
class Services:
    settings: Settings
    library: Library
    store: Store
    client: FhirClient
    hooks: HookService
    discovery: dict[str, Any]
    verifier: Verifier | None  # None in dev mode: no JWT is checked
    metrics: Metrics
    openapi: dict[str, Any]


def services(app: Flask | None = None) -> Services:
    """The app's services (the current app's, inside a request)."""
    found: Services = (app or current_app).extensions["pa"]
    return found
