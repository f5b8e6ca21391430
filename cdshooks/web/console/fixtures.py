"""The bundled synthetic patients as the console lists them, and the CDS Hooks request an EHR would send for one."""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from cdshooks.ehr.request import hook_request, prefetch_from_resources
from cdshooks.fhir.codes import order_label
from cdshooks.fhir.dates import parse_date
from cdshooks.service.hooks import BY_HOOK, PrefetchSpec
from cdshooks.settings import FIXTURES_DIR as FIXTURES


@lru_cache(maxsize=1)
def manifest(root: Path = FIXTURES) -> dict[str, Any]:
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def scenario(key: str) -> dict[str, Any] | None:
    return next((s for s in manifest()["scenarios"] if s["key"] == key), None)


@lru_cache(maxsize=512)
def _resources(bundle: str) -> tuple[dict[str, Any], ...]:
    data = json.loads((FIXTURES / bundle).read_text(encoding="utf-8"))
    return tuple(e["resource"] for e in data.get("entry", []))


def patients() -> list[dict[str, Any]]:
    """One row per fixture: what a tester picks a patient by."""
    anchor = parse_date(manifest().get("anchorDate")) or date.today()
    return [_row(s, anchor) for s in manifest()["scenarios"]]


def _row(s: dict[str, Any], anchor: date) -> dict[str, Any]:
    resources = _resources(s["bundle"])
    patient = next((r for r in resources if r["resourceType"] == "Patient" and r.get("id") == s["patientId"]), {})
    coverage = next((r for r in resources if r["resourceType"] == "Coverage"), {})
    order = s["draftOrders"][0]
    born = parse_date(patient.get("birthDate"))
    age = anchor.year - born.year - ((anchor.month, anchor.day) < (born.month, born.day)) if born else None
    expected = s.get("expected") or {}
    return {
        "key": s["key"],
        "patientId": s["patientId"],
        "userId": s["userId"],
        "name": _name(patient),
        "age": age,
        "payer": ", ".join(p.get("display", "") for p in coverage.get("payor", []) if isinstance(p, dict)),
        "drug": order_label(order),
        "orders": [order_label(o) for o in s["draftOrders"]],
        "expected": expected.get("outcome", "no card"),
        "description": s.get("description", ""),
    }


def _name(patient: dict[str, Any]) -> str:
    for name in patient.get("name") or []:
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("given", []), name.get("family", "")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return patient.get("id", "")


def request_for(key: str, hook: str, specs: tuple[PrefetchSpec, ...], order_index: int = 0) -> dict[str, Any] | None:
    """The request an EHR that resolved our prefetch templates would send for this fixture's draft order."""
    s = scenario(key)
    if s is None or not 0 <= order_index < len(s["draftOrders"]):
        return None
    resources = list(_resources(s["bundle"]))
    prefetch = prefetch_from_resources(resources, specs, s["patientId"], s["userId"])
    orders = copy.deepcopy(s["draftOrders"])
    order = orders[order_index]
    # Every draft order of the fixture is on the order form (monotherapy criteria read the others).
    spec = BY_HOOK[hook]
    # order-dispatch sends the chosen order; order-select selects it (the first one given); order-sign signs all.
    if spec.dispatched:
        orders = [order]
    elif spec.selected_only:
        orders = [order] + [o for o in orders if o is not order]
    body = hook_request(hook, s["patientId"], orders, user_id=s["userId"], prefetch=prefetch)
    if spec.dispatched:
        body["prefetch"]["dispatchedOrder"] = order  # the signed order, as the EHR holds it
    return body
