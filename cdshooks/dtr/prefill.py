"""What an evaluation already decided, kept briefly, and the pre-answered form built from it.

The stored context holds criterion ids, statuses, the evidence text and measured values — never resources —
so a DTR app asking with the CRD coverage-assertion-id gets a form where only what is missing is left open.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cdshooks.dtr.questionnaire import PATHWAY_LINK_ID, PATHWAY_SYSTEM, canonical, has_item, questionnaire
from cdshooks.fhir.record import INFORMATION_ORIGIN
from cdshooks.policy.model import Basis, CriterionResult, Evaluation, Policy, Status

EVIDENCE_MAX = 300


@dataclass(frozen=True)
class DtrContext:
    """One coverage assertion: the evaluation behind a coverage-assertion-id."""

    id: str
    policy_id: str
    patient_id: str
    order_ref: str
    pathway: str
    # criterion id → {"status", "evidence", "value", "applies"} (applies: false when an applies_if ruled it out)
    criteria: dict[str, dict[str, Any]]
    # Who made the assertion ({"iss", "token_sha256", "fhir_server"}): who may read its pre-filled form.
    binding: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"order": self.order_ref, "pathway": self.pathway, "criteria": self.criteria}

    @classmethod
    def from_json(cls, assertion_id: str, policy_id: str, patient_id: str, body: dict[str, Any]) -> DtrContext:
        bound = body.get("binding")
        binding: dict[str, Any] = bound if isinstance(bound, dict) else {}
        return cls(assertion_id, policy_id, patient_id, str(body.get("order", "")), str(body.get("pathway", "")),
                   dict(body.get("criteria") or {}), binding)


def context_of(assertion_id: str, patient_id: str, ev: Evaluation) -> DtrContext:
    decided: dict[str, dict[str, Any]] = {}
    for r in ev.root.walk():
        if has_item(r.criterion) and r.criterion.id not in decided:
            decided[r.criterion.id] = {"status": r.status.value, "evidence": _evidence(r)[:EVIDENCE_MAX],
                                       "value": r.value, "applies": r.basis is not Basis.NOT_APPLICABLE}
    return DtrContext(assertion_id, ev.policy.id, patient_id, ev.order_ref, ev.pathway.value, decided)


def _evidence(r: CriterionResult) -> str:
    return "; ".join([e.text + (f" ({e.date})" if e.date else "") for e in r.evidence[:2]] + [r.note or ""]).strip("; ")


def initial_answer(item: dict[str, Any], decided: dict[str, Any] | None) -> dict[str, Any] | None:
    """The answer the record gives this item, in the item's type, if the record decided its criterion."""
    if not decided or decided.get("status") == Status.MISSING.value or not decided.get("applies", True):
        return None
    met = decided["status"] == Status.MET.value
    kind, value = item["type"], decided.get("value")
    if kind == "boolean":
        return {"valueBoolean": met}
    if kind == "integer" and isinstance(value, int | float):
        return {"valueInteger": int(value)}
    if kind == "decimal" and isinstance(value, int | float):
        return {"valueDecimal": round(float(value), 6)}
    return None


def prefilled(policy: Policy, base: str, ctx: DtrContext,
              now: datetime | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Questionnaire with `item.initial` set from the record (what DTR apps pre-fill from), and the same
    answers as an in-progress QuestionnaireResponse, each marked as auto-populated with its evidence."""
    q = copy.deepcopy(questionnaire(policy, base))
    pathway = {"valueCoding": {"system": PATHWAY_SYSTEM, "code": ctx.pathway}}
    response_items = _fill(q["item"], ctx, pathway)
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(uuid.uuid4()),
        "questionnaire": f"{canonical(base, policy)}|{policy.revision}",
        "status": "in-progress",
        "subject": {"reference": f"Patient/{ctx.patient_id}"},
        "authored": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "item": response_items,
    }
    if not response_items:
        del qr["item"]
    return q, qr


def _fill(items: list[dict[str, Any]], ctx: DtrContext, pathway: dict[str, Any]) -> list[dict[str, Any]]:
    """Set item.initial in place; return the QuestionnaireResponse items for what was answered."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "group":
            children = _fill(item["item"], ctx, pathway)
            if children:
                out.append({"linkId": item["linkId"], "text": item["text"], "item": children})
            continue
        decided = ctx.criteria.get(item["linkId"])
        answer = pathway if item["linkId"] == PATHWAY_LINK_ID and ctx.pathway else initial_answer(item, decided)
        if answer is None:
            continue
        item["initial"] = [answer]
        shown = f"From the record: {decided['evidence']}" if decided and decided.get("evidence") else \
            "From the record"
        if decided:
            # Shown under the question in the form: why it is pre-answered.
            item["item"] = [{"linkId": f"{item['linkId']}.record", "type": "display", "text": shown}]
        origin = {"url": INFORMATION_ORIGIN, "extension": [{"url": "source", "valueCode": "auto"}]}
        out.append({"linkId": item["linkId"], "text": f"{item['text']} — {shown}" if decided else item["text"],
                    "answer": [{**answer, "extension": [origin]}]})
    return out
