"""create_app(settings) does all the wiring; nothing is built at import time.

gunicorn runs "cdshooks.app:create_app()", which reads PA_* environment variables.
"""

from __future__ import annotations

from flask import Flask

from . import api, fhir_models, logs
from .errors import PAAdvisorError
from .fhir_client import FhirClient
from .hooks import discovery
from .policy.loader import load_library
from .policy.units import check_unit
from .service import HookService
from .settings import Settings
from .store import Store


class ConfigError(PAAdvisorError):
    """The service cannot start with these settings."""


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.setup()
    if not settings.dev_mode:
        # EHR JWT verification is not built yet: refusing to start is the only safe production default.
        raise ConfigError("EHR JWT verification is not available yet: start with --dev (PA_DEV_MODE=1) to run "
                          "without authentication, on a trusted network only")
    logs.event("DEV MODE: EHR JWTs are NOT checked; any caller can read patient data through this service",
               30, event="startup")
    library = load_library(settings.mappings_dir)  # raises MappingError naming file and path
    check_unit("mg")  # load the UCUM registry now, not on the first hook call
    fhir_models.warm_up()
    store = Store(settings.store_url)
    client = FhirClient(settings)
    app = Flask("cdshooks")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions.update(
        pa_settings=settings,
        pa_library=library,
        pa_store=store,
        pa_client=client,
        pa_service=HookService(settings, library, client),
        pa_discovery=discovery(library),
    )
    api.register(app)
    return app
