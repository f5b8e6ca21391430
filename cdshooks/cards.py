"""Evaluation → the clinician's card and the Da Vinci CRD coverage-information systemAction."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from .orders import InScope
from .policy.model import CriterionResult, Evaluation, Outcome, Status

CARD_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
COVERAGE_INFO_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
SUMMARY_MAX = 139
# What we echo back from a request is capped, so a hostile order cannot bloat a card.
ECHO_MAX = 200
MARK = {Status.MET: "✅ met", Status.NOT_MET: "❌ **not met**", Status.MISSING: "⚠️ missing"}


def clip(text: str, limit: int = ECHO_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(ev: Evaluation, payer: str) -> str:
    drug = ev.policy.drug_name
    if ev.outcome is Outcome.LIKELY_APPROVED:
        tail = "likely approved as documented"
    elif ev.outcome is Outcome.DOCUMENTATION_NEEDED:
        n = len(ev.missing_documentation)
        tail = f"likely approved once {n} item{'s' if n != 1 else ''} {'are' if n != 1 else 'is'} documented"
    else:
        n = len(ev.denial_reasons)
        tail = f"likely denied, {n} criterion not met" if n == 1 else f"likely denied, {n} criteria not met"
    room = SUMMARY_MAX - len(f"{drug} PA, : {tail}")
    return f"{drug} PA, {clip(payer, max(room, 10))}: {tail}"[:SUMMARY_MAX]


def _evidence_line(r: CriterionResult) -> str:
    parts = [f"{e.reference}: {clip(e.text)}" + (f" ({e.date})" if e.date else "") for e in r.evidence[:4]]
    if r.note:
        parts.append(clip(r.note))
    return "; ".join(parts)


def detail(ev: Evaluation, scope: InScope) -> str:
    lines: list[str] = []
    if ev.missing_documentation:
        lines.append("**To document before submitting the PA request:**")
        lines += [f"- {clip(d, 400)}" for d in ev.missing_documentation]
    if ev.denial_reasons:
        lines.append("**Criteria the record shows as not met:**")
        lines += [f"- {clip(d, 400)}" for d in ev.denial_reasons]
    if ev.ambiguities:
        lines.append("**Policy text is ambiguous here (reviewer judgment):**")
        lines += [f"- {clip(a, 400)}" for a in ev.ambiguities]
    order = clip(scope.drug_match.display, 80)
    lines.append("")
    lines.append(f"**{ev.policy.id} — {ev.pathway.value} criteria** for {ev.order_ref} ({order}), "
                 f"evaluated on {ev.anchor}:")
    for r in ev.root.walk()[1:]:
        c = r.criterion
        indent = "  " * max(r.depth, 0)
        label = f"{c.source} " if c.source else ""
        evidence = _evidence_line(r)
        tail = f" — {evidence}" if evidence else ""
        lines.append(f"{indent}- {MARK[r.status]} — {label}{clip(c.text, 300)}{tail}")
    lines.append("")
    lines.append(f"**Expected approval duration:** {ev.approval_duration}")
    if ev.policy.dose_limits_text:
        lines.append(f"**Dose limits:** {ev.policy.dose_limits_text}")
    for note in ev.notes:
        lines.append(f"_{clip(note, 300)}_")
    if scope.drug_match.by_text:
        lines.append("_The ordered drug was recognised by name only; check the order's coding._")
    payer = clip(scope.coverage.payer_name, 80)
    lines.append(f"_Source: {ev.policy.source_document}. Coverage: {scope.coverage.ref} ({payer})._")
    return "\n".join(lines)


def evaluation_json(ev: Evaluation, payer: str) -> dict[str, Any]:
    """The stable machine-readable copy carried in card.extension["pa-advisor.evaluation"]."""
    criteria = []
    for r in ev.root.walk()[1:]:
        c = r.criterion
        item: dict[str, Any] = {"id": c.id, "text": c.text, "status": r.status.value, "kind": c.kind}
        if c.source:
            item["source"] = c.source
        if r.evidence:
            item["evidence"] = [e.as_json() for e in r.evidence]
        if r.note:
            item["note"] = r.note
        criteria.append(item)
    out: dict[str, Any] = {
        "order": ev.order_ref,
        "drug": dict(ev.drug),
        "policy": {"id": ev.policy.id, "title": ev.policy.title, "payer": payer},
        "pathway": ev.pathway.value,
        "outcome": ev.outcome.value,
        "criteria": criteria,
        "missingDocumentation": list(ev.missing_documentation),
        "approvalDuration": ev.approval_duration,
        "anchorDate": ev.anchor,
    }
    if ev.denial_reasons:
        out["denialReasons"] = list(ev.denial_reasons)
    if ev.ambiguities:
        out["ambiguities"] = list(ev.ambiguities)
    return out


def pa_card(ev: Evaluation, scope: InScope) -> dict[str, Any]:
    payer = scope.coverage.payer_name
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(ev, payer),
        "detail": detail(ev, scope),
        "indicator": "info" if ev.outcome is Outcome.LIKELY_APPROVED else "warning",
        "source": {
            "label": clip(payer, 100),
            "topic": {"system": CARD_TYPE_SYSTEM, "code": "coverage-info", "display": "Coverage Information"},
        },
        "extension": {
            "pa-advisor.evaluation": evaluation_json(ev, payer),
            "davinci-crd.associated-resource": [{"reference": ev.order_ref}],
        },
    }
    links = [{"label": link.label, "url": link.url, "type": "absolute"} for link in ev.policy.links]
    if links:
        card["links"] = links
    return card


def coverage_information(ev: Evaluation, scope: InScope, assertion_id: str, today: str) -> dict[str, Any]:
    """The coverage-information extension, inside the subset valid in both CRD 2.0.1 and 2.2.1."""
    reason = {
        Outcome.LIKELY_APPROVED: "Prior authorization required; the record meets the policy criteria.",
        Outcome.DOCUMENTATION_NEEDED: "Prior authorization required; clinical documentation is still missing.",
        Outcome.LIKELY_DENIED: "Prior authorization required; the record shows policy criteria not met.",
    }[ev.outcome]
    return {
        "url": COVERAGE_INFO_URL,
        "extension": [
            {"url": "coverage", "valueReference": {"reference": scope.coverage.ref}},
            {"url": "covered", "valueCode": "covered"},
            {"url": "pa-needed", "valueCode": "auth-needed"},
            {"url": "doc-needed", "valueCode": "clinical"},
            {"url": "doc-purpose", "valueCode": "withpa"},
            {"url": "reason", "valueCodeableConcept": {"text": f"{ev.policy.id}: {reason}"}},
            {"url": "date", "valueDate": today},
            {"url": "coverage-assertion-id", "valueString": assertion_id},
        ],
    }


def coverage_action(ev: Evaluation, scope: InScope, assertion_id: str, today: str) -> dict[str, Any]:
    """type update: the complete draft order, with only the coverage-information extension added."""
    resource = copy.deepcopy(dict(scope.order))
    resource["extension"] = list(resource.get("extension") or []) + [
        coverage_information(ev, scope, assertion_id, today)
    ]
    return {
        "type": "update",
        "description": f"Coverage information for {ev.order_ref} under {ev.policy.id}",
        "resource": resource,
    }


EMPTY = (None, "", [], {})


def prune(value: Any) -> Any:
    """Drop null and empty values from what we build, as CDS Hooks requires (a card, never a client's resource)."""
    if isinstance(value, Mapping):
        return {k: p for k, v in value.items() if (p := prune(v)) not in EMPTY}
    if isinstance(value, list):
        return [p for v in value if (p := prune(v)) not in EMPTY]
    return value
