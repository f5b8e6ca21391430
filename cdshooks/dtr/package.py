"""`$questionnaire-package`: DTR input Parameters → output Parameters with one PackageBundle per policy.

The form is pre-answered only for a `context` (the CRD coverage-assertion-id: a random capability) that is
still kept; without one, or with an unknown one, the package is a blank form and carries no patient data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdshooks.dtr.library import library
from cdshooks.dtr.prefill import DtrContext, prefilled
from cdshooks.dtr.questionnaire import key, questionnaire
from cdshooks.errors import RequestError
from cdshooks.fhir.record import PatientRecord, questionnaire_key
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Policy
from cdshooks.policy.routing import ORDER_TYPES, governing_policies, order_concepts

MAX_PARAMETERS = 100


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
            find_context: Callable[[str], DtrContext | None]) -> dict[str, Any]:
    warnings: list[tuple[str, str]] = []  # (issue code, text)
    by_key = {key(p): p for p in lib.policies}
    chosen: dict[str, Policy] = {}
    ctx = find_context(req.context) if req.context else None
    if req.context and ctx is None:
        warnings.append(("not-found", "context: no coverage assertion with this id is kept (unknown or expired); "
                                      "the form is blank"))
    if ctx is not None:
        policy = next((p for p in lib.policies if p.id == ctx.policy_id), None)
        if policy is None:
            warnings.append(("not-found", f"context: policy {ctx.policy_id} is no longer served; the form is blank"))
            ctx = None
        else:
            chosen[policy.id] = policy
    if ctx is not None and not _same_patient(ctx, req.coverages):
        warnings.append(("conflict", "context: the coverage's beneficiary is not the patient of this assertion; "
                                     "the form is blank"))
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


def _same_patient(ctx: DtrContext, coverages: list[dict[str, Any]]) -> bool:
    """A coverage given with the context must be the assertion patient's (the id alone is the capability)."""
    for coverage in coverages:
        ref = str((coverage.get("beneficiary") or {}).get("reference") or "")
        if ref and ref.split("/_history")[0].rstrip("/").split("/")[-1] != ctx.patient_id:
            return False
    return True
