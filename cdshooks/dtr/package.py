"""`$questionnaire-package`: DTR input Parameters → output Parameters with one PackageBundle per policy.

The form is pre-answered only for a `context` (the CRD coverage-assertion-id: a random capability) that is
still kept; without one, or with an unknown one, the package is a blank form and carries no patient data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdshooks.dtr.library import library
from cdshooks.dtr.prefill import DtrContext, prefilled
from cdshooks.dtr.questionnaire import key, questionnaire
from cdshooks.errors import RequestError
from cdshooks.fhir.record import PatientRecord, questionnaire_key, type_and_id
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Policy
from cdshooks.policy.routing import ORDER_TYPES, governing_policies, order_concepts

MAX_PARAMETERS = 100
# The issuer a context is bound to when the service runs without JWT verification (--dev).
DEV_ISSUER = "dev"


def digest(token: str) -> str | None:
    """What is kept of a bearer token to recognise it later: its SHA-256 (never the token); None for no token."""
    return hashlib.sha256(token.encode()).hexdigest() if token else None


@dataclass(frozen=True)
class Caller:
    """Who asks for a package: a verified JWT's issuer (DEV_ISSUER in dev mode), and/or a SHA-256 of the opaque
    bearer token sent (a DTR app sends the EHR's token)."""

    iss: str | None = None
    token_sha256: str | None = None

    def may_read(self, binding: dict[str, Any]) -> bool:
        """The issuer that created the context, or the holder of the EHR token its hook call carried."""
        return bool((self.iss and self.iss == binding.get("iss"))
                    or (self.token_sha256 and self.token_sha256 == binding.get("token_sha256")))


@dataclass
class Read:
    """What a package call read, for the audit: the assertion asked for, and whether its form was pre-filled."""

    policy_id: str | None = None
    order_ref: str | None = None
    outcome: str = "blank"


@dataclass
class PackageRequest:
    coverages: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    questionnaires: list[str] = field(default_factory=list)
    context: str | None = None


def parse(body: Any) -> PackageRequest:
    """DTR input Parameters; 400 (RequestError) for anything else."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise RequestError("expected a FHIR Parameters resource (DTR $questionnaire-package input)",
                           expression="$.resourceType")
    params = body.get("parameter")
    if not isinstance(params, list) or not 0 < len(params) <= MAX_PARAMETERS:
        raise RequestError(f"Parameters.parameter must list 1 to {MAX_PARAMETERS} parameters",
                           expression="$.parameter")
    req = PackageRequest()
    for i, p in enumerate(params):
        where = f"$.parameter[{i}]"
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise RequestError("each parameter needs a name", expression=where)
        name, resource = p["name"], p.get("resource")
        if name == "coverage":
            if not isinstance(resource, dict) or resource.get("resourceType") != "Coverage":
                raise RequestError("coverage must carry a Coverage resource", expression=f"{where}.resource")
            req.coverages.append(resource)
        elif name == "order":
            if not isinstance(resource, dict) or resource.get("resourceType") not in ORDER_TYPES:
                raise RequestError("order must carry an order resource (e.g. MedicationRequest)",
                                   expression=f"{where}.resource")
            req.orders.append(resource)
        elif name == "questionnaire":
            value = _string(p, ("valueCanonical", "valueUri", "valueUrl", "valueString"))
            if value is None:
                raise RequestError("questionnaire must be a canonical URL", expression=where)
            req.questionnaires.append(value)
        elif name == "context":
            value = _string(p, ("valueString", "valueId", "valueUri"))
            if value is None:
                raise RequestError("context must be a string (the CRD coverage-assertion-id)", expression=where)
            req.context = value
    if not (req.orders or req.questionnaires or req.context):
        raise RequestError("at least one of order, questionnaire and context is needed (DTR dtr-1)",
                           expression="$.parameter")
    return req


def _string(p: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        value = p.get(k)
        if isinstance(value, str) and 0 < len(value) <= 1000:
            return value
    return None


def package(lib: Library, base: str, req: PackageRequest,
            find_context: Callable[[str], DtrContext | None], caller: Caller = Caller(),
            read: Read | None = None) -> dict[str, Any]:
    warnings: list[tuple[str, str]] = []  # (issue code, text)
    by_key = {key(p): p for p in lib.policies}
    chosen: dict[str, Policy] = {}
    read = read if read is not None else Read()
    ctx = find_context(req.context) if req.context else None
    if req.context and ctx is None:
        warnings.append(("not-found", "context: no coverage assertion with this id is kept (unknown or expired); "
                                      "the form is blank"))
    if ctx is not None:
        read.policy_id, read.order_ref, read.outcome = ctx.policy_id, ctx.order_ref, "refused"
        policy = next((p for p in lib.policies if p.id == ctx.policy_id), None)
        if policy is None:
            warnings.append(("not-found", f"context: policy {ctx.policy_id} is no longer served; the form is blank"))
            ctx = None
        else:
            chosen[policy.id] = policy  # its form, blank unless the caller may read the pre-filled one
        if ctx is not None and not caller.may_read(ctx.binding):
            warnings.append(("login", "context: a pre-filled form needs the caller the assertion was made for (the "
                                      "EHR's JWT, or the EHR's token of the ordering call); the form is blank"))
            ctx = None
        elif ctx is not None and (why := _not_this_assertion(ctx, req)) is not None:
            warnings.append(("conflict", f"context: {why}; the form is blank"))
            ctx = None
    for canon in req.questionnaires:
        if (policy := by_key.get(questionnaire_key(canon))) is not None:
            chosen.setdefault(policy.id, policy)
        else:
            warnings.append(("not-found", f"questionnaire {canon[:200]}: not a Questionnaire of this server"))
    if not chosen:
        for order in req.orders:
            concepts = order_concepts(order, PatientRecord.from_resources("", [], draft_orders=[order]))
            for policy, _ in governing_policies(lib, concepts):
                chosen.setdefault(policy.id, policy)
        if req.orders and not chosen:
            warnings.append(("informational", "order: no policy of this server governs the ordered drug; no "
                                              "questionnaire is needed"))
    out: list[dict[str, Any]] = []
    for policy in chosen.values():
        entries: list[dict[str, Any]]
        if ctx is not None and ctx.policy_id == policy.id:
            q, qr = prefilled(policy, base, ctx)
            entries = [q, qr]
            read.outcome = "pre-filled"
        else:
            entries = [questionnaire(policy, base)]
        entries.append(library(policy, base))
        bundle = {"resourceType": "Bundle", "type": "collection",
                  # fullUrl: the canonical of the Questionnaire and the Library, a uuid for the response
                  "entry": [{"fullUrl": r.get("url") or f"urn:uuid:{r['id']}", "resource": r} for r in entries]}
        out.append({"name": "PackageBundle", "resource": bundle})
    if warnings:
        issues = [{"severity": "warning", "code": code, "diagnostics": text} for code, text in warnings]
        out.append({"name": "outcome", "resource": {"resourceType": "OperationOutcome", "issue": issues}})
    return {"resourceType": "Parameters", "parameter": out}


def _not_this_assertion(ctx: DtrContext, req: PackageRequest) -> str | None:
    """Why the request does not name this assertion's patient, or None. Required, not optional: a coverage whose
    beneficiary is the patient, or the order itself (its subject the patient; its id, when given, the order)."""
    if not (req.coverages or req.orders):
        return "send the patient's coverage or the order with the context"
    for coverage in req.coverages:
        if patient_id((coverage.get("beneficiary") or {}).get("reference")) != ctx.patient_id:
            return "the coverage's beneficiary is not the patient of this assertion"
    for order in req.orders:
        if patient_id((order.get("subject") or {}).get("reference")) != ctx.patient_id:
            return "the order's subject is not the patient of this assertion"
        if order.get("id") and f"{order.get('resourceType')}/{order['id']}" != ctx.order_ref:
            return "the order is not the order of this assertion"
    return None


def patient_id(ref: Any) -> str | None:
    """The id of a `Patient/<id>` reference (relative, absolute or versioned), else None."""
    found = type_and_id(ref)
    return found[1] if found and found[0] == "Patient" else None
