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
