"""What a card lets the clinician do, from the evaluation's data: launch the documentation (a SMART link to the DTR
app, as DTR launches from a card), and suggestions the EHR applies on acceptance — the draft order at the label
dose (CRD "propose alternate request"), an order for a laboratory result the policy needs, or the CRD "request
form completion" Task. Each suggestion cites the policy item it answers; none is ever applied by us."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from cdshooks.fhir.codes import SYSTEMS
from cdshooks.fhir.record import ref_of
from cdshooks.policy.codes import CodeSet
from cdshooks.policy.model import Choice, CriterionResult, Evaluation, Need, Outcome, Quantity, Requirement, Status
from cdshooks.policy.routing import InScope

UCUM = "http://unitsofmeasure.org"
SDC_TEMP = "http://hl7.org/fhir/uv/sdc/CodeSystem/temp"  # complete-questionnaire (CRD profile-taskquestionnaire)
LAB_KINDS = ("lab", "flc")
MAX_LAB_ORDERS = 3


def launch_link(ev: Evaluation, scope: InScope, assertion_id: str, form: str | None,
                launch_url: str | None) -> dict[str, Any] | None:
    """"Complete the documentation": a SMART link whose appContext names the questionnaire, the order, the
    Coverage and the coverage-assertion-id (`context`), as the DTR reference app reads it."""
    if not (form and launch_url and ev.missing):
        return None
    parts = {"questionnaire": form, "order": ref_of(scope.order), "coverage": scope.coverage.ref,
             "context": assertion_id}
    return {"label": "Complete the documentation", "url": launch_url, "type": "smart",
            "appContext": "&".join(f"{k}={quote(v, safe='/:')}" for k, v in parts.items())}


def suggestions(ev: Evaluation, scope: InScope, patient: str, form: str | None, today: str, *, drafts: bool,
                task: bool, new_id: Callable[[], str]) -> list[dict[str, Any]]:
    """The card's suggestions: the label dose where a dose is over the limit (`drafts`: the order is a draft the
    EHR can update), laboratory orders for results the policy needs, and (`task`: where no DTR app is linked) the
    form-completion Task."""
    out = [_dose_update(ev, scope, r, new_id) for r in _over_limit(ev)] if drafts else []
    if ev.missing:
        labs = [_lab_order(ev, scope, need, patient, today, new_id) for need in _lab_needs(ev.missing)]
        out += [s for s in labs if s][:MAX_LAB_ORDERS]
        if task and form:
            out.append(_form_task(ev, scope, patient, form, today, new_id))
    return [s for s in out if s]


def _over_limit(ev: Evaluation) -> list[CriterionResult]:
    """Dose criteria the order fails with a dose the policy allows instead (once per proposal): on a denial, or
    on a path still open (the label-dose pathway beside the literature one)."""
    if ev.outcome is Outcome.LIKELY_APPROVED:
        return []
    found: dict[tuple[Any, ...], CriterionResult] = {}
    for r in ev.root.walk():
        if r.status is Status.NOT_MET and r.proposal:
            found.setdefault(r.proposal, r)
    return list(found.values())


def _dose_update(ev: Evaluation, scope: InScope, r: CriterionResult,
                 new_id: Callable[[], str]) -> dict[str, Any] | None:
    """The draft order, complete, with each dose over the limit set to the dose the policy allows there."""
    order = copy.deepcopy(dict(scope.order))
    dosages = order.get("dosageInstruction")
    if not isinstance(dosages, list):
        return None
    shown = []
    for index, dose in r.proposal:
        if not (0 <= index < len(dosages) and isinstance(dosages[index], dict)):
            return None
        dosages[index]["doseAndRate"] = [_dose_and_rate(dosages[index], dose)]
        shown.append(str(dose))
    cite = f" ({r.criterion.source})" if r.criterion.source else ""
    label = f"Use the dose the policy allows: {', '.join(shown)}{cite}"
    return {"label": label[:140], "uuid": new_id(), "actions": [
        {"type": "update", "description": f"{label}; the rest of the order unchanged", "resource": order}]}


def _dose_and_rate(dosage: Mapping[str, Any], dose: Quantity) -> dict[str, Any]:
    """The dose as a UCUM quantity, keeping the entry's own type and rate."""
    kept = {k: v for k, v in (dosage.get("doseAndRate") or [{}])[0].items() if k in ("type", "rateQuantity",
                                                                                   "rateRatio", "rateRange")}
    return {**kept, "doseQuantity": {"value": dose.value, "unit": dose.unit, "system": UCUM, "code": dose.unit}}


