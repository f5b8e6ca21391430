"""Criterion kinds that read medication and procedure history and the other orders being signed."""

from __future__ import annotations

from cdshooks.fhirdates import add_months
from cdshooks.record import ref_of

from .codes import EMPTY, CodeSet
from .context import Context, missing, unavailable_note
from .model import Criterion, Evidence, Result, Status

HISTORY_TYPES = ("MedicationRequest", "MedicationAdministration")


def _exp_ev(exp, label: str, what: str = "received") -> Evidence:
    when = exp.start.isoformat() if exp.start else None
    return Evidence(exp.ref, f"{what} {label} ({exp.resource_type}, {exp.status})", when)


def _intolerances(ctx: Context, codes: CodeSet, reasons: CodeSet) -> list[Evidence]:
    """AllergyIntolerance of type intolerance, or a stop reason such as 'treatment not tolerated'."""
    out = []
    for res in ctx.record.of("AllergyIntolerance"):
        if res.get("type") == "intolerance" and (m := codes.match([res.get("code")])):
            out.append(Evidence(ref_of(res), f"documented intolerance to {m.display}", res.get("recordedDate")))
    for exp, label in ctx.matching(codes):
        if exp.status_reasons and reasons.match(exp.status_reasons, use_text=False):
            out.append(_exp_ev(exp, label, "stopped for intolerance:"))
    return out


def med_class(c: Criterion, ctx: Context) -> Result:
    """At least one exposure to the class (or, where the policy allows, documented intolerance)."""
    codes: CodeSet = c.params["codes"]
    got = ctx.received(codes)
    if got:
        return Result(Status.MET, tuple(_exp_ev(e, label) for e, label in got[:5]))
    if c.params.get("intolerance_counts"):
        ev = _intolerances(ctx, codes, c.params.get("intolerance_reasons", EMPTY))
        if ev:
            return Result(Status.MET, tuple(ev))
    note = unavailable_note(ctx.record, *HISTORY_TYPES)
    return missing(note or f"no {c.params.get('label', 'qualifying')} therapy found in the medication history")


def no_prior(c: Criterion, ctx: Context) -> Result:
    """Never received the class (nor a history code for it); met only on history actually read."""
    codes: CodeSet = c.params["codes"]
    got = [(e, label) for e, label in ctx.received(codes) if e.ref != ctx.order_ref]
    ev = [_exp_ev(e, label) for e, label in got]
    history: CodeSet = c.params.get("history_codes", EMPTY)
    for res in ctx.record.of("Condition") + ctx.record.of("Procedure"):
        if history.codes and (m := history.match([res.get("code")], use_text=False)):
            ev.append(Evidence(ref_of(res), f"history: {m.display} [{m.code}]", None))
    if ev:
        return Result(Status.NOT_MET, tuple(ev))
    if note := unavailable_note(ctx.record, *HISTORY_TYPES):
        return missing(note)
    n = len(ctx.record.exposures)
    return Result(Status.MET, (Evidence("MedicationRequest", f"none of {n} history entries matches"),))


def _current_others(ctx: Context, codes: CodeSet) -> list[Evidence]:
    """Other orders in this call, and current orders in the record, whose drug is in codes (not the ordered drug)."""
    out = []
    for order in ctx.other_orders():
        concepts = ctx.record.medication_concepts(order) + (order.get("code"),)
        if (m := codes.match(concepts)) and not ctx.drug.match(concepts):
            out.append(Evidence(ref_of(order), f"also ordered now: {m.display}"))
    for exp, label in ctx.matching(codes):
        if not exp.current or (exp.end and exp.end < ctx.anchor):
            continue
        if not ctx.drug.match_keys(exp.keys, exp.text):
            out.append(_exp_ev(exp, label, "current order:"))
    return out


def concurrent(c: Criterion, ctx: Context) -> Result:
    """No other drug of the class is ordered or current (monotherapy / not with other DMTs or CAR-T)."""
    ev = _current_others(ctx, c.params["codes"])
    if ev:
        return Result(Status.NOT_MET, tuple(ev))
    if note := unavailable_note(ctx.record, "MedicationRequest"):
        return missing(note)
    return Result(Status.MET, (Evidence(ctx.order_ref, "no other qualifying drug ordered or active"),))


def combination(c: Criterion, ctx: Context) -> Result:
    """Every component class is ordered now or current (e.g. a TKI; mini-hyper-CVD + inotuzumab)."""
    ev, absent = [], []
    for component in c.params["components"]:
        found = _current_others(ctx, component)
        if found:
            ev.append(found[0])
        else:
            absent.append(component.id)
    if absent:
        return Result(Status.NOT_MET, tuple(ev), f"not ordered or active: {', '.join(absent)}")
    return Result(Status.MET, tuple(ev))


