"""FHIR R4 validation of the resources that matter (draft orders in, resources out) with fhir.resources.R4B.

fhir.resources 8.x has no R4 package and its root is R5, which rejects R4 MedicationRequests: always R4B.
Big prefetch bundles are never validated here; they stay plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=32)
def _model(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def problems(resource: Mapping[str, Any], limit: int = 3) -> list[str]:
    """Validation problems as '<path>: <message>' strings; empty when the resource is valid R4(B)."""
    rtype = resource.get("resourceType")
    try:
        model = _model(str(rtype))
    except (KeyError, ValueError, AttributeError):
        return [f"resourceType: unknown FHIR resource type {str(rtype)[:60]!r}"]
    try:
        model.model_validate(dict(resource))
    except Exception as exc:  # pydantic.ValidationError, or fhir-core's own errors
        errors = getattr(exc, "errors", None)
        if callable(errors):
            return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors()[:limit]]
        return [f"{type(exc).__name__}"]
    return []


# Elements of an order the evaluation reads: malformed there, the order cannot be judged (400). Anything else
# malformed (a single-object `category`, a `note`…) is tolerated: the card is given, the order is not sent back.
READ_ELEMENTS = frozenset({"resourceType", "id", "status", "intent", "subject", "authoredOn", "requester",
                           "performer", "medicationCodeableConcept", "medicationReference", "dosageInstruction",
                           "dispenseRequest", "code", "reasonReference", "contained"})


def split_problems(resource: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(problems in elements the evaluation reads, problems elsewhere)."""
    read: list[str] = []
    other: list[str] = []
    for problem in problems(resource, limit=50):
        element = problem.split(":", 1)[0].split(".", 1)[0]
        (read if element in READ_ELEMENTS or element == "__root__" else other).append(problem)
    return read, other


def warm_up() -> None:
    """Import the models once at start-up so the first hook call does not pay for it."""
    for rtype in ("MedicationRequest", "ServiceRequest", "DeviceRequest"):
        _model(rtype)
