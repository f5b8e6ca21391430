"""Plays the EHR side: builds CDS Hooks requests the way a client would (tests, CLI, benchmarks).

`prefetch_from_resources` files a patient's resources under our discovery prefetch keys, as an EHR that
resolved the templates would; `hook_request` wraps draft orders into an order-sign/select/dispatch body.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from cdshooks.service.hooks import BY_HOOK, PrefetchSpec


def searchset(resources: Iterable[dict], included: Iterable[dict] = ()) -> dict:
    items, extra = list(resources), list(included)
    return {"resourceType": "Bundle", "type": "searchset", "total": len(items),
            "entry": [{"fullUrl": f"{r['resourceType']}/{r.get('id')}", "resource": r, "search": {"mode": mode}}
                      for rs, mode in ((items, "match"), (extra, "include")) for r in rs]}


def prefetch_from_resources(resources: Iterable[dict], specs: Iterable[PrefetchSpec], patient_id: str,
                            user_id: str | None) -> dict[str, Any]:
    by_type: dict[str, list[dict]] = {}
    for res in resources:
        by_type.setdefault(res["resourceType"], []).append(res)
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.key == "patient":
            out[spec.key] = next((p for p in by_type.get("Patient", []) if p.get("id") == patient_id), None)
        elif spec.key == "user":
            kind, _, uid = (user_id or "").partition("/")
            out[spec.key] = next((r for r in by_type.get(kind, []) if r.get("id") == uid), None)
        elif spec.key == "userRoles":
            out[spec.key] = searchset(r for r in by_type.get("PractitionerRole", [])
                                      if str((r.get("practitioner") or {}).get("reference")) == user_id)
        elif spec.resource_type:
            found = by_type.get(spec.resource_type, [])
            included: list[dict] = []
            if "_include=" in spec.template:  # as the server would: the Medications these name, once each
                named = {str((r.get("medicationReference") or {}).get("reference")) for r in found}
                included = [m for m in by_type.get("Medication", []) if f"Medication/{m.get('id')}" in named]
            out[spec.key] = searchset(found, included)
    return out


def hook_request(hook: str, patient_id: str, orders: list[dict], *, user_id: str | None = None,
                 prefetch: Mapping[str, Any] | None = None, fhir_server: str | None = None,
                 token: str | None = None, hook_instance: str | None = None) -> dict[str, Any]:
    """A hook request as an EHR sends it: the context is the hook table's (service/hooks.py)."""
    body: dict[str, Any] = {"hook": hook, "hookInstance": hook_instance or str(uuid.uuid4()),
                            "context": BY_HOOK[hook].context(patient_id, orders, user_id)}
    if fhir_server:
        body["fhirServer"] = fhir_server
        if token is not None:
            body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                         "scope": "patient/*.read user/*.read", "subject": "pa-advisor"}
    if prefetch is not None:
        body["prefetch"] = dict(prefetch)
    return body


def apply_suggestion(body: dict[str, Any], suggestion: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """What an EHR does when the clinician accepts a suggestion: each `update` replaces the draft order it names
    (the next signing sees the changed order); each `create` is a new resource the EHR keeps (returned: a lab
    order, a Task). The body is a copy; the caller sends its feedback (`acceptedSuggestions`) itself."""
    out = copy.deepcopy(body)
    created: list[dict] = []
    entries = ((out.get("context") or {}).get("draftOrders") or {}).get("entry") or []
    for action in suggestion.get("actions") or []:
        resource = action.get("resource") or {}
        if action.get("type") == "update":
            for entry in entries:
                old = entry.get("resource") or {}
                if (old.get("resourceType"), old.get("id")) == (resource.get("resourceType"), resource.get("id")):
                    entry["resource"] = copy.deepcopy(resource)
        elif action.get("type") == "create":
            created.append(copy.deepcopy(resource))
    return out, created


def accepted_feedback(card: Mapping[str, Any], suggestion: Mapping[str, Any], when: str) -> dict[str, Any]:
    """The feedback an EHR sends for an accepted suggestion (CDS Hooks 2.0: the card's and suggestion's uuids)."""
    return {"feedback": [{"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": when,
                          "acceptedSuggestions": [{"id": suggestion["uuid"]}]}]}
