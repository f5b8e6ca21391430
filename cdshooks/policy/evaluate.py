"""Evaluate a compiled Policy on a Context: the criteria tree in three-valued logic, then the outcome."""

from __future__ import annotations

from .context import Context
from .kinds import KINDS
from .model import (
    Criterion,
    CriterionResult,
    Evaluation,
    Evidence,
    Outcome,
    Pathway,
    Policy,
    Result,
    Status,
)

MET, NOT_MET, MISSING = Status.MET, Status.NOT_MET, Status.MISSING
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
            result = CriterionResult(c, status, (), None, children, depth)
        elif c.kind == "same_as":
            result = self._same_as(c, depth)
        else:
            result = CriterionResult(c, *self._leaf(c), depth=depth)
        self.done[c.id] = result
        return result

    def _leaf(self, c: Criterion) -> tuple[Status, tuple[Evidence, ...], str | None]:
        try:
            r = KINDS[c.kind](c, self.ctx)
        except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
            # Unreadable data makes a criterion missing with a reason; it never fails the evaluation.
            r = Result(MISSING, (), f"could not evaluate: {type(exc).__name__}")
        return r.status, r.evidence, r.note

    def _same_as(self, c: Criterion, depth: int) -> CriterionResult:
        ref = c.params["ref"]
        other = self.done.get(ref)
        if other is None and ref in self.policy.criteria_by_id:
            other = self.run(self.policy.criteria_by_id[ref], depth)
        if other is None:
            return CriterionResult(c, MISSING, (), "not evaluated", (), depth)
        label = other.criterion.source or other.criterion.id
        note = f"follows {label} ({other.criterion.text})" + (f"; {c.params['note']}" if c.params.get("note") else "")
        return CriterionResult(c, other.status, (), note, (), depth)


def _missing_docs(r: CriterionResult, out: list[str]) -> None:
    """What to document: the missing leaves on the paths that still decide the outcome."""
    if r.status is not MISSING or r.criterion.kind == "same_as":
        return
    if not r.children:
        out.append(_request(r))
        return
    if r.criterion.kind in ("any", "at_least"):
        options: list[str] = []
        for child in r.children:
            _missing_docs(child, options)
        if len(options) == 1:
            out.extend(options)
        elif options:
            head = f"{r.criterion.source}: " if r.criterion.source else ""
            out.append(f"{head}one of — " + " | ".join(o.split(": ", 1)[-1] for o in options))
        return
    for child in r.children:
        _missing_docs(child, out)


def _request(r: CriterionResult) -> str:
    c = r.criterion
    return (f"{c.source}: " if c.source else "") + (c.request or c.text)


def _denials(r: CriterionResult, out: list[CriterionResult]) -> None:
    """The not-met leaves that make the outcome a denial (same_as mirrors are not repeated)."""
    if r.status is not NOT_MET or r.criterion.kind == "same_as":
        return
    if not r.children or r.criterion.kind == "not":
        out.append(r)
        return
    for child in r.children:
        _denials(child, out)


def _reason(r: CriterionResult) -> str:
    c = r.criterion
    why = r.note or "; ".join(e.text for e in r.evidence[:2]) or "not met"
    return f"{c.source + ': ' if c.source else ''}{c.text} — {why}"


def evaluate(policy: Policy, ctx: Context) -> Evaluation:
    run = _Run(policy, ctx)
    pathway, spec, notes = Pathway.INITIAL, policy.initial, []
    if policy.continued and policy.continued_when:
        selector = run.run(policy.continued_when)
        if selector.status is MET:
            pathway, spec = Pathway.CONTINUED, policy.continued
            notes.append("continued-therapy criteria apply: " + "; ".join(e.text for e in selector.evidence))
    root_c = Criterion(
        id="$root", kind="all", text=f"{policy.title}: {pathway.value} approval",
        children=(spec.criteria,) + policy.not_authorized, where=policy.file,
    )
    root = run.run(root_c, -1)
    docs: list[str] = []
    denials: list[CriterionResult] = []
    _missing_docs(root, docs)
    _denials(root, denials)
    deciding = [r for r in root.walk() if r.status is root.status and r.criterion.ambiguity]
    return Evaluation(
        policy=policy,
        order_ref=ctx.order_ref,
        drug=policy.drug_coding,
        pathway=pathway,
        outcome=OUTCOMES[root.status],
        root=root,
        missing_documentation=tuple(dict.fromkeys(docs)),
        denial_reasons=tuple(dict.fromkeys(_reason(r) for r in denials)),
        ambiguities=tuple(dict.fromkeys(f"{r.criterion.source}: {r.criterion.ambiguity}" for r in deciding)),
        approval_duration=spec.approval_duration,
        coverage_ref=None,
        anchor=ctx.anchor.isoformat(),
        notes=tuple(notes),
    )
