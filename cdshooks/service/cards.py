"""Evaluation → the clinician's card and the Da Vinci CRD coverage-information systemAction."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from typing import Any

from cdshooks.fhir.codes import order_label
from cdshooks.fhir.record import ref_of
from cdshooks.policy.model import CriterionResult, Evaluation, Need, Outcome, Requirement, Status
from cdshooks.policy.routing import InScope
from cdshooks.service import wording

CARD_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
COVERAGE_INFO_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
# The coded reason of every coverage-information (extensible binding: a code of ours, always with its text).
REASON_SYSTEM = "urn:pa-advisor:CodeSystem:coverage-reason"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
SUMMARY_MAX = 139  # CDS Hooks: a summary of fewer than 140 characters
DETAIL_MAX = 2000
# What we echo back from a request is capped, so a hostile order cannot bloat a card.
ECHO_MAX = 200


def clip(text: str, limit: int = ECHO_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Characters that make CommonMark (and GitHub's) syntax: links, images, autolinks, raw HTML, emphasis, code,
# strikethrough, entities. Text from the record or the request never forms any of it in a card.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!~&])")
_SUMMARY_DROP = str.maketrans("", "", "[]<>!*_`~\\")


def md(text: str) -> str:
    """Text from the record, the request or a policy, as literal CommonMark: every syntax character escaped."""
    return _MARKDOWN.sub(r"\\\1", text)


def _why(r: CriterionResult) -> str:
    """A decisive reason without its policy citation, for the summary line."""
    return f"{r.criterion.text} — {wording.why(r)}"


def summary(ev: Evaluation) -> str:
    """Outcome first, then the decisive reason or the next step (≤ 140 characters)."""
    drug = ev.policy.drug_name
    if ev.not_covered:
        text = f"{drug}: not covered for this use — {_why(ev.denials[0])}"
    elif ev.outcome is Outcome.LIKELY_APPROVED:
        text = f"{drug} PA likely approved: the record meets every {ev.policy.id} criterion"
    elif ev.outcome is Outcome.DOCUMENTATION_NEEDED:
        n = len(ev.missing)
        text = f"{drug} PA: document {n} item{'s' if n != 1 else ''} first — {wording.first(ev.missing[0])}"
    else:
        text = f"{drug} PA likely denied — {_why(ev.denials[0])}"
    # The summary is plain text (CDS Hooks): markup characters from the record are dropped, not escaped.
    return clip(text.translate(_SUMMARY_DROP), SUMMARY_MAX)


def _deciding_leaves(r: CriterionResult, met_above: bool = False) -> list[tuple[CriterionResult, bool]]:
    """Every leaf with whether an ancestor is already met (then an open alternative beside it decides nothing)."""
    if not r.children:
        return [(r, met_above)]
    above = met_above or (r.status is Status.MET and r.criterion.kind in ("any", "at_least"))
    return [x for child in r.children for x in _deciding_leaves(child, above)]


def _met_line(ev: Evaluation) -> str:
    """The policy items the record meets. An item is met when a criterion citing it is met and none citing it
    failed or is still open where it could still decide; exclusions (the not-covered list) are never listed."""
    excluded_roots = {c.id for c in ev.policy.not_authorized}
    exclusions = {x.criterion.id for r in ev.root.children if r.criterion.id in excluded_roots for x in r.walk()}
    leaves = [(r, settled) for r, settled in _deciding_leaves(ev.root)
              if r.criterion.kind != "same_as" and r.criterion.id not in exclusions and not r.criterion.not_covered]
    open_items = {r.criterion.source for r, settled in leaves if r.status is not Status.MET and not settled}
    met = sorted({r.criterion.source for r, _ in leaves if r.status is Status.MET and r.criterion.source}
                 - open_items, key=lambda s: [p.zfill(4) for p in s.replace("-", ".").split(".")])
    return f"**Met:** {', '.join(met)}" if met else ""


# Requests that already start with what to do read as written; others get "Document" in front.
VERBS = ("Document", "Submit", "Record", "Confirm", "Attest", "Code", "Order", "Report", "State", "Set", "Provide")


def _step_text(item: Requirement, compact: bool = False) -> str:
    """One missing-documentation item as a step, whole (never clipped): "Document I.A.7: …", or "I.A.2: Document
    that …" when the request says what to do itself. `compact` drops what the record already shows (the first
    wording to go when the detail is too long)."""
    text = wording.requirement(item, shown=not compact)
    if isinstance(item, Need) and (item.criterion.request or item.criterion.text).startswith(VERBS):
        return md(text)
    return f"Document {md(text)}"


def _steps(ev: Evaluation, payer: str, form: str | None, compact: bool = False) -> list[str]:
    steps = []
    if ev.not_covered:
        steps.append(f"Do not submit under {ev.policy.id}: the policy lists this use as not covered.")
    for referral in ev.referrals:
        steps.append(md(referral))
    if ev.outcome is Outcome.DOCUMENTATION_NEEDED:
        steps += [_step_text(d, compact) for d in ev.missing]
        if form:
            steps.append(f"Or complete the {ev.policy.id} questionnaire in your EHR's documentation (DTR) app: it "
                         "asks only what the record does not show, and the answers count at the next signing.")
        steps.append(_submit(ev, f"Then submit the PA request to {payer} with the documentation."))
    elif ev.outcome is Outcome.LIKELY_DENIED and not ev.not_covered and not ev.referrals:
        steps.append("Review the reasons below: as the record stands the request does not meet the policy.")
    elif ev.outcome is Outcome.LIKELY_APPROVED:
        steps.append(_submit(ev, f"Submit the PA request to {payer}; the record supports every criterion."))
    return steps


def _submit(ev: Evaluation, text: str) -> str:
    """The submission step, with where the payer reviews it when the policy names a review (Abecma: PDAC)."""
    return f"{text} {ev.policy.review}" if ev.policy.review else text


def detail(ev: Evaluation, scope: InScope, form: str | None = None) -> str:
    """Numbered next steps, the decisive reasons, one line of what is met, notices; ≤ 2,000 characters.
    The whole checklist stays in the evaluation extension (and `pa-advisor explain`). Over the limit, the wording
    gets shorter (what the record shows, the met line, the notices go first); steps are never cut."""
    text = ""
    for compact in range(4):
        text = _detail(ev, scope, form, compact)
        if len(text) <= DETAIL_MAX:
            return text
    return _fit(text)


def _detail(ev: Evaluation, scope: InScope, form: str | None, compact: int) -> str:
    payer = md(clip(scope.coverage.payer_name, 80))
    steps = _steps(ev, payer, form, compact > 0)
    blocks = ["**Next steps**", "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))]
    if ev.denials:
        blocks += ["**Why**", "\n".join(f"- {md(clip(wording.denial(d), 300))}" for d in ev.denials)]
    if ev.ambiguous and compact < 3:
        blocks += ["**Policy text is ambiguous here (reviewer judgment)**",
                   "\n".join(f"- {md(clip(wording.ambiguity(a), 300))}" for a in ev.ambiguous)]
    tail = [line for line in [_met_line(ev)] if line and compact < 2]
    tail += [f"_{md(clip(n, 240))}_" for n in ev.policy.notices if compact < 3]
    if scope.drug_match.by_text:
        tail.append("_The ordered drug was recognised by name only; check the order's coding._")
    # CRD dev-24: a card about some of the orders names them in human terms (the reference is in the extension).
    # A use the policy does not cover has no approval to speak of.
    approval = "" if ev.not_covered else f"Approval if granted: {ev.approval_duration}. "
    tail.append(f"Order: {md(clip(scope.drug_match.display, 80))}, signed {ev.anchor}. {md(approval)}"
                f"{ev.pathway.value.title()} criteria of {md(ev.policy.source_document)}.")
    blocks += tail
    return "\n\n".join(blocks)


def _fit(text: str) -> str:
    """Keep whole lines under DETAIL_MAX: long lists are cut, with a pointer to the full checklist."""
    if len(text) <= DETAIL_MAX:
        return text
    note = "\n\n_(shortened: the full checklist is in the card's pa-advisor.evaluation extension)_"
    lines, size = [], len(note)
    for line in text.split("\n"):
        if size + len(line) + 1 > DETAIL_MAX:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines).rstrip() + note


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
        item["basis"] = r.basis.value
        if r.about is not None:
            item["about"] = r.about.id
        criteria.append(item)
    out: dict[str, Any] = {
        "order": ev.order_ref,
        "drug": dict(ev.drug),
        "policy": {"id": ev.policy.id, "title": ev.policy.title, "payer": payer},
        "pathway": ev.pathway.value,
        "outcome": ev.outcome.value,
        "criteria": criteria,
        # The stable text, and the same items as data beside it (`missing`, `denials`).
        "missingDocumentation": [wording.requirement(x) for x in ev.missing],
        "missing": [_requirement_json(x) for x in ev.missing],
        "approvalDuration": ev.approval_duration,
        "anchorDate": ev.anchor,
    }
    if ev.denials:
        out["denialReasons"] = [wording.denial(r) for r in ev.denials]
        out["denials"] = [_denial_json(r) for r in ev.denials]
    if ev.ambiguous:
        out["ambiguities"] = [wording.ambiguity(r) for r in ev.ambiguous]
    if ev.not_covered:
        out["notCovered"] = True
    if ev.referrals:
        out["referrals"] = list(ev.referrals)
    return out


def add_actions(card: dict[str, Any], link: dict[str, Any] | None, suggestions: list[dict[str, Any]]) -> None:
    """The documentation launch first among the links; the suggestions, of which the clinician takes at most one
    (CDS Hooks 2.0 knows only `at-most-one`)."""
    if link:
        card["links"] = [link, *card.get("links", [])]
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"


def _requirement_json(item: Requirement) -> dict[str, Any]:
    """A need ({criterion, source, request, recordShows}) or {"oneOf": [[…], …]}: any one option, all its items."""
    if isinstance(item, Need):
        c = item.criterion
        out: dict[str, Any] = {"criterion": c.id, "request": c.request or c.text}
        if c.source:
            out["source"] = c.source
        if item.shown:
            out["recordShows"] = item.shown.as_json()
        return out
    return {"oneOf": [[_requirement_json(x) for x in option] for option in item.options]}


def _denial_json(r: CriterionResult) -> dict[str, Any]:
    out: dict[str, Any] = {"criterion": r.criterion.id, "text": r.criterion.text, "basis": r.basis.value,
                           "why": wording.why(r), "evidence": [e.reference for e in r.evidence]}
    if r.criterion.source:
        out["source"] = r.criterion.source
    return out


def _plan_pages(ev: Evaluation, payer: str) -> list[tuple[str, str]]:
    """The member's plan's own policy page, when the policy's payer lists one for that plan (Centene's plans
    each publish the CP.PHAR policies)."""
    low = payer.lower()
    return [(label, url) for app in ev.policy.applies_to for plan, label, url in app.payer.policy_pages
            if re.search(rf"\b{re.escape(plan.lower())}\b", low)]


def pa_card(ev: Evaluation, scope: InScope, form: str | None = None, card_id: str | None = None) -> dict[str, Any]:
    """`form`: the policy's DTR Questionnaire canonical, when the coverage-information offers it; `card_id`: the
    card's uuid (a fresh one unless given: golden cards compare whole)."""
    payer = scope.coverage.payer_name
    card: dict[str, Any] = {
        "uuid": card_id or str(uuid.uuid4()),
        "summary": summary(ev),
        "detail": detail(ev, scope, form),
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
    links = [{"label": label, "url": url, "type": "absolute"} for label, url in _plan_pages(ev, payer)]
    links += [{"label": link.label, "url": link.url, "type": "absolute"} for link in ev.policy.links]
    if links:
        card["links"] = links
    return card


def coverage_information(ev: Evaluation, scope: InScope, assertion_id: str, today: str,
                         form: str | None = None) -> dict[str, Any]:
    """The coverage-information extension, inside the subset valid in both CRD 2.0.1 and 2.2.1; `form` is the
    DTR Questionnaire for the documentation (CRD resp-38: with doc-needed, SHOULD name a questionnaire)."""
    coverage: list[dict[str, Any]] = [{"url": "coverage", "valueReference": {"reference": scope.coverage.ref}}]
    if ev.not_covered:
        # CRD: not-covered carries no pa-needed (and so no withpa documentation purpose).
        reason = "Not covered: the policy lists this use as not covered."
        coverage += [{"url": "covered", "valueCode": "not-covered"}]
    else:
        reason = {
            Outcome.LIKELY_APPROVED: "Prior authorization required; the record meets the policy criteria.",
            Outcome.DOCUMENTATION_NEEDED: "Prior authorization required; clinical documentation is still missing.",
            Outcome.LIKELY_DENIED: "Prior authorization required; the record shows policy criteria not met.",
        }[ev.outcome]
        coverage += [{"url": "covered", "valueCode": "covered"}, {"url": "pa-needed", "valueCode": "auth-needed"},
                     {"url": "doc-needed", "valueCode": "clinical"}, {"url": "doc-purpose", "valueCode": "withpa"}]
        if form:  # CRD q1: a questionnaire only with doc-needed
            coverage.append({"url": "questionnaire", "valueCanonical": form})
    if ev.drug.get("system") == HCPCS:  # the drug's billing code the assertion is for (CRD resp-30)
        coverage.append({"url": "billingCode", "valueCoding": {k: v for k, v in ev.drug.items()
                                                               if k in ("system", "code", "display")}})
    code = "not-covered" if ev.not_covered else ev.outcome.value
    return _information(coverage, code, f"{ev.policy.id}: {reason}", assertion_id, today)


def _information(parts: list[dict[str, Any]], code: str, text: str, assertion_id: str, today: str) -> dict[str, Any]:
    return {
        "url": COVERAGE_INFO_URL,
        "extension": parts + [
            {"url": "reason", "valueCodeableConcept": {"coding": [{"system": REASON_SYSTEM, "code": code,
                                                                   "display": REASON_DISPLAY[code]}],
                                                       "text": text}},
            {"url": "date", "valueDate": today},
            {"url": "coverage-assertion-id", "valueString": assertion_id},
        ],
    }


REASON_DISPLAY = {
    "likely-approved": "The record meets the policy's criteria",
    "documentation-needed": "Clinical documentation for the policy's criteria is still missing",
    "likely-denied": "The record shows a policy criterion not met",
    "not-covered": "The policy lists this use as not covered",
    "no-policy": "No prior-authorization policy known to PA Advisor governs this order",
}


def unjudged_action(order: Mapping[str, Any], coverage_ref: str, assertion_id: str, today: str) -> dict[str, Any]:
    """Coverage-information for an order no policy of ours governs: honestly conditional (the payer's rules for it
    are not known here), valid in CRD 2.0.1 and 2.2 (pa-needed with covered; info-needed with conditional)."""
    parts: list[dict[str, Any]] = [{"url": "coverage", "valueReference": {"reference": coverage_ref}},
             {"url": "covered", "valueCode": "conditional"}, {"url": "pa-needed", "valueCode": "conditional"},
             {"url": "info-needed", "valueCode": "OTH"}]
    text = ("No prior-authorization policy known to PA Advisor governs this order: check the payer's own "
            "requirements for it.")
    return _with_information(order, _information(parts, "no-policy", text, assertion_id, today),
                             f"Coverage information for {ref_of(order)}: no known policy")


def no_coverage_card(orders: list[dict[str, Any]], today: str, card_id: str) -> dict[str, Any]:
    """CRD Instructions (text only): no Coverage in force, so no coverage-information can be given."""
    names = ", ".join(md(clip(order_label(o) or ref_of(o), 80)) for o in orders[:5])
    return {
        "uuid": card_id,
        "summary": "No insurance coverage in force in the record: coverage requirements cannot be checked",
        "detail": f"The record shows no Coverage in force on {today} for: {names}. Update the patient's insurance "
                  "in the record and sign again to see the payer's prior-authorization requirements.",
        "indicator": "info",
        "source": {"label": "PA Advisor",
                   "topic": {"system": CARD_TYPE_SYSTEM, "code": "insurance", "display": "Insurance"}},
    }



def coverage_action(ev: Evaluation, scope: InScope, assertion_id: str, today: str,
                    form: str | None = None) -> dict[str, Any]:
    """type update: the complete draft order, with only the coverage-information extension added."""
    return _with_information(scope.order, coverage_information(ev, scope, assertion_id, today, form),
                             f"Coverage information for {ev.order_ref} under {ev.policy.id}")


def _with_information(order: Mapping[str, Any], info: dict[str, Any], description: str) -> dict[str, Any]:
    resource = copy.deepcopy(dict(order))
    resource["extension"] = list(resource.get("extension") or []) + [info]
    return {"type": "update", "description": description, "resource": resource}


EMPTY: tuple[Any, ...] = (None, "", [], {})


def prune(value: Any) -> Any:
    """Drop null and empty values from what we build, as CDS Hooks requires (a card, never a client's resource)."""
    if isinstance(value, Mapping):
        return {k: p for k, v in value.items() if (p := prune(v)) not in EMPTY}
    if isinstance(value, list):
        return [p for v in value if (p := prune(v)) not in EMPTY]
    return value
