"""Three-valued combinators and the outcome rules."""

from __future__ import annotations

import pytest

from cdshooks.policy.evaluate import combine
from cdshooks.policy.model import Status

M, N, X = Status.MET, Status.NOT_MET, Status.MISSING


@pytest.mark.parametrize("kind, statuses, expected", [
    ("all", [M, M], M), ("all", [M, X], X), ("all", [X, N], N), ("all", [M, N], N),
    ("any", [N, N], N), ("any", [N, X], X), ("any", [X, M], M), ("any", [N, M], M),
    ("not", [M], N), ("not", [N], M), ("not", [X], X),
])
def test_combinators_follow_three_valued_logic(kind, statuses, expected):
    assert combine(kind, statuses) is expected


@pytest.mark.parametrize("statuses, n, expected", [
    ([M, M, N], 2, M), ([M, X, N], 2, X), ([M, N, N], 2, N), ([X, X, X], 1, X), ([N, N], 1, N),
])
def test_at_least_n_is_missing_while_the_unknowns_could_still_reach_n(statuses, n, expected):
    assert combine("at_least", statuses, n) is expected


def test_any_is_missing_when_none_met_and_one_missing():
    assert combine("any", [N, X, N]) is X


def test_in_production_a_crashing_criterion_is_missing_with_its_reason_never_an_exception(monkeypatch):
    """The suite makes crashes fatal (conftest); production keeps answering, and says why."""
    from cdshooks.policy import evaluate as engine
    from cdshooks.policy.codes import EMPTY
    from cdshooks.policy.model import Criterion, PathwaySpec, Policy, Status

    from .helpers import context

    monkeypatch.setattr(engine, "CAUGHT", (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError))
    broken = Criterion(id="broken", kind="lines", text="≥ N lines", source="I.A.7", params={"codes": EMPTY})
    policy = Policy(id="P", title="T", payer_label="X", applies_to=(), drug_name="D", drug_codes=EMPTY,
                    drug_coding={}, ambiguous_codes=EMPTY, indication=EMPTY, excluded_codes=EMPTY,
                    initial=PathwaySpec(broken, {"default": "12 months"}), continued=None, continued_when=None,
                    not_authorized=(), links=(), source_document="S", file="f")
    ev = engine.evaluate(policy, context())
    (result,) = [r for r in ev.root.walk() if r.criterion.id == "broken"]
    assert result.status is Status.MISSING and result.note == "could not evaluate: KeyError"
    monkeypatch.setattr(engine, "CAUGHT", ())
    with pytest.raises(KeyError):
        engine.evaluate(policy, context())