def _lab_needs(missing: Iterable[Requirement]) -> list[Need]:
    """Laboratory criteria still to document, through alternatives, once each."""
    found: dict[str, Need] = {}
    for item in missing:
        for need in _needs(item):
            if need.criterion.kind in LAB_KINDS and need.result.status is Status.MISSING:
                found.setdefault(need.criterion.id, need)
    return list(found.values())


def _needs(item: Requirement) -> list[Need]:
    if isinstance(item, Need):
        return [item]
    assert isinstance(item, Choice)
    return [n for option in item.options for x in option for n in _needs(x)]


def _lab_order(ev: Evaluation, scope: InScope, need: Need, patient: str, today: str,
               new_id: Callable[[], str]) -> dict[str, Any] | None:
    """A ServiceRequest for the result, coded with the criterion's own LOINC code (none: no suggestion)."""
    c = need.criterion
    codes = c.params.get("ratio") if c.kind == "flc" else c.params.get("codes")
    if not isinstance(codes, CodeSet):
        return None
    loinc = sorted(code for system, code in codes.codes if system == SYSTEMS["loinc"])
    if not loinc:
        return None
    name = "serum free light chains (κ, λ and their ratio)" if c.kind == "flc" else str(c.params.get("label") or c.text)
    display = (codes.displays or {}).get((SYSTEMS["loinc"], loinc[0]))
    order = scope.order
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest", "id": new_id(), "status": "draft", "intent": "order",
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007",
                                  "display": "Laboratory procedure"}]}],
        "code": {"coding": [{"system": SYSTEMS["loinc"], "code": loinc[0], **({"display": display} if display
                                                                               else {})}], "text": name},
        "subject": {"reference": patient},
        "authoredOn": today,
        "reasonCode": [{"text": f"Prior authorization {ev.policy.id} {c.source or ''}: {c.text}".strip()}],
    }
    if isinstance(order.get("requester"), dict):
        request["requester"] = order["requester"]
    cite = f" ({c.source})" if c.source else ""
    label = f"Order {name}{cite}"
    return {"label": label[:140], "uuid": new_id(), "actions": [
        {"type": "create", "description": f"{label}: the policy needs this result", "resource": request}]}


def _form_task(ev: Evaluation, scope: InScope, patient: str, form: str, today: str,
               new_id: Callable[[], str]) -> dict[str, Any]:
    """CRD "request form completion": a Task (profile-taskquestionnaire) to complete the policy's questionnaire."""
    payor = scope.coverage.coverage.get("payor")
    payer = payor[0] if isinstance(payor, list) and payor and isinstance(payor[0], dict) else \
        {"display": scope.coverage.payer_name}
    task = {
        "resourceType": "Task", "id": new_id(), "status": "ready", "intent": "order",
        "code": {"coding": [{"system": SDC_TEMP, "code": "complete-questionnaire"}]},
        "for": {"reference": patient},
        "basedOn": [{"reference": ev.order_ref}],
        "requester": payer,
        "authoredOn": today,
        "description": f"Complete the {ev.policy.id} questionnaire for prior authorization",
        "input": [{"type": {"text": "questionnaire"}, "valueCanonical": form}],
    }
    label = f"Add a task: complete the {ev.policy.id} questionnaire"
    return {"label": label, "uuid": new_id(), "actions": [
        {"type": "create", "description": f"{label} (documentation the record does not show)", "resource": task}]}
