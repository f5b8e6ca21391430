"""Route → context → evaluate, written once: the service, `explain` and the tests all judge an order this way."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cdshooks.fhir.dates import parse_date
from cdshooks.fhir.record import PatientRecord
from cdshooks.policy.context import Context
from cdshooks.policy.evaluate import evaluate
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Evaluation, Policy
from cdshooks.policy.routing import InScope, orders_in_scope


@dataclass(frozen=True)
class Judge:
    """How this deployment judges: which questionnaires' answers count for a policy, how long an answer counts,
    and whose FHIR server an attached report may live on."""

    answer_keys: Callable[[Policy], tuple[str, ...]]
    answer_window_days: int = 90
    fhir_server: str | None = None
    signing_user: str | None = None

    def context(self, policy: Policy, record: PatientRecord, order: dict[str, Any], today: date,
                line_of_business: str | None, anchor: date | None = None) -> Context:
        """The order is judged as of its own date (authoredOn), else the call's; `anchor` overrides both."""
        on = anchor or parse_date(order.get("authoredOn")) or today
        return Context(record, order, on, policy.ordered_drug, self.answer_keys(policy), line_of_business,
                       signing_user=self.signing_user, today=today, answer_window_days=self.answer_window_days,
                       fhir_server=self.fhir_server)

    def evaluate(self, policy: Policy, record: PatientRecord, order: dict[str, Any], today: date,
                 line_of_business: str | None, anchor: date | None = None) -> Evaluation:
        return evaluate(policy, self.context(policy, record, order, today, line_of_business, anchor))

    def orders(self, library: Library, record: PatientRecord, orders: Iterable[dict[str, Any]],
               today: date) -> list[tuple[InScope, Evaluation]]:
        """Every order a policy governs for this patient's coverage, with its evaluation."""
        return [(scope, self.evaluate(scope.policy, record, dict(scope.order), today,
                                      scope.coverage.line_of_business))
                for scope in orders_in_scope(library, record, orders, today)]
