"""Frozen shapes of the policy core: statuses, outcomes, compiled criteria and policies, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from cdshooks.fhir.quantity import Quantity as Quantity  # noqa: F401  (part of the policy model)
from cdshooks.fhir.quantity import humane_unit as humane_unit  # noqa: F401
from cdshooks.policy.codes import CodeSet


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not-met"
    MISSING = "missing"


class Outcome(StrEnum):
    LIKELY_APPROVED = "likely-approved"
    LIKELY_DENIED = "likely-denied"
    DOCUMENTATION_NEEDED = "documentation-needed"


class Pathway(StrEnum):
    INITIAL = "initial"
    CONTINUED = "continued"


COMBINATORS = frozenset({"all", "any", "not", "at_least"})


@dataclass(frozen=True)
class Evidence:
    """One fact that decided a criterion: the resource it came from and what it said."""

    reference: str
    text: str
    date: str | None = None

    def as_json(self) -> dict[str, str]:
        out = {"reference": self.reference, "text": self.text}
        if self.date:
            out["date"] = self.date
        return out


@dataclass(frozen=True)
class Criterion:
    id: str
    kind: str
    text: str
    source: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[Criterion, ...] = ()
    # What a clinician must document when the record cannot decide this criterion.
    request: str | None = None
    # Where the policy text is ambiguous; shown when this criterion decides the outcome and (ambiguity_when: its
    # status, words its evidence names) the ambiguous reading is this patient's.
    ambiguity: str | None = None
    ambiguity_when: Mapping[str, Any] | None = None
    where: str = ""
    # Id of a criterion that decides whether this one applies at all ("if the request is a dose increase").
    applies_if: str | None = None
    # Not met → the use is not covered at all (a section III / "not covered" item).
    not_covered: bool = False
    # Not met → the request belongs to another policy: which one, and what to submit there.
    referral: str | None = None
    # Says who an alternative is for (infants): failing it explains nothing when another reason does.
    gate: bool = False

    @property
    def is_combinator(self) -> bool:
        return self.kind in COMBINATORS


@dataclass(frozen=True)
class Result:
    status: Status
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None
    # The measured value that decided it, in the criterion's own unit (a lab value, a count of lines): what a
    # DTR form is pre-answered with.
    value: float | None = None
    # A change to the order that would meet it: (position in dosageInstruction, the dose the policy allows there).
    proposal: tuple[tuple[int, Quantity], ...] = ()


class Basis(StrEnum):
    """What decided a criterion's status, for every edge to branch on (never the wording of its note)."""

    RECORD = "record"  # the record's evidence (or its absence), by the criterion's own kind
    ANSWER = "answer"  # a prescriber's DTR answer
    NOT_APPLICABLE = "not-applicable"  # its applies_if condition is not the case: met, as it does not apply
    CONDITIONAL = "conditional"  # its applies_if condition is open: only met stands
    MIRROR = "mirror"  # same_as: another criterion's status
    UNREADABLE = "unreadable"  # the data could not be evaluated
    CHILDREN = "children"  # a combinator: its children's statuses
    DECEASED = "deceased"  # the patient is recorded as deceased


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None
    children: tuple[CriterionResult, ...] = ()
    depth: int = 0
    value: float | None = None
    basis: Basis = Basis.RECORD
    # MIRROR: the criterion followed; CONDITIONAL / NOT_APPLICABLE: the applies_if condition.
    about: Criterion | None = None
    # As Result.proposal: the dose per dosageInstruction position that would meet it.
    proposal: tuple[tuple[int, Quantity], ...] = ()

    def walk(self) -> list[CriterionResult]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass(frozen=True)
class Need:
    """One criterion still to document; `shown` is what the record already says about it (a stale lab)."""

    result: CriterionResult

    @property
    def criterion(self) -> Criterion:
        return self.result.criterion

    @property
    def shown(self) -> Evidence | None:
        r = self.result
        return r.evidence[0] if r.evidence and not r.children else None

    @property
    def key(self) -> tuple[Any, ...]:
        return ("need", self.criterion.id, self.shown.text if self.shown else None)


@dataclass(frozen=True)
class Choice:
    """Alternatives: documenting every item of any one option is enough. A single option is a set of items
    that only count together."""

    options: tuple[tuple[Need | Choice, ...], ...]

    @property
    def key(self) -> tuple[Any, ...]:
        return ("choice", tuple(tuple(x.key for x in option) for option in self.options))


# One item of an evaluation's missing documentation.
Requirement = Need | Choice


@dataclass(frozen=True)
class Payer:
    id: str
    name: str
    names: tuple[str, ...]
    identifiers: tuple[str, ...]
    # (plan name, label, url): where an affiliated plan publishes its policies.
    policy_pages: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Applicability:
    payer: Payer
    lines_of_business: frozenset[str]  # empty = any line of business


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class PathwaySpec:
    criteria: Criterion
    # By line of business ("default" when the policy gives one duration for all).
    approval_duration: Mapping[str, str]

    def duration_for(self, line_of_business: str | None) -> str:
        by_lob = self.approval_duration
        if line_of_business is not None and line_of_business in by_lob:
            return by_lob[line_of_business]
        if "default" in by_lob:
            return by_lob["default"]
        return "; ".join(f"{lob.title()}: {text}" for lob, text in by_lob.items())


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    payer_label: str
    applies_to: tuple[Applicability, ...]
    drug_name: str
    drug_codes: CodeSet
    drug_coding: Mapping[str, str]
    # Codes shared with products outside this policy (an ingredient): routed only with the indication shown.
    ambiguous_codes: CodeSet
    indication: CodeSet
    # Products sharing an ingredient that this policy never governs (e.g. Campath for Lemtrada).
    excluded_codes: CodeSet
    initial: PathwaySpec
    continued: PathwaySpec | None
    continued_when: Criterion | None
    not_authorized: tuple[Criterion, ...]
    links: tuple[Link, ...]
    source_document: str
    file: str
    # Date of the policy revision mapped: the version of its DTR Questionnaire.
    revision: str = ""
    notices: tuple[str, ...] = ()
    # Where the payer reviews a request under this policy, said in the submission step (e.g. PDAC review).
    review: str | None = None
    # The policy's items as its text numbers them, and text ids the text numbers differently ({text: outline}).
    outline: tuple[str, ...] = ()
    text_numbering: Mapping[str, str] = field(default_factory=dict)
    # Every criterion of the file by id, for same_as references across pathways.
    criteria_by_id: Mapping[str, Criterion] = field(default_factory=dict)

    @cached_property
    def ordered_drug(self) -> CodeSet:
        """Every code of the drug, shared ingredient codes included: what counts as a prior dose of it."""
        return self.drug_codes.union(self.ambiguous_codes, self.drug_codes.id)


@dataclass(frozen=True)
class Evaluation:
    policy: Policy
    order_ref: str
    drug: Mapping[str, str]
    pathway: Pathway
    outcome: Outcome
    root: CriterionResult
    # What to document (documentation-needed), the decisive not-met results (likely-denied), and the results
    # whose policy text is ambiguous where they decide: data; the words are the edges' (service/wording.py).
    missing: tuple[Requirement, ...]
    denials: tuple[CriterionResult, ...]
    ambiguous: tuple[CriterionResult, ...]
    approval_duration: str
    anchor: str
    # A not-covered use (coverage-information covered = not-covered), and referrals to other policies.
    not_covered: bool = False
    referrals: tuple[str, ...] = ()
