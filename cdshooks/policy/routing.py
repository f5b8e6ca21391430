"""Which drug each draft order is for, which policy governs it, and whether the patient's Coverage is in scope.

Routing is data: the (system, code) index built from the mappings at start-up, then drug names in the order
text (flagged as a text-only match), then the policy's payer and line of business against Coverage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cdshooks.fhir.codes import SYSTEMS, as_list, codings_of, normalize_code, normalize_system, text_of
from cdshooks.fhir.dates import parse_date, period_bounds
from cdshooks.fhir.record import PatientRecord, ref_of
from cdshooks.policy.codes import Match
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Applicability, Policy

ORDER_TYPES = ("MedicationRequest", "ServiceRequest", "DeviceRequest", "NutritionOrder", "VisionPrescription")
SOPT = SYSTEMS["sopt"]
# SOPT codes are hierarchical: the first digit is the payer family (1 Medicare, 2 Medicaid, 5/6 private).
SOPT_FAMILY = {"1": "medicare", "2": "medicaid", "5": "commercial", "6": "commercial"}
LOB_WORDS = (
    ("medicaid", "medicaid"),
    ("medicare", "medicare"),
    ("marketplace", "marketplace"),
    ("exchange", "marketplace"),
    ("ichra", "marketplace"),
    ("ambetter", "marketplace"),
    ("commercial", "commercial"),
    ("employer", "commercial"),
)


@dataclass(frozen=True)
class CoverageMatch:
    coverage: Mapping[str, Any]
    payer_name: str
    line_of_business: str | None

    @property
    def ref(self) -> str:
        return ref_of(self.coverage)


@dataclass(frozen=True)
class InScope:
    order: Mapping[str, Any]
    policy: Policy
    drug_match: Match
    coverage: CoverageMatch


def order_concepts(order: Mapping[str, Any], record: PatientRecord) -> tuple[Any, ...]:
    if order.get("resourceType") == "MedicationRequest":
        return record.medication_concepts(order)
    return tuple(c for c in [order.get("code"), order.get("codeCodeableConcept")] if isinstance(c, dict))


def governing_policies(library: Library, concepts: Iterable[Any]) -> list[tuple[Policy, Match]]:
    """Policies whose drug codes match a coding of the order; by drug name only if no code matched. A product
    the policy excludes (e.g. Campath for the Lemtrada policy) never routes to it."""
    concepts = list(concepts)
    found = _governing(library, concepts)
    return [(p, m) for p, m in found if not p.excluded_codes.match(concepts)]


def _governing(library: Library, concepts: list[Any]) -> list[tuple[Policy, Match]]:
    found: dict[str, tuple[Policy, Match]] = {}
    for concept in concepts:
        for coding in codings_of(concept):
            system = normalize_system(coding.get("system"))
            code = coding.get("code")
            if not isinstance(code, str):
                continue
            for policy in library.drug_index.get((system, normalize_code(system, code)), ()):
                shown = coding.get("display")
                display = shown if isinstance(shown, str) else code
                found.setdefault(policy.id, (policy, Match(system, normalize_code(system, code), display)))
    if found:
        return list(found.values())
    for policy in library.policies:
        match = policy.drug_codes.match(concepts) or policy.ambiguous_codes.match(concepts)
        if match:
            found.setdefault(policy.id, (policy, match))
    return list(found.values())


def routes_to(policy: Policy, order: Mapping[str, Any], record: PatientRecord) -> bool:
    """The policy governs this order: by its own drug codes, or by a shared ingredient with the indication
    shown (an alemtuzumab order for CLL is Campath, not Lemtrada)."""
    return bool(policy.drug_codes.match(order_concepts(order, record))) or _indication_shown(policy, order, record)


def _indication_shown(policy: Policy, order: Mapping[str, Any], record: PatientRecord) -> bool:
    """For an order matched only by a shared ingredient or name: its reason, or else the record, shows the
    policy's indication."""
    reasons = [r for r in as_list(order.get("reasonCode")) if isinstance(r, dict)]
    reasons += [code for ref in as_list(order.get("reasonReference"))
                if (res := record.resolve(ref, order)) and res.get("resourceType") == "Condition"
                and isinstance(code := res.get("code"), dict)]
    if reasons:
        return bool(policy.indication.match(reasons, use_text=False))
    return any(policy.indication.match([c.get("code")], use_text=False) for c in record.of("Condition"))


