"""HTTP routes: discovery, service calls, feedback, health. The only module that turns errors into statuses."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cdshooks import logs
from cdshooks.dtr.package import DEV_ISSUER, digest
from cdshooks.errors import DataUnavailable, RequestError, UnknownService
from cdshooks.security.tokens import AuthError, Verifier, fhir_server_allowed
from cdshooks.service.call import HookService
from cdshooks.service.hooks import BY_ID
from cdshooks.service.protocol import FEEDBACK_SCHEMA, check
from cdshooks.store import Store, StoreError
from cdshooks.web.dtr_routes import caller
from cdshooks.web.http import HttpError, base_url, json_body, json_response
from cdshooks.web.services import services

bp = Blueprint("cds", __name__)
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               412: "incomplete", 413: "too-costly", 415: "not-supported", 503: "transient", 500: "exception"}


def operation_outcome(status: int, message: str, expression: str | None = None) -> Response:
    issue: dict[str, Any] = {"severity": "error", "code": ISSUE_CODES.get(status, "processing"),
                             "diagnostics": message[:500]}
    if expression:
        issue["expression"] = [expression[:200]]
    body = {"resourceType": "OperationOutcome", "issue": [issue]}
    return Response(json.dumps(body), status=status, mimetype="application/fhir+json")


@bp.get("/cds-services")
def discovery() -> Response:
    return json_response(services().discovery)


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    hook = BY_ID.get(service_id)
    if hook is None:
        raise UnknownService(f"no CDS service with id {service_id[:80]!r}")
    service: HookService = services().hooks
    store: Store = services().store
    hook_instance, status, result, body = "", 200, None, None
    try:
        body = json_body()
        # A uuid is kept as itself; free text is a caller's and may carry anything: only its shape is kept.
        hook_instance = logs.shape(body.get("hookInstance", "")) if isinstance(body, dict) else ""
        result = service.call(hook, body, _fhir_server_check(), base_url(), _kept_answers(store, body))
        return json_response(result.response)
    except (HttpError, RequestError, DataUnavailable) as exc:
        status = exc.status
        raise
    except RequestEntityTooLarge:
        status = 413
        raise
    except Exception:
        status = 500
        raise
    finally:
        latency = round((time.perf_counter() - g.started) * 1000, 2)  # from _start_timer, auth included
        outcomes = result.outcomes if result else []
        for o in outcomes:
            services().metrics.outcomes.labels(o["policy"], o["outcome"]).inc()
        logs.event("hook call", service=service_id, hook_instance=hook_instance, status=status,
                   latency_ms=latency, outcomes=[f"{o['policy']}:{o['outcome']}" for o in outcomes])
        try:
            claims = g.get("jwt") or {}
            # With the audit row, what each coverage assertion decided, for its pre-filled DTR form, bound to
            # the caller: only the same issuer (or the holder of the EHR token of this call) may read it.
            bound = binding(claims.get("iss"), body)
            contexts = [(c.id, c.policy_id, c.patient_id, {**c.as_json(), "binding": bound})
                        for c in (result.contexts if result else [])][:MAX_CONTEXTS_PER_CALL]
            store.save_audit(hook_instance=hook_instance or "-", service_id=service_id, status=status,
                             orders=result.orders if result else [], outcomes=outcomes, latency_ms=latency,
                             iss=claims.get("iss"), jti=claims.get("jti"), contexts=contexts,
                             context_ttl=services().settings.dtr_context_hours * 3600)
        except StoreError as exc:
            logs.event("audit write failed", logging.ERROR, service=service_id, reason=str(exc))


def _kept_answers(store: Store, body: Any) -> list[dict]:
    """Completed DTR responses sent to us for this patient ("Send to Payer"), kept with their assertions, that
    this caller may read; the store being down costs them, never the call."""
    patient = (body.get("context") or {}).get("patientId") if isinstance(body, dict) and isinstance(
        body.get("context"), dict) else None
    if not isinstance(patient, str) or not patient:
        return []
    who = caller()
    try:
        return [r for binding, r in store.dtr_responses(patient) if who.may_read(binding)]
    except StoreError as exc:
        logs.event("kept DTR answers not read", logging.ERROR, reason=str(exc))
        return []


def binding(iss: str | None, body: Any) -> dict[str, Any]:
    """Who created a DTR context: the JWT issuer ("dev" without verification), a SHA-256 of the EHR's FHIR access
    token of the call (never the token) and its FHIR server."""
    token = ""
    if isinstance(body, dict) and isinstance(body.get("fhirAuthorization"), dict):
        token = str(body["fhirAuthorization"].get("access_token") or "")
    server = body.get("fhirServer") if isinstance(body, dict) and isinstance(body.get("fhirServer"), str) else None
    return {"iss": iss or DEV_ISSUER, "token_sha256": digest(token), "fhir_server": server}


def _fhir_server_check() -> Callable[[str], bool] | None:
    """In trust mode, the fhirServer allowlist of the issuer that signed this call."""
    verifier: Verifier | None = services().verifier
    claims = g.get("jwt")
    if verifier is None or not claims:
        return None
    issuer = verifier.issuers[claims["iss"]]
    return lambda url: fhir_server_allowed(issuer, url)


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    if service_id not in BY_ID:
        raise UnknownService(f"no CDS service with id {service_id[:80]!r}")
    body = json_body()
    check(body, FEEDBACK_SCHEMA)
    store: Store = services().store
    try:
        count = store.save_feedback(service_id, body["feedback"])
    except StoreError as exc:
        logs.event("feedback write failed", logging.ERROR, service=service_id, reason=str(exc))
        return operation_outcome(503, "feedback could not be stored; please retry")
    logs.event("feedback stored", service=service_id, count=count)
    return Response(status=200)


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(services().openapi)


@bp.get("/metrics")
def metrics() -> Response:
    m = services().metrics
    return Response(m.render(), mimetype=m.content_type.split(";")[0])


@bp.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when every dependency a call needs answers: the store and, in trust mode, the JWT replay store (a
    call is refused without it)."""
    library = services().library
    store_ok = services().store.ping()
    body = {"mappings": len(library.policies), "store": "ok" if store_ok else "unreachable"}
    verifier: Verifier | None = services().verifier
    replay_ok = verifier is None or verifier.replay.ping()
    if verifier is not None:
        body["replay_store"] = "ok" if replay_ok else "unreachable"
    ready = store_ok and replay_ok
    return json_response({"status": "ready" if ready else "not-ready", **body}, 200 if ready else 503)


