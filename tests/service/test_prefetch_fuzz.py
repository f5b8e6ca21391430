"""Malformed data in prefetch is never a 500 (issue #24): every element of a real prefetch (the first two items of
each list) replaced by a value of the wrong shape — a number, a string, an object — gets a 200 with the element
read as unreadable, or a clear 4xx (412 when the Patient or Coverage cannot be read at all)."""

from __future__ import annotations

import copy

import pytest
from conftest import scenario_request

SIGN = "/cds-services/pa-order-sign"
WRONG = (5, "x", {"a": 5}, [5])


def paths(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield path + (k,)
            yield from paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:2]):
            yield path + (i,)
            yield from paths(v, path + (i,))


@pytest.mark.parametrize("key", ["ide-approve", "elx-flcPanel", "blin-approve", "lem-statementActive"])
def test_every_prefetch_element_of_the_wrong_shape_is_never_a_500(client, library, key):
    base = scenario_request(key, library)
    failures = []
    for path in paths(base["prefetch"]):
        for value in WRONG:
            body = copy.deepcopy(base)
            node = body["prefetch"]
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
            status = client.post(SIGN, json=body).status_code
            if status >= 500 or status not in (200, 400, 412):
                failures.append((path, value, status))
    assert not failures, failures[:10]
