"""Frozen shapes of the policy core: statuses, outcomes, compiled criteria and policies, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .codes import CodeSet


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
class Quantity:
    value: float
    unit: str  # UCUM

    def __str__(self) -> str:
        value = f"{self.value:g}"
        return f"{value} {self.unit}" if self.unit not in ("1", "") else value


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
    # Where the policy text is ambiguous; shown when this criterion decides the outcome.
    ambiguity: str | None = None
    where: str = ""

    @property
    def is_combinator(self) -> bool:
        return self.kind in COMBINATORS


@dataclass(frozen=True)
class Result:
    status: Status
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None
    children: tuple[CriterionResult, ...] = ()
    depth: int = 0

    def walk(self) -> list[CriterionResult]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass(frozen=True)
class Payer:
    id: str
    name: str
    names: tuple[str, ...]
    identifiers: tuple[str, ...]


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
    approval_duration: str


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    payer_label: str
    applies_to: tuple[Applicability, ...]
    drug_name: str
    drug_codes: CodeSet
    drug_coding: Mapping[str, str]
    initial: PathwaySpec
    continued: PathwaySpec | None
    continued_when: Criterion | None
    not_authorized: tuple[Criterion, ...]
    dose_limits_text: str
    links: tuple[Link, ...]
    source_document: str
    file: str
    # Every criterion of the file by id, for same_as references across pathways.
    criteria_by_id: Mapping[str, Criterion] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    policy: Policy
    order_ref: str
    drug: Mapping[str, str]
    pathway: Pathway
    outcome: Outcome
    root: CriterionResult
    missing_documentation: tuple[str, ...]
    denial_reasons: tuple[str, ...]
    ambiguities: tuple[str, ...]
    approval_duration: str
    coverage_ref: str | None
    anchor: str
    notes: tuple[str, ...] = ()