def lines(c: Criterion, ctx: Context) -> Result:
    """At least `min` prior lines of therapy.

    FHIR has no line-of-therapy element: a line is a regimen group (groupIdentifier or basedOn CarePlan /
    RequestGroup). Met only when the grouped count reaches `min`; an attested count decides either way;
    otherwise missing — a count is never guessed from loose drug exposures.
    """
    need = int(c.params["min"])
    attested = ctx.attested_value(c.id)
    if attested and isinstance(attested[0], int) and not isinstance(attested[0], bool):
        value, ev = attested
        return Result(Status.MET if value >= need else Status.NOT_MET, (ev,))
    got = ctx.received(c.params["codes"])
    groups: dict[str, list] = {}
    for exp, label in got:
        if exp.group:
            groups.setdefault(exp.group, []).append((exp, label))
    ev = []
    for i, items in enumerate(sorted(groups.values(), key=lambda xs: str(xs[0][0].start)), 1):
        first = min((e.start for e, _ in items if e.start), default=None)
        drugs = ", ".join(sorted({label for _, label in items}))
        ev.append(Evidence(items[0][0].ref, f"line {i}: {drugs}", first.isoformat() if first else None))
    if len(groups) >= need:
        return Result(Status.MET, tuple(ev))
    ungrouped = len([1 for e, _ in got if not e.group])
    note = f"{len(groups)} regimen line(s) identifiable in the record, {need} required"
    if ungrouped:
        note += f"; {ungrouped} therapy entries are not grouped into regimens"
    return missing(note, ev)


def failure(c: Criterion, ctx: Context) -> Result:
    """Tried and failed (stop reason 'no response'), or stopped for adverse effects / intolerance."""
    codes: CodeSet = c.params["codes"]
    reasons: CodeSet = c.params["reasons"]
    tried = ctx.received(codes)
    for exp, label in tried:
        if exp.status_reasons and (m := reasons.match(exp.status_reasons, use_text=False)):
            return Result(Status.MET, (_exp_ev(exp, label, f"stopped ({m.display}):"),))
    ev = _intolerances(ctx, codes, reasons)
    if ev:
        return Result(Status.MET, tuple(ev))
    if tried:
        return missing("therapy was given but no failure or adverse-effect reason is documented",
                       [_exp_ev(e, label) for e, label in tried[:3]])
    note = unavailable_note(ctx.record, *HISTORY_TYPES)
    return missing(note or "no trial of this therapy found in the medication history")


def time_since_last(c: Criterion, ctx: Context) -> Result:
    """At least `months` between the last dose of the ordered drug (prior course) and the anchor."""
    got = [(e, label) for e, label in ctx.received(ctx.drug) if (e.end or e.start)]
    if not got:
        return missing("no prior course of this drug found to measure from")
    exp, label = max(got, key=lambda x: x[0].end or x[0].start)
    last = exp.end or exp.start
    due = add_months(last, int(c.params["months"]))
    ev = (Evidence(exp.ref, f"last dose of prior course {last.isoformat()}; next course allowed from {due}",
                   last.isoformat()),)
    return Result(Status.MET if ctx.anchor >= due else Status.NOT_MET, ev)


def receiving(c: Criterion, ctx: Context) -> Result:
    """Already receiving the ordered drug, for at least `min_days` since the first dose."""
    got = [(e, label) for e, label in ctx.received(ctx.drug) if e.start]
    if not got:
        note = unavailable_note(ctx.record, *HISTORY_TYPES)
        return missing(note or "no prior doses of this drug in the record")
    first = min(e.start for e, _ in got)
    days = (ctx.anchor - first).days
    exp = min(got, key=lambda x: x[0].start)[0]
    ev = (Evidence(exp.ref, f"first dose {first.isoformat()} ({days} days before the order)", first.isoformat()),)
    return Result(Status.MET if days >= int(c.params.get("min_days", 0)) else Status.NOT_MET, ev)


def order_quantity(c: Criterion, ctx: Context) -> Result:
    """The ordered quantity (e.g. HCPCS units) does not exceed `max`."""
    qty = (ctx.order.get("dispenseRequest") or {}).get("quantity") or {}
    value = qty.get("value")
    if not isinstance(value, int | float):
        return missing("the order states no quantity")
    ok = value <= float(c.params["max"])
    return Result(Status.MET if ok else Status.NOT_MET, (Evidence(ctx.order_ref, f"quantity ordered {value:g}"),))


