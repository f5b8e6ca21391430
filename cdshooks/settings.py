"""One frozen Settings object, read from PA_* environment variables with every default in one place."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cdshooks.errors import PAAdvisorError

PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """A data folder of the project: beside the package in a source checkout (and an editable install), inside
    it (cdshooks/<name>, package data) in a regular `pip install .`."""
    beside = PACKAGE_DIR.parent / name
    return beside if beside.is_dir() else PACKAGE_DIR / name


DEFAULT_MAPPINGS = _bundled("mappings")
FIXTURES_DIR = _bundled("fhir_fixtures")


# Where the image's gunicorn listens (PA_BIND, deploy/gunicorn.conf.py); its HEALTHCHECK (`pa-advisor probe`)
# reads the same variable, so a changed address is never probed on the old port.
DEFAULT_BIND = "0.0.0.0:8080"


def bind_address(environ: dict[str, str] | None = None) -> str:
    return (os.environ if environ is None else environ).get("PA_BIND") or DEFAULT_BIND


class SettingsError(PAAdvisorError, ValueError):
    """A setting has a value the service cannot run with; the message is one line naming the variable."""


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _convert(key: str, raw: str, fn: Callable[[str], object]) -> object:
    try:
        return fn(raw)
    except ValueError as exc:
        expected = {int: "a whole number", float: "a number"}.get(fn, "a valid value")  # type: ignore[call-overload]
        raise SettingsError(f"{key}={raw[:60]!r}: expected {expected}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything create_app needs; tests build one explicitly, production reads the environment."""

    dev_mode: bool = False
    mappings_dir: Path = DEFAULT_MAPPINGS
    # SQLite path or a postgresql:// URL; feedback and the audit trail live here.
    store_url: str = "sqlite:///pa-advisor.db"
    max_body_bytes: int = 5 * 1024 * 1024
    # Orders per hook call (draft or dispatched); more is refused with 400.
    max_orders: int = 200
    # Cap on resources read from one prefetch value or FHIR search, so one hostile bundle cannot exhaust memory.
    max_bundle_entries: int = 20_000
    fhir_connect_timeout: float = 3.0
    fhir_read_timeout: float = 10.0
    # Whole-call budget for FHIR reads in one hook call (seconds).
    fhir_deadline: float = 8.0
    fhir_max_pages: int = 20
    # Parallel FHIR reads per hook call, and at most this many at once to any one FHIR server (per process).
    fhir_workers: int = 16
    fhir_per_server: int = 32
    fhir_page_size: int = 200
    # Base URL the EHR calls us at (JWT `aud` is this plus the endpoint path); default: the request's own URL.
    public_url: str = ""
    trust_file: str = ""
    # Where seen JWT `jti`s live: "store" (the database above: shared by every worker, and by every instance
    # on PostgreSQL), "memory" (one process only) or a redis:// URL.
    replay_store: str = "store"
    # Inferno's CRD suite calls discovery without a JWT unless told otherwise; opt-in only.
    open_discovery: bool = False
    jwks_ttl: float = 3600.0
    # At most one JWK Set refetch per issuer in this many seconds, however many unknown kids arrive.
    jwks_refresh_cooldown: float = 5.0
    audit_retention_days: float = 365.0
    log_level: str = "INFO"
    # Questionnaire whose QuestionnaireResponse answers attest documentation-only criteria (DTR-style).
    attestation_questionnaire: str = "urn:pa-advisor:Questionnaire:pa-attestation"
    # How long the evaluation behind a coverage-assertion-id is kept for a DTR pre-filled form (hours).
    dtr_context_hours: float = 24.0
    # A DTR answer counts only when authored at most this many days before the order date.
    answer_window_days: int = 90
    # The SMART launch URL of the EHR's DTR app: a card that needs documentation links it ("Complete the
    # documentation"); none configured → in dev mode the console's own DTR form, otherwise the CRD Task.
    dtr_app_url: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        conv: dict[str, tuple[str, Callable[[str], object]]] = {
            "PA_DEV_MODE": ("dev_mode", _env_bool),
            "PA_MAPPINGS_DIR": ("mappings_dir", Path),
            "PA_STORE_URL": ("store_url", str),
            "PA_MAX_BODY_BYTES": ("max_body_bytes", int),
            "PA_MAX_ORDERS": ("max_orders", int),
            "PA_MAX_BUNDLE_ENTRIES": ("max_bundle_entries", int),
            "PA_FHIR_CONNECT_TIMEOUT": ("fhir_connect_timeout", float),
            "PA_FHIR_READ_TIMEOUT": ("fhir_read_timeout", float),
            "PA_FHIR_DEADLINE": ("fhir_deadline", float),
            "PA_FHIR_MAX_PAGES": ("fhir_max_pages", int),
            "PA_FHIR_PAGE_SIZE": ("fhir_page_size", int),
            "PA_FHIR_WORKERS": ("fhir_workers", int),
            "PA_FHIR_PER_SERVER": ("fhir_per_server", int),
            "PA_PUBLIC_URL": ("public_url", str),
            "PA_TRUST_FILE": ("trust_file", str),
            "PA_REPLAY_STORE": ("replay_store", str),
            "PA_OPEN_DISCOVERY": ("open_discovery", _env_bool),
            "PA_AUDIT_RETENTION_DAYS": ("audit_retention_days", float),
            "PA_LOG_LEVEL": ("log_level", str),
            "PA_DTR_CONTEXT_HOURS": ("dtr_context_hours", float),
            "PA_ANSWER_WINDOW_DAYS": ("answer_window_days", int),
            "PA_DTR_APP_URL": ("dtr_app_url", str),
        }
        for key, (name, fn) in conv.items():
            if key in env and env[key] != "":
                values[name] = _convert(key, env[key], fn)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_orders", "max_bundle_entries", "fhir_connect_timeout",
                     "fhir_read_timeout", "fhir_deadline", "fhir_max_pages", "fhir_page_size", "fhir_workers",
                     "fhir_per_server", "dtr_context_hours", "answer_window_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise SettingsError(f"PA_{name.upper()}={value!r}: expected a number above 0")
        if self.replay_store not in ("store", "memory") and not self.replay_store.startswith(("redis://",
                                                                                             "rediss://")):
            raise SettingsError(f"PA_REPLAY_STORE={self.replay_store!r}: expected store, memory or a redis:// URL")
        for name in ("public_url", "dtr_app_url"):
            url = getattr(self, name)
            if url and not url.startswith(("http://", "https://")):
                raise SettingsError(f"PA_{name.upper()}={url!r}: expected an http(s) URL")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
