"""Domain errors. Only the HTTP layer (api.py) turns them into status codes and OperationOutcomes.

PAAdvisorError
 ├── MappingError          a mapping or value-set file is invalid (names file and JSON path); stops start-up
 ├── RequestError          the hook request is unusable                                  → 400
 │    ├── UnknownService   no service with that id                                       → 404
 │    └── NotAllowed       a trusted caller asked for something its trust entry does not allow → 403
 ├── DataUnavailable       required data absent from prefetch and not fetchable           → 412
 └── FhirError             one FHIR read failed (status, reason); caught by record.py and
                           turned into "could not read X", never raised through a hook call
"""

from __future__ import annotations


class PAAdvisorError(Exception):
    """Root of every error this package raises on purpose."""


class MappingError(PAAdvisorError):
    def __init__(self, file: str, path: str, message: str) -> None:
        self.file, self.path, self.message = file, path, message
        super().__init__(f"{file}: {path}: {message}")


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
