"""Criterion kinds that read medication and procedure history and the other orders being signed.

What was *given* comes from administrations, dispenses, statements and procedures (Exposure.received); an
order is only an intention. A current order with no dose given or dispensed for `stale_days` is stale: it is
never a reason to deny, only a question ("confirm this order was stopped").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cdshooks.fhir.codes import first_code
from cdshooks.fhir.dates import add_months, effective
from cdshooks.fhir.record import Exposure, is_local_route, ref_of
from cdshooks.policy.codes import EMPTY, CodeSet
from cdshooks.policy.context import Context, missing, unavailable_note
from cdshooks.policy.kinds_clinical import EXCLUDED_VERIFICATION, status_series
from cdshooks.policy.model import Criterion, Evidence, Result, Status

HISTORY_TYPES = ("MedicationAdministration", "MedicationStatement")
STALE_DAYS = 90
# Drugs started within this many days of a line's first drug belong to the same regimen (induction combination).
REGIMEN_GRACE_DAYS = 30
# Drugs started within this many days before a stem cell transplant are its mobilisation or conditioning, and
# drugs started up to POST_TRANSPLANT_DAYS after it its consolidation or maintenance: one line with it (IMWG),
# unless a progression or a stop for failure or toxicity is recorded in between.
TRANSPLANT_DAYS = 60
POST_TRANSPLANT_DAYS = 180
# Drugs dosed months apart (anti-CD20 every 6 months, cladribine courses) stay current this long after their
# dosing interval.
INTERVAL_GRACE_DAYS = 30
ORDER_MAY_HAVE_BEEN_GIVEN = {"active", "on-hold", "completed", "stopped", "unknown"}


def _exp_ev(exp: Exposure, label: str, what: str = "received") -> Evidence:
    when = exp.start.isoformat() if exp.start else None
    kind = {"MedicationAdministration": "administration", "MedicationStatement": "medication statement",
            "MedicationDispense": "dispense", "MedicationRequest": "order", "Procedure": "procedure"}
    return Evidence(exp.ref, f"{what} {label} ({kind.get(exp.resource_type, exp.resource_type)}, {exp.status})",
                    when)


def _orders(ctx: Context, codes: CodeSet) -> list[tuple[Exposure, str]]:
    """Orders (intentions, not doses) in the record whose drug is in codes."""
    return [(e, label) for e, label in ctx.matching(codes) if e.resource_type == "MedicationRequest"]


def _intolerances(ctx: Context, codes: CodeSet, reasons: CodeSet) -> list[Evidence]:
    """An AllergyIntolerance to the drug (an adverse effect counts, whatever its `type`), or a stop reason
    such as 'treatment not tolerated'."""
    out = []
    for res in ctx.record.of("AllergyIntolerance"):
        if first_code(res.get("verificationStatus")) in EXCLUDED_VERIFICATION:
            continue
        if m := codes.match([res.get("code")]):
            out.append(Evidence(ref_of(res), f"documented intolerance or adverse effect: {codes.name_of(m)}",
                                res.get("recordedDate")))
    for exp, label in ctx.matching(codes):
        if exp.status_reasons and reasons.match(exp.status_reasons, use_text=False):
            out.append(_exp_ev(exp, label, "stopped for intolerance:"))
    return out


def med_class(c: Criterion, ctx: Context) -> Result:
    """At least one dose of the class given (or, where the policy allows, documented intolerance)."""
    codes: CodeSet = c.params["codes"]
    got = ctx.received(codes)
    if got:
        return Result(Status.MET, tuple(_exp_ev(e, label) for e, label in got[:5]))
    if c.params.get("intolerance_counts"):
        ev = _intolerances(ctx, codes, c.params.get("intolerance_reasons", EMPTY))
        if ev:
            return Result(Status.MET, tuple(ev))
    if ordered := _orders(ctx, codes):
        return missing(f"{c.params.get('label', 'this therapy')} was ordered but no dose given is recorded",
                       [_exp_ev(e, label, "ordered") for e, label in ordered[:3]])
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
    # An earlier order with no record of a dose: it may or may not have been given (a cancelled one was not).
    ordered = [(e, label) for e, label in _orders(ctx, codes)
               if e.status in ORDER_MAY_HAVE_BEEN_GIVEN and not (e.start and e.start > ctx.anchor)]
    if ordered:
        return missing("an earlier order exists but no dose is recorded: confirm whether it was given",
                       [_exp_ev(e, label, "ordered") for e, label in ordered[:3]])
    n = len(ctx.record.exposures)
    if not n:  # an empty medication history is no evidence that the drug was never given
        return missing("the record holds no medication or procedure history: confirm none was given")
    return Result(Status.MET, (Evidence("MedicationAdministration", f"none of {n} history entries matches"),))


def _is_stale(exp: Exposure, label: str, last_given: dict[str, date], since: date) -> bool:
    """A current order with no dose given, dispensed or stated since `since` (and not written since then)."""
    if exp.resource_type != "MedicationRequest":
        return False
    if exp.start and exp.start >= since:
        return False
    return last_given.get(label, date.min) < since


def current_others(ctx: Context, codes: CodeSet, stale_days: int = STALE_DAYS, *,
                   long_interval: tuple[tuple[CodeSet, int], ...] = (),
                   progressions: tuple[date, ...] = ()) -> tuple[list[Evidence], list[Evidence]]:
    """(current, stale): other orders of this call and current therapy in the record whose drug is in codes,
    other than the ordered drug and other than local (intrathecal) use.

    `long_interval`: (drugs, dosing interval in days) for drugs given months apart: a dose within the interval
    (+ 30 days) is current therapy, and their orders go stale only after that long. `progressions`: dates of
    recorded progression; an order or statement the disease progressed on since its last dose is a question
    ("confirm it was stopped"), never current therapy."""
    current, stale = [], []

    def others() -> list[tuple[str, str]]:  # once per call and drug, not once per order of the call
        return [(ref_of(order), name) for order, concepts, name in ctx.draft_orders_matching(codes)
                if not ctx.drug.match(concepts) and not is_local_route(order)]

    for ref, name in ctx.record.memo(("ordered besides", id(codes), id(ctx.drug)), others):
        if ref != ctx.order_ref:
            current.append(Evidence(ref, f"also ordered now: {name}"))
    last_given: dict[str, date] = {}
    for given, label in ctx.received(codes):
        if when := given.end or given.start:
            last_given[label] = max(last_given.get(label, date.min), when)
    since = ctx.anchor - timedelta(days=stale_days)
    seen: set[str] = set()
    for exp, label in ctx.matching(codes):
        if not exp.current or exp.local_route or (exp.end and exp.end < ctx.anchor):
            continue
        if ctx.drug.match_keys(exp.keys, exp.text):
            continue
        interval = _interval_of(exp, long_interval)
        window = max(stale_days, interval + INTERVAL_GRACE_DAYS) if interval else stale_days
        last = last_given.get(label) or exp.start
        progressed = [d for d in progressions if last and last < d <= ctx.anchor]
        if progressed:
            stale.append(_exp_ev(exp, label, f"progression recorded on {max(progressed).isoformat()} after it, "
                                             "confirm it was stopped:"))
        elif _is_stale(exp, label, last_given, ctx.anchor - timedelta(days=window) if interval else since):
            stale.append(_exp_ev(exp, label, f"order still active but no dose in {window} days:"))
        else:
            current.append(_exp_ev(exp, label, "current therapy:"))
        seen.add(label)
    for given, label in ctx.received(codes):
        interval = _interval_of(given, long_interval)
        when = given.end or given.start
        if not interval or label in seen or not when or ctx.drug.match_keys(given.keys, given.text):
            continue
        if (ctx.anchor - when).days <= interval + INTERVAL_GRACE_DAYS and \
                not any(when < d <= ctx.anchor for d in progressions):
            current.append(_exp_ev(given, label, f"dosed every {interval} days, last dose still current:"))
            seen.add(label)
    return current, stale


def _interval_of(exp: Exposure, long_interval: tuple[tuple[CodeSet, int], ...]) -> int | None:
    return next((days for codes, days in long_interval if codes.match_keys(exp.keys, exp.text)), None)


def progression_dates(ctx: Context, params: Mapping[str, Any]) -> tuple[date, ...]:
    """Dates of a recorded progression ('worsened' disease status), when the criterion names the codes."""
    worsened: CodeSet = params.get("worsened", EMPTY)
    if not (worsened.codes or worsened.prefixes):
        return ()
    return tuple(when for obs, when in status_series(ctx, params.get("status_codes", EMPTY))
                 if worsened.match([obs.get("valueCodeableConcept")], use_text=False))


def concurrent(c: Criterion, ctx: Context) -> Result:
    """No other drug of the class is ordered or current (monotherapy / not with other DMTs or CAR-T)."""
    long_interval = tuple(zip(c.params.get("long_interval", ()), c.params.get("long_interval_days", ()),
                              strict=True))
    current, stale = current_others(ctx, c.params["codes"], int(c.params.get("stale_days", STALE_DAYS)),
                                    long_interval=long_interval, progressions=progression_dates(ctx, c.params))
    if current:
        return Result(Status.NOT_MET, tuple(current))
    if stale:
        return missing("confirm this order was stopped", stale)
    if note := unavailable_note(ctx.record, "MedicationRequest"):
        return missing(note)
    return Result(Status.MET, (Evidence(ctx.order_ref, "no other qualifying drug ordered or active"),))


def combination(c: Criterion, ctx: Context) -> Result:
    """Every component class is part of the regimen: ordered now, current, or given within `window_days`
    (regimens such as mini-hyper-CVD alternate their drugs between cycles)."""
    window = int(c.params.get("window_days", 0))
    since = ctx.anchor - timedelta(days=window)
    ev, absent = [], []
    for component in c.params["components"]:
        found, _ = current_others(ctx, component)
        if not found and window:
            found = [_exp_ev(e, label, "given recently:") for e, label in ctx.received(component)
                     if (last := e.end or e.start) and last >= since]
        if found:
            ev.append(found[0])
        else:
            absent.append(component.title or component.id)
    if absent:
        return Result(Status.NOT_MET, tuple(ev), f"not part of the current regimen: {', '.join(absent)}")
    return Result(Status.MET, tuple(ev))


@dataclass
class Line:
    start: date
    end: date
    drugs: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)


def _ident(label: str) -> str:
    """One name per drug whatever product code the record used ('daratumumab / hyaluronidase' → daratumumab)."""
    word = label.lower().replace("/", " ").split()
    return word[0].split("-")[0] if word else label.lower()


def regimen_lines(exposures: list[tuple[Exposure, str]], transplants: list[date], changes: list[date]) -> tuple[
        list[Line], int]:
    """Lines of therapy from dates and drug sets (IMWG; CP.PHAR.481 footnote): induction, transplant and
    maintenance are one line; a new line starts when a new drug follows a recorded progression or a stop for
    failure or toxicity, or follows the end of every drug of the current line. Returns the lines and how many
    drug additions could not be placed with certainty (counted in the current line: the count is a lower bound).
    """
    items = sorted(((e.start, e.end or e.start, _ident(label), e) for e, label in exposures if e.start),
                   key=lambda x: (x[0], x[2]))
    lines: list[Line] = []
    unsure = 0
    for start, end, drug, exp in items:
        cur = lines[-1] if lines else None
        if cur is None:
            lines.append(Line(start, end, [drug], [exp.ref]))
            continue
        changed = any(cur.start < d <= start for d in changes)
        if drug in cur.drugs and not changed:
            pass
        elif (start - cur.start).days <= REGIMEN_GRACE_DAYS and not changed:
            pass
        elif any(-TRANSPLANT_DAYS <= (start - t).days <= POST_TRANSPLANT_DAYS and cur.start <= t + timedelta(
                days=TRANSPLANT_DAYS) for t in transplants) and not changed:
            pass
        elif changed or cur.end < start:
            lines.append(Line(start, end, [drug], [exp.ref]))
            continue
        else:
            unsure += 1
        if drug not in cur.drugs:
            cur.drugs.append(drug)
        cur.end = max(cur.end, end)
        cur.refs.append(exp.ref)
    return lines, unsure


def _change_dates(c: Criterion, ctx: Context, got: list[tuple[Exposure, str]]) -> list[date]:
    """Dates of recorded progression, and of stops for no response or toxicity: where a new line may start."""
    out = list(progression_dates(ctx, c.params))
    reasons: CodeSet = c.params.get("change_reasons", EMPTY)
    for exp, _ in got:
        when = exp.end or exp.start
        if exp.status_reasons and reasons.match(exp.status_reasons, use_text=False) and when:
            out.append(when)
    return out


def lines(c: Criterion, ctx: Context) -> Result:
    """At least `min` prior lines of therapy, counted from what was given (dates and drug sets).

    An attested count decides either way; a count from the record decides only when it reaches `min`
    (it is a lower bound), otherwise the criterion is missing — a count is never guessed downwards.
    """
    need = int(c.params["min"])
    attested = ctx.attested_value(c.id, alias=True)
    if attested and isinstance(attested[0], int) and not isinstance(attested[0], bool):
        count, said = attested
        return Result(Status.MET if count >= need else Status.NOT_MET, (said,), value=count)
    got = [(e, label) for e, label in ctx.received(c.params["codes"])
           if not e.local_route and not ctx.drug.match_keys(e.keys, e.text)]
    transplants = []
    for res in ctx.record.of("Procedure"):
        if res.get("status") == "completed" and c.params.get("transplant", EMPTY).match([res.get("code")],
                                                                                         use_text=False):
            when, _ = effective(res, "performed")
            if when:
                transplants.append(when)
    found, unsure = regimen_lines(got, transplants, _change_dates(c, ctx, got))
    ev = [Evidence(line.refs[0], f"line {i}: {', '.join(line.drugs)} ({line.start.isoformat()} to "
                   f"{line.end.isoformat()})", line.start.isoformat()) for i, line in enumerate(found, 1)]
    if len(found) >= need:
        return Result(Status.MET, tuple(ev), f"{len(found)} lines of therapy from the treatment dates",
                      value=len(found))
    note = f"{len(found)} line(s) of therapy identifiable from the treatment dates, {need} required"
    if unsure:
        note += "; some drug changes have no recorded reason (progression, no response or toxicity)"
    return missing(note, ev)


def failure(c: Criterion, ctx: Context) -> Result:
    """Tried and failed (stop reason 'no response'), or stopped for adverse effects / intolerance.

    A stop reason on an order documents the trial too: it records why the drug the patient took was stopped.
    """
    codes: CodeSet = c.params["codes"]
    reasons: CodeSet = c.params["reasons"]
    for exp, label in ctx.matching(codes):
        if exp.status_reasons and (m := reasons.match(exp.status_reasons, use_text=False)):
            return Result(Status.MET, (_exp_ev(exp, label, f"stopped ({m.display}):"),))
    ev = _intolerances(ctx, codes, reasons)
    if ev:
        return Result(Status.MET, tuple(ev))
    tried = ctx.received(codes)
    if tried:
        return missing("therapy was given but no failure or adverse-effect reason is documented",
                       [_exp_ev(e, label) for e, label in tried[:3]])
    if ordered := _orders(ctx, codes):
        return missing("therapy was ordered but neither doses nor a reason for stopping are documented",
                       [_exp_ev(e, label, "ordered") for e, label in ordered[:3]])
    note = unavailable_note(ctx.record, *HISTORY_TYPES)
    return missing(note or "no trial of this therapy found in the medication history")


def _given_dates(ctx: Context) -> list[tuple[date, date, Exposure]]:
    return sorted(((e.start, e.end or e.start, e) for e, _ in ctx.received(ctx.drug) if e.start),
                  key=lambda x: (x[0], x[1]))


def time_since_last(c: Criterion, ctx: Context) -> Result:
    """At least `months` between the last dose of the ordered drug (prior course) and the anchor."""
    got = _given_dates(ctx)
    if not got:
        return missing("no prior course of this drug found to measure from")
    _, last, exp = max(got, key=lambda x: x[1])
    due = add_months(last, int(c.params["months"]))
    ev = (Evidence(exp.ref, f"last dose of prior course {last.isoformat()}; next course allowed from {due}",
                   last.isoformat()),)
    return Result(Status.MET if ctx.anchor >= due else Status.NOT_MET, ev)


def receiving(c: Criterion, ctx: Context) -> Result:
    """Already receiving the ordered drug: first dose at least `min_days` ago and, with `current_within_days`,
    a dose within that many days (currently receiving, not a course long finished)."""
    got = _given_dates(ctx)
    if not got:
        note = unavailable_note(ctx.record, *HISTORY_TYPES)
        return missing(note or "no prior doses of this drug in the record")
    last = max(end for _, end, _ in got)
    if ended := _course_ended(c, ctx, last):
        # Re-treatment after a course that ended (remission, a transplant, a long gap) is a new initial request.
        return Result(Status.NOT_MET, (Evidence(got[-1][2].ref, f"last dose {last.isoformat()}: {ended}",
                                                last.isoformat()),), "an earlier course ended: this is a new course")
    first, _, exp = got[0]
    days = (ctx.anchor - first).days
    ev = (Evidence(exp.ref, f"first dose {first.isoformat()} ({days} days before the order), last dose "
                   f"{last.isoformat()}", first.isoformat()),)
    if days < int(c.params.get("min_days", 0)):
        return Result(Status.NOT_MET, ev)
    within = c.params.get("current_within_days")
    if within is not None and (ctx.anchor - last).days > int(within):
        return missing(f"no dose in the last {within} days: document that therapy is current", ev)
    return Result(Status.MET, ev)


def _course_ended(c: Criterion, ctx: Context, last: date) -> str | None:
    """Why the course of the last dose is over, if the record shows it: no dose for `new_course_after_days`, or
    a stem cell transplant since the last dose."""
    gap = c.params.get("new_course_after_days")
    if gap is not None and (ctx.anchor - last).days > int(gap):
        return f"no dose for {(ctx.anchor - last).days} days (over {gap}): that course ended"
    transplant: CodeSet = c.params.get("transplant", EMPTY)
    for res in ctx.record.of("Procedure"):
        if res.get("status") == "completed" and transplant.match([res.get("code")], use_text=False):
            when, _ = effective(res, "performed")
            if when and last < when <= ctx.anchor:
                return f"stem cell transplant on {when.isoformat()} after it: that course ended"
    return None


def cycles(c: Criterion, ctx: Context) -> Result:
    """The cycle requested (cycles already given + 1) is within `max`. A cycle is a run of doses; a gap of at
    least `gap_days` without a dose starts the next one."""
    got = _given_dates(ctx)
    gap = int(c.params.get("gap_days", 14))
    count, prev_end = 0, None
    for start, end, _ in got:
        if prev_end is None or (start - prev_end).days >= gap:
            count += 1
        prev_end = end if prev_end is None else max(prev_end, end)
    requested, limit = count + 1, int(c.params["max"])
    ev = (Evidence(ctx.order_ref, f"{count} cycle(s) given; this request is cycle {requested} (limit {limit})"),)
    return Result(Status.MET if requested <= limit else Status.NOT_MET, ev)


def order_quantity(c: Criterion, ctx: Context) -> Result:
    """The ordered quantity (e.g. HCPCS units) does not exceed `max`."""
    qty = (ctx.order.get("dispenseRequest") or {}).get("quantity") or {}
    value = qty.get("value")
    if not isinstance(value, int | float):
        return missing("the order states no quantity")
    ok = value <= float(c.params["max"])
    return Result(Status.MET if ok else Status.NOT_MET, (Evidence(ctx.order_ref, f"quantity ordered {value:g}"),))
