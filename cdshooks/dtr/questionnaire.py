"""One FHIR R4 Questionnaire per policy, generated from its criteria: adding a policy adds its form.

An item per criterion a record may leave undecided (linkId = criterion id), groups mirroring the policy's
all/any structure, and a first question choosing the pathway (initial or continued) that enables one group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cdshooks.dtr import expressions
from cdshooks.policy.kinds import KINDS
from cdshooks.policy.model import Criterion, Policy, humane_unit

DTR_QUESTIONNAIRE_PROFILE = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-std-questionnaire"
CQF_LIBRARY = "http://hl7.org/fhir/StructureDefinition/cqf-library"
QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
UCUM = "http://unitsofmeasure.org"
PATHWAY_LINK_ID = "pa-pathway"
PATHWAY_SYSTEM = "urn:pa-advisor:pathway"
NOT_AUTHORIZED_LINK_ID = "not-authorized"
# Criteria no answer can change: a mirror of another criterion (its item is the other one's), and "never".
NO_ITEM_KINDS = frozenset({"same_as", "never"})


def slug(policy: Policy) -> str:
    """The Questionnaire id: the policy id in lower case, e.g. LA.PHAR.652 → la-phar-652."""
    return re.sub(r"[^a-z0-9]+", "-", policy.id.lower()).strip("-")


def computable_name(policy: Policy) -> str:
    """The Questionnaire's and the Library's `name` (and the ELM library id): PAAdvisorLAPHAR652."""
    return "PAAdvisor" + re.sub(r"[^A-Za-z0-9]", "", policy.id)


def canonical(base: str, policy: Policy) -> str:
    """`{base}/fhir/Questionnaire/{slug}`: DTR apps call `$questionnaire-package` on its parent path."""
    return f"{base.rstrip('/')}/fhir/Questionnaire/{slug(policy)}"


def library_url(base: str, policy: Policy) -> str:
    return f"{base.rstrip('/')}/fhir/Library/{slug(policy)}"


def key(policy: Policy) -> str:
    """The record's key (record.questionnaire_key) for responses to this policy's Questionnaire."""
    return f"Questionnaire/{slug(policy)}"


def answer_keys(policy: Policy, alias: str) -> tuple[str, ...]:
    """Questionnaires whose answers decide this policy's criteria: its own, and the older attestation alias."""
    return alias, key(policy)


def answer_type(c: Criterion) -> str:
    """The item's type, as the criterion's kind registers it (policy/kinds.py): a count of lines is an integer, a
    lab a decimal in the threshold's unit, a report an attachment; any other criterion a yes/no attestation."""
    kind = KINDS.get(c.kind)
    return kind.answer_type(c) if kind else "boolean"


def question(c: Criterion) -> str:
    """The clinician's question, in the policy's words."""
    kind = answer_type(c)
    if kind == "integer":
        return f"Number of prior lines of therapy received (policy: {c.text})"
    if kind == "decimal":
        days = c.params.get("lookback_days")
        within = f", from the last {days} days" if days else ""
        label = str(c.params.get("label") or c.text)
        return f"{label[:1].upper()}{label[1:]} result in {unit_label(c)} (policy: {c.text}{within})"
    if kind == "attachment":
        return c.request or c.text
    return c.text


def unit_label(c: Criterion) -> str:
    unit = c.params["threshold"].unit
    return humane_unit(unit) or unit


