"""The OpenAPI 3.1 document of the service, served at /openapi.json; built from the same JSON Schemas the
service validates with, so the two cannot drift."""

from __future__ import annotations

from typing import Any

from . import __version__
from .hooks import HOOKS
from .protocol import FEEDBACK_SCHEMA, REQUEST_SCHEMA

OUTCOME = {
    "type": "object", "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"const": "OperationOutcome"},
                   "issue": {"type": "array", "minItems": 1,
                             "items": {"type": "object", "required": ["severity", "code"],
                                       "properties": {"severity": {"type": "string"}, "code": {"type": "string"},
                                                      "diagnostics": {"type": "string"},
                                                      "expression": {"type": "array", "items": {"type": "string"}}}}}},
}
CODING = {"type": "object", "required": ["system", "code"],
          "properties": {"system": {"type": "string", "minLength": 1}, "code": {"type": "string", "minLength": 1},
                         "display": {"type": "string"}}}
CARD = {
    "type": "object", "required": ["uuid", "summary", "indicator", "source"],
    "properties": {
        "uuid": {"type": "string", "minLength": 1},
        "summary": {"type": "string", "minLength": 1, "maxLength": 139},
        "detail": {"type": "string", "minLength": 1},
        "indicator": {"enum": ["info", "warning", "critical"]},
        "source": {"type": "object", "required": ["label", "topic"],
                   "properties": {"label": {"type": "string", "minLength": 1}, "topic": CODING}},
        "links": {"type": "array", "minItems": 1,
                  "items": {"type": "object", "required": ["label", "url", "type"],
                            "properties": {"type": {"enum": ["absolute", "smart"]}}}},
        "extension": {"type": "object"},
    },
}
ACTION = {"type": "object", "required": ["type", "description"],
          "properties": {"type": {"enum": ["create", "update", "delete"]},
                         "description": {"type": "string", "minLength": 1},
                         "resource": {"type": "object", "required": ["resourceType"]}}}
HOOK_RESPONSE = {"type": "object", "required": ["cards"],
                 "properties": {"cards": {"type": "array", "items": CARD},
                                "systemActions": {"type": "array", "minItems": 1, "items": ACTION}}}
DISCOVERY = {"type": "object", "required": ["services"],
             "properties": {"services": {"type": "array", "items": {
                 "type": "object", "required": ["hook", "id", "description"],
                 "properties": {"hook": {"type": "string"}, "id": {"type": "string"},
                                "description": {"type": "string"}, "prefetch": {"type": "object"}}}}}}


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/OperationOutcome"}
    return {"description": description, "content": {"application/fhir+json": {"schema": schema}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {"401": _error("no or untrusted EHR JWT"), "404": _error("unknown service"),
          "405": _error("method not allowed"), "413": _error("body too large"),
          "415": _error("not application/json")}


def _service_path(hook: Any) -> dict[str, Any]:
    """One operation per service: the request schema with that hook's name and context schema."""
    schema = {**REQUEST_SCHEMA, "properties": {**REQUEST_SCHEMA["properties"], "hook": {"const": hook.hook},
                                               "context": hook.context_schema}}
    return {"post": {
        "operationId": hook.id,
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {"200": _json(HOOK_RESPONSE), "400": _error("not JSON, not a valid hook request, or a draft "
                                                                 "order that is not valid FHIR R4"),
                      "403": _error("trust mode: the fhirServer is not one the calling EHR is trusted for (its "
                                    "`fhir_servers` in the trust file); nothing was sent to it"),
                      "412": _error("required FHIR data could not be obtained"), **ERRORS},
    }}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "PA Advisor CDS Hooks service", "version": __version__,
                 "description": "CDS Hooks 2.0 service with Da Vinci CRD coverage information for specialty drugs."},
        "components": {
            "schemas": {"OperationOutcome": OUTCOME},
            "securitySchemes": {"ehrJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "paths": {
            "/cds-services": {"get": {"operationId": "discovery",
                                      "responses": {"200": _json(DISCOVERY), "401": ERRORS["401"]}}},
            **{f"/cds-services/{h.id}": _service_path(h) for h in HOOKS},
            "/cds-services/{id}/feedback": {"post": {
                "operationId": "feedback",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string", "examples": [h.id for h in HOOKS]}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": FEEDBACK_SCHEMA}}},
                "responses": {"200": {"description": "stored"}, "400": _error("not valid feedback"),
                              "503": _error("could not be stored; retry"), **ERRORS},
            }},
            "/healthz": {"get": {"operationId": "healthz", "security": [],
                                 "responses": {"200": _json({"type": "object"})}}},
            "/metrics": {"get": {"operationId": "metrics", "security": [],
                                 "description": "Prometheus counters and latency histograms: no patient data, no "
                                                "identifiers in labels. Open, like /healthz: restrict it to the "
                                                "monitoring network at the reverse proxy.",
                                 "responses": {"200": {"description": "Prometheus text format"}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "security": [],
                                      "description": "This document (public: it describes the API, not its data).",
                                      "responses": {"200": _json({"type": "object"})}}},
            "/readyz": {"get": {"operationId": "readyz", "security": [],
                                "responses": {"200": _json({"type": "object"}),
                                              "503": _json({"type": "object"}, "not ready")}}},
        },
        "security": [{"ehrJwt": []}],
    }
