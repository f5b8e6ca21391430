"""The OpenAPI 3.1 document of the service, served at /openapi.json; built from the same JSON Schemas the
service validates with, so the two cannot drift."""

from __future__ import annotations

from typing import Any

from cdshooks import __version__
from cdshooks.policy.routing import ORDER_TYPES
from cdshooks.service.hooks import HOOKS
from cdshooks.service.protocol import FEEDBACK_SCHEMA, REQUEST_SCHEMA

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


def _fhir(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/fhir+json": {"schema": {"type": "object"}}}}


def _param(name: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {"name": {"const": name}}, "required": ["name"]}, "then": then}


def _resource(*types: str) -> dict[str, Any]:
    return {"required": ["resource"], "properties": {"resource": {
        "type": "object", "required": ["resourceType"], "properties": {"resourceType": {"enum": list(types)}}}}}


TEXT = {"type": "string", "minLength": 1, "maxLength": 1000}
PACKAGE_INPUT = {
    "type": "object", "required": ["resourceType", "parameter"],
    "properties": {"resourceType": {"const": "Parameters"}, "parameter": {
        "type": "array", "minItems": 1, "maxItems": 100,
        "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}, "allOf": [
            _param("coverage", _resource("Coverage")),
            _param("order", _resource(*sorted(ORDER_TYPES))),
            _param("questionnaire", {"required": ["valueCanonical"], "properties": {"valueCanonical": TEXT}}),
            _param("context", {"required": ["valueString"], "properties": {"valueString": TEXT}}),
        ]},
        # DTR dtr-1: at least one of order, questionnaire and context.
        "contains": {"type": "object", "required": ["name"],
                     "properties": {"name": {"enum": ["order", "questionnaire", "context"]}}},
    }},
}

# DTR apps send the EHR's token, not ours: open (security: []); a pre-filled form needs a kept assertion id.
DTR_PATHS = {
    "/fhir/metadata": {"get": {"operationId": "fhirMetadata", "security": [],
                               "responses": {"200": _fhir("CapabilityStatement: Questionnaire read/search, "
                                                          "$questionnaire-package, Library read")}}},
    "/fhir/Questionnaire": {"get": {
        "operationId": "searchQuestionnaire", "security": [],
        "parameters": [{"name": "url", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "canonical, optionally with |version"}],
        "responses": {"200": _fhir("searchset Bundle")}}},
    "/fhir/Questionnaire/{id}": {"get": {
        "operationId": "readQuestionnaire", "security": [],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": _fhir("the policy's Questionnaire, generated from its criteria"),
                      "404": _error("no such Questionnaire")}}},
    "/fhir/Library/{id}": {"get": {
        "operationId": "readLibrary", "security": [],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": _fhir("the ELM Library the Questionnaire names (cqf-library)"),
                      "404": _error("no such Library")}}},
    "/fhir/Questionnaire/$questionnaire-package": {"post": {
        "operationId": "questionnairePackage", "security": [],
        "description": "Da Vinci DTR: input Parameters (coverage, order, questionnaire, context = the CRD "
                       "coverage-assertion-id). With a kept context, the form comes pre-answered from that "
                       "evaluation; otherwise blank.",
        "requestBody": {"required": True, "content": {"application/fhir+json": {"schema": PACKAGE_INPUT}}},
        "responses": {"200": _fhir("output Parameters: PackageBundle per policy, outcome for warnings"),
                      "400": _error("not DTR input Parameters"), "415": ERRORS["415"],
                      "503": _error("the kept context cannot be read now; retry")}}},
}


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
            **DTR_PATHS,
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