# Coverage assertions kept for DTR per hook call: a call with hundreds of governed orders keeps the first ones
# (the others' forms are blank), so one call cannot fill the store.
MAX_CONTEXTS_PER_CALL = 20
OPEN_ENDPOINTS = {"cds.healthz", "cds.readyz", "cds.metrics", "cds.openapi"}


def _route() -> str:
    """The route a request matched (e.g. /cds-services/<service_id>), never the path a caller wrote."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def _authenticate() -> Response | None:
    """Every call but CORS preflight and health checks carries a JWT from a trusted EHR."""
    verifier: Verifier | None = services().verifier
    if verifier is None or request.method == "OPTIONS" or request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.endpoint is None:  # no such route (or method): a 404 / 405 with an OperationOutcome, never a 401
        return None
    if (request.view_args or {}).get("service_id", "") not in BY_ID and "service_id" in (request.view_args or {}):
        return None  # no such service: the view's 404, and the caller's path is never echoed into a log

    settings = services().settings
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    audience = (settings.public_url.rstrip("/") + request.path) if settings.public_url else request.base_url
    if request.blueprint == "fhir":
        # DTR apps send the EHR's token, not ours: the forms are public policy and served to anyone. A pre-filled
        # one needs an authenticated caller (dtr_routes.caller): a verified EHR JWT is noted here, an opaque
        # bearer is matched there against the EHR token the context was created with.
        if scheme.lower() == "bearer" and token.count(".") == 2:
            try:
                g.jwt = verifier.verify(token.strip(), audience)
            except AuthError as exc:
                logs.event("DTR caller's JWT refused", logging.INFO, path=_route(), reason=exc.reason)
        return None
    if request.endpoint == "cds.discovery" and settings.open_discovery:
        return None
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("no bearer JWT")
        g.jwt = verifier.verify(token.strip(), audience)
    except AuthError as exc:
        logs.event("JWT refused", logging.WARNING, path=_route(), reason=exc.reason)
        body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}
        return Response(json.dumps(body), status=401, mimetype="application/fhir+json",
                        headers={"WWW-Authenticate": "Bearer"})
    return None


def _start_timer() -> None:
    g.started = time.perf_counter()


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.before_request(_authenticate)

    @app.errorhandler(HttpError)
    def _http(exc: HttpError) -> Response:
        return operation_outcome(exc.status, exc.message)

    @app.errorhandler(RequestError)
    def _request_error(exc: RequestError) -> Response:
        return operation_outcome(exc.status, exc.message, exc.expression)

    @app.errorhandler(DataUnavailable)
    def _unavailable(exc: DataUnavailable) -> Response:
        return operation_outcome(412, exc.message)

    @app.errorhandler(HTTPException)
    def _werkzeug(exc: HTTPException) -> Response:
        response = operation_outcome(exc.code or 500, exc.description or exc.name)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug of ours: logged by class only (never the request), answered without internals.
        logs.event("unexpected error", logging.ERROR, reason=type(exc).__name__, path=_route())
        return operation_outcome(500, "internal error")

    @app.after_request
    def _count(response: Response) -> Response:
        m = services().metrics
        # The route pattern (cds.call_service), never the raw path: no unbounded or identifying labels.
        endpoint = request.endpoint or "unmatched"
        m.requests.labels(endpoint, str(response.status_code)).inc()
        if "started" in g:
            m.latency.labels(endpoint).observe(time.perf_counter() - g.started)
        return response

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        return response
