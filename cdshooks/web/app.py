"""create_app(settings) does all the wiring; nothing is built at import time.

gunicorn runs "cdshooks.web.app:create_app()", which reads PA_* environment variables.
"""

from __future__ import annotations

import gc

from flask import Flask

from cdshooks import logs, tracing
from cdshooks.errors import ConfigError, MappingError
from cdshooks.fhir import models as fhir_models
from cdshooks.fhir.client import FhirClient
from cdshooks.metrics import Metrics
from cdshooks.policy.loader import load_library
from cdshooks.policy.units import check_unit
from cdshooks.security.tokens import (
    MemoryReplayCache,
    RedisReplayCache,
    ReplayCache,
    StoreReplayCache,
    TrustConfigError,
    Verifier,
    load_trust,
)
from cdshooks.service.call import HookService
from cdshooks.service.hooks import discovery
from cdshooks.settings import Settings, SettingsError
from cdshooks.store import Store, StoreDriverMissing, StoreError
from cdshooks.web import api, dtr_routes, openapi
from cdshooks.web.console import routes as console_routes
from cdshooks.web.services import Services

# What a person must fix before the service can start (a setting, a mapping file, the trust file, the store):
# `serve` and the gunicorn config both say it in one line and exit 2.
STARTUP_ERRORS = (ConfigError, MappingError, SettingsError, StoreError)


def startup_message(exc: Exception) -> str:
    if isinstance(exc, StoreDriverMissing):
        return str(exc)
    if isinstance(exc, StoreError):
        return f"PA_STORE_URL: {exc} (is the database running?)"
    return str(exc)


def _verifier(settings: Settings, store: Store) -> Verifier | None:
    """None in dev mode (said loudly); otherwise the JWT verifier, or a refusal to start."""
    if settings.dev_mode:
        logs.event("DEV MODE: EHR JWTs are NOT checked; any caller can read patient data through this service",
                   30, event="startup")
        return None
    if not settings.trust_file:
        raise ConfigError("no trusted EHR issuers: start with --trust FILE (PA_TRUST_FILE) and --public-url URL, "
                          "or with --dev on a trusted network only")
    if not settings.public_url:
        # Without it `aud` would be checked against the Host header the caller chose.
        raise ConfigError("trust mode needs --public-url URL (PA_PUBLIC_URL): the base URL EHRs call, which every "
                          "JWT's `aud` must name")
    try:
        issuers = load_trust(settings.trust_file)
    except TrustConfigError as exc:
        raise ConfigError(str(exc)) from exc
    replay: ReplayCache
    if settings.replay_store.startswith(("redis://", "rediss://")):
        replay = RedisReplayCache(settings.replay_store)
    elif settings.replay_store == "memory":
        replay = MemoryReplayCache()
    else:
        replay = StoreReplayCache(store)
    return Verifier(issuers, replay, settings.jwks_ttl, settings.jwks_refresh_cooldown)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.setup(settings.log_level)
    store = Store(settings.store_url, settings.audit_retention_days)
    verifier = _verifier(settings, store)
    library = load_library(settings.mappings_dir)  # raises MappingError naming file and path
    check_unit("mg")  # load the UCUM registry now, not on the first hook call
    fhir_models.warm_up()
    metrics = Metrics()
    client = FhirClient(settings, metrics=metrics)
    app = Flask("cdshooks")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["pa"] = Services(settings, library, store, client, HookService(settings, library, client),
                                    discovery(library), verifier, metrics, openapi.document())
    api.register(app)
    app.register_blueprint(dtr_routes.bp)
    if settings.dev_mode:  # no sign-in of its own: never in trust mode
        app.register_blueprint(console_routes.bp)
    tracing.setup(app)  # off unless OTEL_* says where spans go
    # Everything built so far lives as long as the process: keep it out of the cyclic GC's full collections,
    # which otherwise rescan the loaded models and mappings and show up as latency spikes.
    gc.collect()
    gc.freeze()
    return app
