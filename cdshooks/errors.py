"""Domain errors. Only the HTTP layer (api.py) turns them into status codes and OperationOutcomes.

PAAdvisorError                 every error the package raises on purpose (tests/test_layout.py checks)
 ├── MappingError          a mapping or value-set file is invalid (names file and JSON path); stops start-up
 ├── ConfigError           the service cannot start with these settings (web/app.py)
 ├── SettingsError         a PA_* value it cannot use (settings.py; also a ValueError)
 ├── StoreError            the store is unreachable or unusable (store/); StoreDriverMissing below it
 ├── MetricsDirError       PA_METRICS_DIR holds other files (multiproc.py)
 ├── AuthError             an EHR JWT is refused (security/tokens.py)                     → 401
 ├── TrustConfigError      the trust file is unusable (security/tokens.py); stops start-up
 ├── RequestError          the hook request is unusable                                  → 400
 │    ├── UnknownService   no service with that id                                       → 404
 │    └── NotAllowed       a trusted caller asked for something its trust entry does not allow → 403
 ├── DataUnavailable       required data absent from prefetch and not fetchable           → 412
 ├── FhirError             one FHIR read failed (status, reason); caught by record.py and
 │                         turned into "could not read X", never raised through a hook call
 ├── HttpError             a web-layer status with its message (web/http.py)
 ├── UnitError             a UCUM unit the loader cannot use (policy/units.py)
 ├── JsonRejected          a body that is not strict JSON (strict_json.py)                 → 400
 └── FixtureError, SandboxError   authoring and test tooling (authoring/, cli/sandbox.py)
"""

from __future__ import annotations


class PAAdvisorError(Exception):
    """Root of every error this package raises on purpose."""


class MappingError(PAAdvisorError):
    def __init__(self, file: str, path: str, message: str) -> None:
        self.file, self.path, self.message = file, path, message
        super().__init__(f"{file}: {path}: {message}")


class ConfigError(PAAdvisorError):
    """The service cannot start with these settings."""


class RequestError(PAAdvisorError):
    status = 400

    def __init__(self, message: str, *, expression: str | None = None) -> None:
        self.message, self.expression = message, expression
        super().__init__(message)


class UnknownService(RequestError):
    status = 404


class NotAllowed(RequestError):
    status = 403


class DataUnavailable(PAAdvisorError):
    status = 412

    def __init__(self, message: str, missing: list[str]) -> None:
        self.message, self.missing = message, missing
        super().__init__(message)


class FhirError(PAAdvisorError):
    def __init__(self, what: str, reason: str, status: int | None = None) -> None:
        self.what, self.reason, self.status = what, reason, status
        super().__init__(f"{what}: {reason}")
