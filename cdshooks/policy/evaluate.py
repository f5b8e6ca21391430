"""Evaluate a compiled Policy on a Context: the criteria tree in three-valued logic, then the outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cdshooks.fhir.dates import parse_date
from cdshooks.fhir.record import ref_of
from cdshooks.policy.context import Context
from cdshooks.policy.kinds import KINDS
from cdshooks.policy.model import (
    Basis,
    Choice,
    Criterion,
    CriterionResult,
    Evaluation,
    Evidence,
    Need,
    Outcome,
    Pathway,
    Policy,
    Requirement,
    Result,
    Status,
)

T = TypeVar("T")
MET, NOT_MET, MISSING = Status.MET, Status.NOT_MET, Status.MISSING
# Crashes a criterion turns into `missing` in production; the test suite sets this to () so they fail loudly.
CAUGHT: tuple[type[BaseException], ...] = (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError)
OUTCOMES = {MET: Outcome.LIKELY_APPROVED, NOT_MET: Outcome.LIKELY_DENIED, MISSING: Outcome.DOCUMENTATION_NEEDED}


def combine(kind: str, statuses: list[Status], n: int = 1) -> Status:
    """all / any / not / at_least over child statuses, with `missing` as unknown."""
    if kind == "all":
        return NOT_MET if NOT_MET in statuses else MISSING if MISSING in statuses else MET
    if kind == "any":
        return MET if MET in statuses else MISSING if MISSING in statuses else NOT_MET
    if kind == "not":
        return {MET: NOT_MET, NOT_MET: MET, MISSING: MISSING}[statuses[0]]
    if kind == "at_least":
        met = statuses.count(MET)
        unknown = statuses.count(MISSING)
        return MET if met >= n else NOT_MET if met + unknown < n else MISSING
    raise ValueError(f"unknown combinator {kind}")


class _Run:
    """One evaluation: results so far by criterion id, so same_as can mirror (or evaluate) another criterion."""

    def __init__(self, policy: Policy, ctx: Context) -> None:
        self.policy, self.ctx = policy, ctx
        self.done: dict[str, CriterionResult] = {}

    def run(self, c: Criterion, depth: int = 0) -> CriterionResult:
        if c.is_combinator:
            children = tuple(self.run(child, depth + 1) for child in c.children)
            status = combine(c.kind, [r.status for r in children], int(c.params.get("n", 1)))
            result = CriterionResult(c, status, (), None, children, depth, basis=Basis.CHILDREN)
        elif c.kind == "same_as":
            result = self._same_as(c, depth)
        else:
            r, basis = self._leaf(c)
            result = CriterionResult(c, r.status, r.evidence, r.note, depth=depth, value=r.value, basis=basis,
                                     proposal=r.proposal)
        if c.applies_if:
            result = self._conditional(result, c.applies_if, depth)
        self.done[c.id] = result
        return result

    def _leaf(self, c: Criterion) -> tuple[Result, Basis]:
        basis, kind = Basis.RECORD, KINDS[c.kind]
        try:
            r = kind(c, self.ctx)
        except CAUGHT as exc:
            # Unreadable data makes a criterion missing with a reason; it never fails the evaluation.
            r, basis = Result(MISSING, (), f"could not evaluate: {type(exc).__name__}"), Basis.UNREADABLE
        if r.status is MISSING and (answer := self.ctx.attestation(c.id, kind.alias)):
            # Where the record cannot decide, the prescriber's DTR answer does (e.g. a lab with no standard code).
            return answer, Basis.ANSWER
        if r.status is MET and kind.absence and (answer := self.ctx.attestation(c.id, kind.alias)) \
                and answer.status is NOT_MET:
            # Absence in the record is not proof of absence: a prescriber who answers that the exclusion applies
            # ("no CNS involvement": No) documents it.
            return answer, Basis.ANSWER
        return r, basis

    def _result_of(self, ref: str, depth: int) -> CriterionResult | None:
        if ref not in self.done and ref in self.policy.criteria_by_id:
            self.run(self.policy.criteria_by_id[ref], depth)
        return self.done.get(ref)

    def _conditional(self, r: CriterionResult, ref: str, depth: int) -> CriterionResult:
        """Apply r only when criterion `ref` holds: not met → does not apply (met); unknown → only met stands."""
        cond = self._result_of(ref, depth)
        if cond is None or cond.status is MET or r.status is MET:
            return r
        what = cond.criterion.text
        if cond.status is NOT_MET:
            return CriterionResult(r.criterion, MET, (), f"does not apply: {what} — not the case", r.children,
                                   r.depth, basis=Basis.NOT_APPLICABLE, about=cond.criterion)
        return CriterionResult(r.criterion, MISSING, r.evidence, f"applies only if {what}; {r.note or r.status.value}",
                               r.children, r.depth, basis=Basis.CONDITIONAL, about=cond.criterion)

    def _same_as(self, c: Criterion, depth: int) -> CriterionResult:
        other = self._result_of(c.params["ref"], depth)
        if other is None:
            return CriterionResult(c, MISSING, (), "not evaluated", (), depth, basis=Basis.MIRROR)
        label = other.criterion.source or other.criterion.id
        note = f"follows {label} ({other.criterion.text})" + (f"; {c.params['note']}" if c.params.get("note") else "")
        status = other.status
        if status is MISSING and c.params.get("missing_as"):
            # Where only a decided answer may change the result (e.g. the MRD pathway vetoes the R/R step-up only
            # when it is met), an open criterion counts as this.
            status = Status(c.params["missing_as"])
            note += f"; open, taken as {status.value}"
        return CriterionResult(c, status, (), note, (), depth, basis=Basis.MIRROR, about=other.criterion)


def _missing_docs(r: CriterionResult, out: list[Requirement], run: _Run, inside: bool = False) -> None:
    """What to document: the missing leaves on the paths that still decide the outcome. Alternatives become one
    flat Choice, however deeply the policy nests them; an alternative that needs several items is one option
    of them all. Inside an alternative a mirrored criterion (same_as) is part of what that alternative needs
    (the POMP pathway still needs the CD19 report), so its own items are listed there."""
    if r.status is not MISSING:
        return
    if r.criterion.kind == "same_as":
        target = run.done.get(r.criterion.params.get("ref", "")) if inside else None
        if target is not None and target.status is MISSING:
            _missing_docs(target, out, run, inside)
        return
    if not r.children:
        out.append(Need(r))
        return
    if r.criterion.kind in ("any", "at_least"):
        options: list[tuple[Requirement, ...]] = []
        for child in r.children:
            needs: list[Requirement] = []
            _missing_docs(child, needs, run, True)
            needs = _unique(needs)
            if len(needs) == 1 and isinstance(needs[0], Choice):  # a nested choice joins this one
                options.extend(needs[0].options)
            elif needs:
                options.append(tuple(needs))
        options = _first_of_each(options, lambda o: tuple(x.key for x in o))
        if len(options) == 1 and len(options[0]) == 1:
            out.append(options[0][0])
        elif options:
            out.append(Choice(tuple(options)))
        return
    for child in r.children:
        _missing_docs(child, out, run, inside)


def _first_of_each(items: Iterable[T], key: Callable[[T], tuple[Any, ...]]) -> list[T]:
    """The items in order, each the first of those with its key."""
    seen: dict[tuple[Any, ...], T] = {}
    for x in items:
        seen.setdefault(key(x), x)
    return list(seen.values())


def _unique(items: list[Requirement]) -> list[Requirement]:
    return _first_of_each(items, lambda x: x.key)


def _any_missing_leaf(r: CriterionResult, out: list[Requirement]) -> None:
    """Fallback when the tree is missing only through mirrors: every missing leaf, same_as included."""
    if r.status is not MISSING:
        return
    if not r.children:
        out.append(Need(r))
    for child in r.children:
        _any_missing_leaf(child, out)


def _denials(r: CriterionResult, out: list[CriterionResult], run: _Run) -> None:
    """The decisive not-met leaves. In a failed `any`, the fewest reasons that defeat every alternative (one
    CD19-negative result mirrored into four pathways is one reason, not four)."""
    if r.status is not NOT_MET:
        return
    if r.criterion.kind == "same_as":
        target = run.done.get(r.criterion.params.get("ref", ""))
        if target is not None:
            _denials(target, out, run)
        return
    if not r.children or r.criterion.kind == "not":
        out.append(r)
        return
    if r.criterion.kind in ("any", "at_least"):
        branches = []
        for child in r.children:
            found: list[CriterionResult] = []
            _denials(child, found, run)
            branches.append({x.criterion.id: x for x in found})
        # An alternative that is not for this patient at all (it fails on its gate) explains nothing.
        relevant = [b for b in branches if not any(x.criterion.gate for x in b.values())]
        branches = relevant if any(relevant) else branches
        while branches := [b for b in branches if b]:
            counts: dict[str, int] = {}
            for b in branches:
                for cid in b:
                    counts[cid] = counts.get(cid, 0) + 1
            best = max(counts, key=lambda cid: counts[cid])  # ties: the first alternative's reason
            out.append(next(b[best] for b in branches if best in b))
            branches = [b for b in branches if best not in b]
        return
    for child in r.children:
        _denials(child, out, run)


def _ids(r: CriterionResult) -> set[str]:
    return {x.criterion.id for x in r.walk()}


def _ambiguity_applies(r: CriterionResult) -> bool:
    """Whether the ambiguous reading is this patient's (criterion.ambiguity_when), e.g. the 45 kg band overlap
    only for a weight of 45 kg, the struck IMiD names only when the IMiD given is one of them."""
    when = r.criterion.ambiguity_when or {}
    statuses = when.get("status")
    if statuses and r.status.value not in statuses:
        return False
    words = when.get("evidence_has")
    if words:
        said = " ".join(e.text for x in r.walk() for e in x.evidence).lower()
        return any(w.lower() in said for w in words)
    return True


def _deceased(ctx: Context) -> CriterionResult | None:
    """A patient recorded as deceased on or before the day of the call (or the order date, if later): never
    likely approved."""
    patient = ctx.record.patient or {}
    when = parse_date(patient.get("deceasedDateTime"))
    if patient.get("deceasedBoolean") is True or (when and when <= max(ctx.anchor, ctx.today or ctx.anchor)):
        text = "the record shows the patient died" + (f" on {when.isoformat()}" if when else "") + \
            " (correct the record if this is wrong)"
        c = Criterion(id="deceased", kind="never", text="Member is alive", source=None)
        return CriterionResult(c, NOT_MET, (Evidence(ref_of(patient), text),), basis=Basis.DECEASED)
    return None


def evaluate(policy: Policy, ctx: Context) -> Evaluation:
    run = _Run(policy, ctx)
    pathway, spec = Pathway.INITIAL, policy.initial
    if policy.continued and policy.continued_when and run.run(policy.continued_when).status is MET:
        pathway, spec = Pathway.CONTINUED, policy.continued
    root_c = Criterion(
        id="$root", kind="all", text=f"{policy.title}: {pathway.value} approval",
        children=(spec.criteria,) + policy.not_authorized, where=policy.file,
    )
    root = run.run(root_c, -1)
    if dead := _deceased(ctx):
        root = CriterionResult(root.criterion, NOT_MET, (), None, (dead, *root.children), root.depth,
                               basis=Basis.CHILDREN)
    docs: list[Requirement] = []
    denials: list[CriterionResult] = []
    _missing_docs(root, docs, run)
    if root.status is MISSING and not docs:
        _any_missing_leaf(root, docs)
    _denials(root, denials, run)
    decisive = {d.criterion.id for d in denials}
    # An ambiguity is shown when its criterion decides the outcome: on a denial, only on the decisive path.
    deciding = [r for r in root.walk() if r.status is root.status and r.criterion.ambiguity
                and (root.status is not NOT_MET or _ids(r) & decisive) and _ambiguity_applies(r)]
    failed = [r for r in run.done.values() if r.status is NOT_MET]
    not_covered = root.status is NOT_MET and any(r.criterion.not_covered for r in failed)
    return Evaluation(
        policy=policy,
        order_ref=ctx.order_ref,
        drug=policy.drug_coding,
        pathway=pathway,
        outcome=OUTCOMES[root.status],
        root=root,
        missing=tuple(_unique(docs)),
        denials=tuple(_first_of_each(denials, lambda r: (r.criterion.id, r.note,
                                                         tuple(e.text for e in r.evidence[:2])))),
        ambiguous=tuple(_first_of_each(deciding, lambda r: (r.criterion.source, r.criterion.ambiguity))),
        approval_duration=spec.duration_for(ctx.line_of_business),
        anchor=ctx.anchor.isoformat(),
        not_covered=not_covered,
        # A use the policy excludes outright is not referred elsewhere.
        referrals=() if not_covered else tuple(dict.fromkeys(r.criterion.referral for r in failed
                                                              if r.criterion.referral)),
    )