def questionnaire(policy: Policy, base: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    ids = _item_ids(policy)
    if policy.continued:
        items.append(_pathway_item())
    for pathway, spec in (("initial", policy.initial), ("continued", policy.continued)):
        if spec is None:
            continue
        group = _item(spec.criteria, required=True, ids=ids)
        if group and policy.continued:
            group["enableWhen"] = [{"question": PATHWAY_LINK_ID, "operator": "=",
                                    "answerCoding": {"system": PATHWAY_SYSTEM, "code": pathway}}]
        items += [group] if group else []
    excluded = [i for c in policy.not_authorized if (i := _item(c, required=True, ids=ids))]
    if excluded:
        items.append({"linkId": NOT_AUTHORIZED_LINK_ID, "type": "group", "text": "Uses the policy does not authorize",
                      "item": excluded})
    return {
        "resourceType": "Questionnaire",
        "id": slug(policy),
        "meta": {"profile": [DTR_QUESTIONNAIRE_PROFILE]},
        "extension": [{"url": CQF_LIBRARY, "valueCanonical": library_url(base, policy)},
                      *expressions.questionnaire_extensions()],
        "url": canonical(base, policy),
        "version": policy.revision,
        "name": computable_name(policy),
        "title": f"{policy.title}: prior authorization documentation ({policy.id})",
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": policy.payer_label,
        "description": (f"The {policy.id} criteria ({policy.source_document}) as questions. Answer what the "
                        "patient's record does not show; a completed response for this patient decides those "
                        "criteria at the next order-sign."),
        "item": items,
    }


def _pathway_item() -> dict[str, Any]:
    options = [("initial", "Initial approval (new start)"), ("continued", "Continued therapy (re-authorization)")]
    return {"linkId": PATHWAY_LINK_ID, "type": "choice", "required": True,
            "text": "Is this request for initial approval or for continued therapy?",
            "answerOption": [{"valueCoding": {"system": PATHWAY_SYSTEM, "code": code, "display": display}}
                             for code, display in options]}


def _item_ids(policy: Policy) -> set[str]:
    """Ids of the criteria that get a boolean item (an enableWhen may only point at one of those)."""
    roots = [policy.initial.criteria, *([policy.continued.criteria] if policy.continued else []),
             *policy.not_authorized]
    return {c.id for root in roots for c in walk(root) if has_item(c) and answer_type(c) == "boolean"}


def _item(c: Criterion, required: bool, ids: set[str]) -> dict[str, Any] | None:
    """The item for a criterion: a group for all/any/not/at_least (None when nothing in it can be answered)."""
    head: dict[str, Any] = {"linkId": c.id}
    if c.source:
        head["prefix"] = c.source
    if c.is_combinator:
        # Inside an alternative ("any"), no single item is required.
        children = [i for child in c.children if (i := _item(child, required and c.kind == "all", ids))]
        if not children:
            return None
        says_how = "one of" in c.text.lower() or "following" in c.text.lower()
        text = {"any": c.text if says_how else f"{c.text} (one of)",
                "at_least": c.text if says_how else f"{c.text} (at least {c.params.get('n', 1)})",
                "not": f"{c.text} (must not be the case)"}.get(c.kind, c.text)
        out = {**head, "type": "group", "text": text, "item": children}
    elif not has_item(c):
        return None
    else:
        kind = answer_type(c)
        out = {**head, "type": kind, "text": question(c)}
        if kind == "decimal":
            unit = c.params["threshold"].unit
            out["extension"] = [{"url": QUESTIONNAIRE_UNIT,
                                 "valueCoding": {"system": UCUM, "code": unit, "display": unit_label(c)}}]
        if required and not c.applies_if:
            out["required"] = True
        if kind == "boolean" and (expression := expressions.initial_expression(c)):
            out.setdefault("extension", []).append(expression)
    if c.applies_if and c.applies_if in ids:
        # Only matters when the condition holds (e.g. a dose clause that applies to dose increases only).
        out["enableWhen"] = [{"question": c.applies_if, "operator": "=", "answerBoolean": True}]
    return out


def has_item(c: Criterion) -> bool:
    return not c.is_combinator and c.kind not in NO_ITEM_KINDS


def walk(c: Criterion) -> Iterator[Criterion]:
    yield c
    for child in c.children:
        yield from walk(child)


def items_of(q: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire (or QuestionnaireResponse), depth first."""
    for item in q.get("item") or []:
        yield item
        yield from items_of(item)