def _payor_names(coverage: Mapping[str, Any], record: PatientRecord) -> tuple[list[str], list[str]]:
    names, identifiers = [], []
    for payor in as_list(coverage.get("payor")):
        if not isinstance(payor, dict):
            continue
        if isinstance(payor.get("display"), str):
            names.append(payor["display"])
        ident = payor.get("identifier")
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            identifiers.append(ident["value"])
        org = record.resolve(payor, coverage)
        if org:
            if isinstance(org.get("name"), str):
                names.append(org["name"])
            names += [a for a in org.get("alias") or [] if isinstance(a, str)]
            identifiers += [i["value"] for i in org.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    if not names:
        # A payor given only by an identifier the mappings do not list: the plan and group names on
        # Coverage.class name the health plan (e.g. "Sunshine Health Florida Medicaid").
        names = [c["name"] for c in as_list(coverage.get("class"))
                 if isinstance(c, dict) and isinstance(c.get("name"), str)]
    return names, identifiers


def line_of_business(coverage: Mapping[str, Any]) -> str | None:
    """medicaid / medicare / commercial / marketplace from Coverage.type (SOPT) or type and class names."""
    words = " ".join(
        [text_of(coverage.get("type"))]
        + [f"{c.get('name', '')} {c.get('value', '')} {text_of(c.get('type'))}" for c in as_list(coverage.get("class"))
           if isinstance(c, dict)]
    ).lower()
    named = next((lob for word, lob in LOB_WORDS if re.search(rf"\b{word}\b", words)), None)
    for coding in codings_of(coverage.get("type")):
        if normalize_system(coding.get("system")) == SOPT and isinstance(coding.get("code"), str):
            family = SOPT_FAMILY.get(coding["code"][:1])
            if family:
                # SOPT has no marketplace code: private insurance named as a marketplace plan is one.
                return "marketplace" if family == "commercial" and named == "marketplace" else family
    return named


def _payer_matches(app: Applicability, names: list[str], identifiers: list[str]) -> str | None:
    if set(app.payer.identifiers) & set(identifiers):
        return names[0] if names else app.payer.name
    for name in names:
        low = name.lower()
        if any(re.search(rf"\b{re.escape(n)}\b", low) for n in app.payer.names):
            return name
    return None


def in_force(coverage: Mapping[str, Any], on: date) -> bool:
    """Active, and the order date falls inside Coverage.period (an open end is open)."""
    if coverage.get("status") != "active":
        return False
    start, end = period_bounds(coverage.get("period"))
    return not (start and on < start) and not (end and on > end)


def _rank(coverage: Mapping[str, Any]) -> int:
    order = coverage.get("order")
    return order if isinstance(order, int) and not isinstance(order, bool) else 10**6


def primary_coverage(record: PatientRecord, on: date) -> Mapping[str, Any] | None:
    """The Coverage in force on the date that comes first in Coverage.order: where an order no policy governs is
    said to stand."""
    return next((c for c in sorted(record.of("Coverage"), key=_rank) if in_force(c, on)), None)


def match_coverage(policy: Policy, record: PatientRecord, on: date) -> CoverageMatch | None:
    """The patient's Coverage in force on the order date whose payer and line of business the policy applies
    to; with several, the one first in Coverage.order. A line of business that cannot be read never matches a
    policy limited to some lines of business."""
    for coverage in sorted(record.of("Coverage"), key=_rank):
        if not in_force(coverage, on):
            continue
        names, identifiers = _payor_names(coverage, record)
        lob = line_of_business(coverage)
        for app in policy.applies_to:
            payer_name = _payer_matches(app, names, identifiers)
            if payer_name is None:
                continue
            if app.lines_of_business and lob not in app.lines_of_business:
                continue
            return CoverageMatch(coverage, payer_name, lob)
    return None


def orders_in_scope(library: Library, record: PatientRecord, orders: Iterable[dict[str, Any]],
                    today: date) -> list[InScope]:
    out = []
    for order in orders:
        on = parse_date(order.get("authoredOn")) or today
        for policy, match in governing_policies(library, order_concepts(order, record)):
            if not routes_to(policy, order, record):
                continue
            coverage = match_coverage(policy, record, on)
            if coverage:
                out.append(InScope(order, policy, match, coverage))
                break
    return out
