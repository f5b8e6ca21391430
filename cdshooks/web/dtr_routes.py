"""The service's own small FHIR server for DTR: metadata, Questionnaire and Library reads, `$questionnaire-package`.

Open to DTR apps, which send the EHR's token rather than ours (see api._authenticate): the forms are public
policy. A pre-filled one needs the random coverage-assertion-id of a kept assertion, the caller it was made for
(the same EHR issuer, or the EHR token of the ordering call) and the assertion's patient (coverage or order).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from flask import Blueprint, Response, g, request

from cdshooks import __version__, logs
from cdshooks.dtr import package as pkg
from cdshooks.dtr.library import library
from cdshooks.dtr.prefill import DtrContext
from cdshooks.dtr.questionnaire import canonical, key, questionnaire, slug
from cdshooks.errors import RequestError
from cdshooks.fhir.record import questionnaire_key
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Policy
from cdshooks.store import Store, StoreError
from cdshooks.web.http import HttpError, base_url, json_body, json_response
from cdshooks.web.services import services

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
FHIR_JSON = "application/fhir+json"


def _fhir(resource: dict[str, Any]) -> Response:
    return json_response(resource, mimetype=FHIR_JSON)


def _library() -> Library:
    return services().library


@bp.get("/metadata")
def metadata() -> Response:
    base = base_url()
    return _fhir({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.today().isoformat(),
        "kind": "instance",
        "software": {"name": "PA Advisor", "version": __version__},
        "implementation": {"description": "PA Advisor DTR questionnaires", "url": f"{base}/fhir"},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "resource": [
                {"type": "Questionnaire", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [{"name": "url", "type": "uri"}],
                 "operation": [{"name": "questionnaire-package",
                                "definition": "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/"
                                              "questionnaire-package"}]},
                {"type": "Library", "interaction": [{"code": "read"}]},
            ],
        }],
    })


@bp.get("/Questionnaire/<qid>")
def read_questionnaire(qid: str) -> Response:
    return _fhir(questionnaire(_policy(qid, "Questionnaire"), base_url()))


@bp.get("/Library/<lid>")
def read_library(lid: str) -> Response:
    return _fhir(library(_policy(lid, "Library"), base_url()))


def _policy(resource_id: str, what: str) -> Policy:
    """The policy whose Questionnaire or Library has this id; 404 otherwise."""
    policy = next((p for p in _library().policies if slug(p) == resource_id), None)
    if policy is None:
        raise HttpError(404, f"no {what} {resource_id[:80]!r}")
    return policy


@bp.get("/Questionnaire")
def search_questionnaire() -> Response:
    """`?url=` (with or without `|version`) or no parameter: every Questionnaire."""
    base, url = base_url(), request.args.get("url")
    policies = _library().policies
    if url is not None:
        unversioned, _, version = url.partition("|")
        policies = tuple(p for p in policies if unversioned == canonical(base, p)
                         and (not version or version == p.revision))
    entries = [{"fullUrl": canonical(base, p), "resource": questionnaire(p, base), "search": {"mode": "match"}}
               for p in policies]
    return _fhir({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


@bp.post("/Questionnaire/$questionnaire-package")
def questionnaire_package() -> Response:
    req = pkg.parse(json_body())
    store: Store = services().store
    who, read = caller(), pkg.Read()
    try:
        result = pkg.package(_library(), base_url(), req, lambda cid: _context(store, cid), who, read)
        if read.policy_id:  # every read of a kept assertion is audited, refused ones too
            store.save_audit(hook_instance="-", service_id="dtr.questionnaire-package", status=200,
                             orders=[read.order_ref or ""], outcomes=[{"policy": read.policy_id,
                                                                       "outcome": read.outcome}],
                             latency_ms=0.0, iss=who.iss)
    except StoreError as exc:
        logs.event("DTR context read failed", logging.ERROR, reason=str(exc))
        raise HttpError(503, "the documentation context cannot be read now; please retry") from exc
    bundles = [p["resource"] for p in result["parameter"] if p["name"] == "PackageBundle"]
    logs.event(f"questionnaire package ({read.outcome})", count=len(bundles))
    return _fhir(result)


@bp.post("/QuestionnaireResponse")
def save_response() -> Response:
    """DTR "Send to Payer": a completed response to one of our forms, for a patient with a kept coverage assertion
    its caller may read (pkg.Caller), is kept with that assertion; the next signing for the patient reads it."""
    qr = json_body()
    if not isinstance(qr, dict) or qr.get("resourceType") != "QuestionnaireResponse":
        raise RequestError("expected a QuestionnaireResponse", expression="$.resourceType")
    if qr.get("status") not in ("completed", "amended"):
        raise RequestError("only a completed (or amended) response is accepted", expression="$.status")
    if not isinstance(qr.get("item"), list):
        raise RequestError("QuestionnaireResponse.item must be a list", expression="$.item")
    policy = next((p for p in _library().policies if key(p) == questionnaire_key(qr.get("questionnaire"))), None)
    if policy is None:
        raise HttpError(404, "not a response to a Questionnaire of this server")
    patient = pkg.patient_id((qr.get("subject") or {}).get("reference") if isinstance(qr.get("subject"), dict)
                             else None)
    if patient is None:
        raise RequestError("QuestionnaireResponse.subject must name the Patient", expression="$.subject")
    store: Store = services().store
    who = caller()
    try:
        kept = [(aid, body) for aid, pid, body in store.dtr_contexts_of(patient) if pid == policy.id]
        mine = [aid for aid, body in kept if who.may_read(body.get("binding") or {})]
        if not mine:
            if kept:
                raise HttpError(403, "only the EHR that made this patient's coverage assertion may send its answers")
            raise HttpError(404, "no coverage assertion for this patient and form is kept (unknown or expired)")
        saved = {**qr, "id": str(qr.get("id") or uuid.uuid4())[:64]}
        if not store.add_dtr_response(mine[-1], saved):  # expired in between
            raise HttpError(404, "the coverage assertion for these answers has just expired")
        store.save_audit(hook_instance="-", service_id="dtr.questionnaire-response", status=201, orders=[],
                         outcomes=[{"policy": policy.id, "outcome": "answers kept"}], latency_ms=0.0, iss=who.iss)
    except StoreError as exc:
        logs.event("DTR response not kept", logging.ERROR, reason=str(exc))
        raise HttpError(503, "the answers cannot be kept now; please retry") from exc
    logs.event("questionnaire response kept", count=len(qr["item"]))
    response = _fhir(saved)
    response.status_code = 201
    response.headers["Location"] = f"{base_url()}/fhir/QuestionnaireResponse/{saved['id']}"
    return response


def caller() -> pkg.Caller:
    """Who is asking (a DTR app, or a hook call reading its patient's kept answers): in dev mode anyone (no
    verification), else the issuer of a verified EHR JWT and a hash of the bearer token sent (a DTR app sends
    the EHR's own token)."""
    if services().verifier is None:
        return pkg.Caller(iss=pkg.DEV_ISSUER)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    claims = g.get("jwt") or {}
    return pkg.Caller(iss=claims.get("iss"), token_sha256=pkg.digest(token))


def _context(store: Store, assertion_id: str) -> DtrContext | None:
    row = store.dtr_context(assertion_id)
    if row is None:
        return None
    policy_id, patient_id, body = row
    return DtrContext.from_json(assertion_id, policy_id, patient_id, body)
