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


def warm_up() -> None:
    """Import the models once at start-up so the first hook call does not pay for it."""
    for rtype in ("MedicationRequest", "ServiceRequest", "DeviceRequest"):
        _model(rtype)
