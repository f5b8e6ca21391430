"""Criterion kinds that read conditions, demographics, the prescriber and disease status."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cdshooks.fhir.codes import as_list, codings_of, first_code, text_of
from cdshooks.fhir.dates import effective, latest_date, parse_date, years_between
from cdshooks.fhir.record import ref_of
from cdshooks.policy.codes import EMPTY, CodeSet
from cdshooks.policy.context import Context, missing, unavailable_note
from cdshooks.policy.model import Criterion, Evidence, Result, Status

EXCLUDED_VERIFICATION = {"refuted", "entered-in-error"}


def _condition_evidence(res: dict[str, Any], label: str) -> Evidence:
    start, _ = effective(res, "onset")
    when = start or parse_date(res.get("recordedDate"))
    clinical = first_code(res.get("clinicalStatus"))
    text = f"{label}" + (f" ({clinical})" if clinical else "")
    return Evidence(ref_of(res), text, when.isoformat() if when else None)


def _conditions(ctx: Context,
                codes: CodeSet) -> tuple[list[tuple[dict[str, Any], str]], list[tuple[dict[str, Any], str]]]:
    """(usable, refuted) conditions matching codes."""
    usable: list[tuple[dict[str, Any], str]] = []
    refuted: list[tuple[dict[str, Any], str]] = []
    for res in ctx.record.of("Condition"):
        match = codes.match([res.get("code")], use_text=False)
        if not match:
            continue
        label = f"{match.display} [{match.code}]"
        verification = first_code(res.get("verificationStatus"))
        (refuted if verification in EXCLUDED_VERIFICATION else usable).append((res, label))
    return usable, refuted


def _order_reasons(ctx: Context) -> list[Any]:
    """The indication the order itself states: reasonCode (a list, or one object as some EHRs send it), or the
    Conditions its reasonReference names."""
    out = [r for r in as_list(ctx.order.get("reasonCode")) if isinstance(r, dict) and codings_of(r)]
    for ref in as_list(ctx.order.get("reasonReference")):
        res = ctx.record.resolve(ref, ctx.order)
        if res and res.get("resourceType") == "Condition" and codings_of(res.get("code")):
            out.append(res["code"])
    return out


def diagnosis(c: Criterion, ctx: Context) -> Result:
    """A coded diagnosis (optionally with a clinical status); contrary codes decide not-met; `ask_codes` (a form
    whose eligibility the reviewer decides) leave it open.

    With `order_reason`, a coded indication on the order that is not this diagnosis decides not-met: the
    request is for another use (which the policy refers elsewhere).
    """
    if c.params.get("order_reason") and (reasons := _order_reasons(ctx)):
        codes: CodeSet = c.params["codes"]
        wanted = codes.union(c.params.get("unspecific_codes", EMPTY), codes.id).union(
            c.params.get("ask_codes", EMPTY), codes.id)
        if not wanted.match(reasons, use_text=False):
            shown = "; ".join(text_of(r) or first_code(r) for r in reasons)
            return Result(Status.NOT_MET, (Evidence(ctx.order_ref, f"the order's indication: {shown}"),),
                          "the order is for another use")
    if note := unavailable_note(ctx.record, "Condition"):
        return missing(note)
    statuses = set(c.params.get("clinical_status") or [])
    usable, refuted = _conditions(ctx, c.params["codes"])
    if statuses:
        usable = [(r, lab) for r, lab in usable if first_code(r.get("clinicalStatus")) in statuses]
    if usable:
        return Result(Status.MET, tuple(_condition_evidence(r, lab) for r, lab in usable))
    ask, _ = _conditions(ctx, c.params.get("ask_codes", EMPTY))
    if ask:
        ev = tuple(_condition_evidence(r, lab) for r, lab in ask)
        return missing("the coded form is one the policy's reading leaves to the reviewer: confirm it qualifies", ev)
    contrary, _ = _conditions(ctx, c.params.get("not_met_codes", EMPTY))
    if contrary:
        ev = tuple(_condition_evidence(r, lab) for r, lab in contrary)
        return Result(Status.NOT_MET, ev, "the record codes a diagnosis this criterion excludes")
    unspecific, _ = _conditions(ctx, c.params.get("unspecific_codes", EMPTY))
    if unspecific:
        ev = tuple(_condition_evidence(r, lab) for r, lab in unspecific)
        return missing("the coded diagnosis does not say which subtype", ev)
    if refuted and not statuses:
        ev = tuple(_condition_evidence(r, lab + " — refuted") for r, lab in refuted)
        return Result(Status.NOT_MET, ev, "the diagnosis is recorded as refuted")
    return missing("no matching diagnosis in the record")


def no_diagnosis(c: Criterion, ctx: Context) -> Result:
    """None of the codes, in any clinical status (history counts); met only on Condition data actually read.

    `ask_codes` are conditions the policy's own judgement ("clinically relevant") decides: the prescriber is
    asked, never silently approved or denied.
    """
    if note := unavailable_note(ctx.record, "Condition"):
        return missing(note)
    found, _ = _conditions(ctx, c.params["codes"])
    if found:
        ev = tuple(_condition_evidence(r, lab) for r, lab in found)
        conflict, _ = _conditions(ctx, c.params.get("unless_codes", EMPTY))
        if conflict:
            ev += tuple(_condition_evidence(r, lab) for r, lab in conflict)
            return missing("the record codes conflicting diagnoses; a reviewer must decide", ev)
        return Result(Status.NOT_MET, ev)
    ask, _ = _conditions(ctx, c.params.get("ask_codes", EMPTY))
    if ask:
        ev = tuple(_condition_evidence(r, lab) for r, lab in ask)
        return missing("confirm whether this history is clinically relevant under the policy", ev)
    n = len(ctx.record.of("Condition"))
    if not n:  # an empty problem list is no evidence that the condition is absent
        return missing("the record lists no conditions at all: confirm none of these applies")
    return Result(Status.MET, (Evidence("Condition", f"none of {n} recorded conditions matches"),))


def _onset(ctx: Context, codes: CodeSet) -> tuple[Any, dict[str, Any]] | None:
    """The earliest onset date of a (not refuted) condition in codes, and the condition."""
    dated = [(when, res) for res, _ in _conditions(ctx, codes)[0] if (when := effective(res, "onset")[0])]
    return min(dated, key=lambda x: x[0]) if dated else None


def age(c: Criterion, ctx: Context) -> Result:
    """Age in whole years at the anchor date, or with `at_diagnosis` at the onset of that diagnosis (infant
    ALL is an age at diagnosis): `min` inclusive, `below` exclusive."""
    patient = ctx.record.patient
    born = parse_date((patient or {}).get("birthDate"))
    if not patient or not born:
        return missing("no birth date in the record")
    on, what, ref = ctx.anchor, "", ref_of(patient)
    if c.params.get("at_diagnosis"):
        onset = _onset(ctx, c.params["at_diagnosis"])
        if onset is None:
            return missing("no date of diagnosis (Condition onset) in the record")
        on, what, ref = onset[0], " at diagnosis", ref_of(onset[1])
    if born > on:
        return missing(f"the recorded birth date {born.isoformat()} is after {on.isoformat()}")
    low, below = c.params.get("min"), c.params.get("below")

    def within(years: int) -> bool:
        return (low is None or years >= low) and (below is None or years < below)

    years = years_between(born, on)
    # A partial birth date ("2008", "2008-12") spans a range of ages: decide only if every one agrees.
    youngest = years_between(min(latest_date(patient["birthDate"]) or born, on), on)
    if within(years) != within(youngest):
        return missing(f"the birth date is recorded only as {patient['birthDate']}: age {youngest} or {years} on "
                       f"{on.isoformat()}")
    ev = (Evidence(ref, f"age {years}{what} on {on.isoformat()}"),)
    return Result(Status.MET if within(years) else Status.NOT_MET, ev)


def _roles_of(ctx: Context, who: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not who:
        return []
    if who.get("resourceType") == "PractitionerRole":
        return [who]
    if who.get("resourceType") != "Practitioner":
        return []
    ref = ref_of(who)
    return [
        r for r in ctx.record.of("PractitionerRole")
        if isinstance(r.get("practitioner"), dict) and str(r["practitioner"].get("reference", "")).endswith(ref)
    ]


def specialty(c: Criterion, ctx: Context) -> Result:
    """Prescriber (or a consulting practitioner named on the order) has a specialty in the set.

    Absence never gives not-met: a consultation may exist off the record.
    """
    codes: CodeSet = c.params["codes"]
    performer = ctx.order.get("performer")  # a list on some request types, one reference on MedicationRequest
    refs = [ctx.order.get("requester")] + (performer if isinstance(performer, list) else [performer])
    by = ""
    if not any(refs) and ctx.signing_user:
        refs, by = [ctx.signing_user], " (of the signing user: the order names no prescriber)"
    people = [ctx.record.resolve(ref, ctx.order) for ref in refs if ref]
    seen = []
    for who in people:
        for role in _roles_of(ctx, who):
            for concept in as_list(role.get("specialty")):
                match = codes.match([concept], use_text=False)
                label = text_of(concept) or first_code(concept)
                if match:
                    text = f"specialty {match.display} [{match.code}]{by}"
                    return Result(Status.MET, (Evidence(ref_of(role), text),))
                seen.append(Evidence(ref_of(role), f"specialty {label}{by}"))
    if not any(people):
        return missing("the order's requester could not be resolved to a Practitioner or PractitionerRole")
    return missing("no oncology/hematology (or required) specialty found for the prescriber", seen)


def status_series(ctx: Context, codes: CodeSet) -> list[tuple[dict[str, Any], date]]:
    """Final assessments for the codes, dated on or before the anchor, newest first (read once per evaluation)."""
    def series() -> list[tuple[dict[str, Any], date]]:
        out: list[tuple[dict[str, Any], date]] = []
        for obs in ctx.record.observations(codes.codes):
            if obs.get("status") not in ("final", "amended", "corrected"):
                continue
            when, _ = effective(obs, "effective")
            if when is not None and when <= ctx.anchor:
                out.append((obs, when))
        return sorted(out, key=lambda x: x[1], reverse=True)

    return ctx.memo(("status", codes.id), series)


def _latest_status(ctx: Context, codes: CodeSet, since: date | None = None) -> list[tuple[dict[str, Any], date]]:
    return [(obs, when) for obs, when in status_series(ctx, codes) if not (since and when < since)]


def disease_status(c: Criterion, ctx: Context) -> Result:
    """The most recent disease-status Observation (mCODE CancerDiseaseStatus): its value decides."""
    if note := unavailable_note(ctx.record, "Observation"):
        return missing(note)
    since = None
    if c.params.get("since_first_dose"):
        firsts = [e.start for e, _ in ctx.received(ctx.drug) if e.start]
        since = min(firsts) if firsts else None
    rows = _latest_status(ctx, c.params["codes"], since)
    if not rows:
        return missing("no disease-status assessment in the record")
    obs, when = rows[0]
    value = obs.get("valueCodeableConcept")
    ev = (Evidence(ref_of(obs), f"disease status: {text_of(value) or first_code(value)}", when.isoformat()),)
    if c.params["met_values"].match([value], use_text=False):
        return Result(Status.MET, ev)
    if c.params.get("not_met_values", EMPTY).match([value], use_text=False):
        return Result(Status.NOT_MET, ev)
    return missing("the latest disease-status assessment does not decide this criterion", ev)


def progression_window(c: Criterion, ctx: Context) -> Result:
    """A coded progression within `days` after the last dose of the last regimen in `drugs`.

    Met on a coded 'worsened' status in the window; never not-met, because IMWG progression can also be
    shown by labs or imaging that only a reviewer can read.
    """
    if note := unavailable_note(ctx.record, "Observation"):
        return missing(note)
    doses = [d for e, _ in ctx.received(c.params["drugs"]) if (d := e.end or e.start)]
    if not doses:
        return missing("no prior anti-myeloma dose in the record to measure the window from")
    last = max(doses)
    window_end = last + timedelta(days=int(c.params["days"]))
    for obs, when in _latest_status(ctx, c.params["codes"]):
        value = obs.get("valueCodeableConcept")
        if last < when <= window_end and c.params["worsened"].match([value], use_text=False):
            text = f"progression recorded {(when - last).days} days after last dose on {last.isoformat()}"
            return Result(Status.MET, (Evidence(ref_of(obs), text, when.isoformat()),),
                          "coded as 'worsened'; the IMWG basis is for the reviewer to confirm")
    return missing(f"no progression recorded within {c.params['days']} days after the last dose ({last.isoformat()})")


def documentation(c: Criterion, ctx: Context) -> Result:
    """Only a document or an attestation can decide this criterion."""
    answer = ctx.attestation(c.id, alias=True)
    if answer:
        return answer
    return missing("only documentation can establish this")


def never(c: Criterion, ctx: Context) -> Result:
    """The policy does not authorize this request at all (e.g. a repeat dose of a one-time therapy)."""
    return Result(Status.NOT_MET, (Evidence(ctx.order_ref, c.params.get("reason", c.text)),))
