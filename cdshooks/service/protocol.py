"""CDS Hooks 2.0 request and feedback shapes: JSON Schemas written from the spec, and the parsed HookRequest.

Schemas are lenient where real clients are odd (hookInstance not always a UUID, an empty access token) and
strict where a wrong type would break us. Unknown fields and extensions are ignored, never rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from cdshooks.errors import RequestError

_STR = {"type": "string", "minLength": 1}
_REF_LIST = {"type": "array", "items": _STR, "minItems": 1}

REQUEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["hook", "hookInstance", "context"],
    "properties": {
        "hook": _STR,
        "hookInstance": _STR,
        "fhirServer": {"type": "string", "pattern": "^https?://", "maxLength": 2048},
        "fhirAuthorization": {
            "type": "object",
            "required": ["access_token"],
            "properties": {
                "access_token": {"type": "string", "maxLength": 16384},
                "token_type": {"type": "string"},
                "expires_in": {"type": "integer"},
                "scope": {"type": "string"},
                "subject": {"type": "string"},
                "patient": {"type": "string"},
            },
        },
        "context": {"type": "object"},
        "prefetch": {"type": "object"},
        "extension": {"type": "object"},
    },
    "dependentRequired": {"fhirAuthorization": ["fhirServer"]},
}

_BUNDLE = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"resource": {"type": "object", "required": ["resourceType"],
                                            "properties": {"resourceType": _STR, "id": {"type": "string"}}}},
            },
        },
    },
}

ORDER_CONTEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["patientId", "draftOrders"],
    "properties": {
        "patientId": _STR,
        "userId": {"type": "string"},
        "encounterId": {"type": "string"},
        "draftOrders": _BUNDLE,
    },
}

SELECT_CONTEXT_SCHEMA: dict[str, Any] = {
    **ORDER_CONTEXT_SCHEMA,
    "required": ["patientId", "draftOrders", "selections"],
    "properties": {**ORDER_CONTEXT_SCHEMA["properties"], "selections": _REF_LIST},
}

# order-dispatch 1.1 (dispatchedOrders / fulfillmentTasks) and the 1.0 shape Inferno sends (order / task).
DISPATCH_CONTEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["patientId"],
    "properties": {
        "patientId": _STR,
        "dispatchedOrders": _REF_LIST,
        "order": _STR,
        "performer": {"type": "string"},
        "fulfillmentTasks": {"type": "array", "items": {"type": "object"}},
        "task": {"type": "object"},
    },
    "anyOf": [{"required": ["dispatchedOrders"]}, {"required": ["order"]}],
}

FEEDBACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["feedback"],
    "properties": {
        "feedback": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["card", "outcome", "outcomeTimestamp"],
                "properties": {
                    "card": {"type": "string", "minLength": 1, "maxLength": 200},
                    "outcome": {"enum": ["accepted", "overridden"]},
                    "outcomeTimestamp": {"type": "string", "minLength": 1, "maxLength": 64},
                    "acceptedSuggestions": {
                        "type": "array",
                        "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
                    },
                    "overrideReason": {
                        "type": "object",
                        "properties": {
                            "reason": {"type": "object"},
                            "userComment": {"type": "string", "maxLength": 4000},
                        },
                    },
                },
            },
        }
    },
}


def check(instance: Any, schema: Mapping[str, Any], where: str = "") -> None:
    """Raise RequestError naming the first problem and where it is (`$.context.patientId`)."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        path = error.json_path.replace("$", f"${where}", 1)
        raise RequestError(f"{path}: {error.message[:300]}", expression=path)


@dataclass(frozen=True)
class HookRequest:
    hook: str
    hook_instance: str
    context: Mapping[str, Any]
    fhir_server: str | None
    access_token: str | None
    prefetch: Mapping[str, Any]
    configuration: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: Any, context_schema: Mapping[str, Any]) -> HookRequest:
        check(body, REQUEST_SCHEMA)
        check(body["context"], context_schema, ".context")
        auth = body.get("fhirAuthorization") or {}
        token = auth.get("access_token") or None  # an empty token means no token
        config = (body.get("extension") or {}).get("davinci-crd.configuration")
        return cls(
            hook=body["hook"],
            hook_instance=body["hookInstance"],
            context=body["context"],
            fhir_server=(body.get("fhirServer") or "").rstrip("/") or None,
            access_token=token,
            prefetch=body.get("prefetch") or {},
            configuration=config if isinstance(config, dict) else {},
        )

    def wants(self, option: str, default: bool = True) -> bool:
        """A davinci-crd.configuration boolean; anything that is not a boolean is ignored (dev-6, dev-17)."""
        value = self.configuration.get(option)
        return value if isinstance(value, bool) else default
