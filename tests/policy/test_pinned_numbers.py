"""The loaded mappings hold the numbers the policy texts state, and every number has boundary fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Quantity
from cdshooks.settings import DEFAULT_MAPPINGS

from .pinned import DURATIONS, PINS

LIBRARY = load_library(DEFAULT_MAPPINGS)
POLICIES = {p.id: p for p in LIBRARY.policies}
MANIFEST = json.loads((Path(__file__).resolve().parents[2] / "fhir_fixtures" / "manifest.json").read_text())


def lookup(params, path: str):
    value = params
    for part in path.split("."):
        name, *index = re.split(r"[\[\]]", part)[:2]
        value = value[name]
        if index and index[0] != "":
            value = value[int(index[0])]
    return value


@pytest.mark.parametrize("pin", PINS, ids=[p.id for p in PINS])
def test_the_mapping_holds_the_number_the_policy_text_states(pin):
    criterion = POLICIES[pin.policy].criteria_by_id[pin.criterion]
    actual = lookup(criterion.params, pin.path)
    if isinstance(pin.value, str):
        number, unit = pin.value.split(maxsplit=1)
        assert actual == Quantity(float(number), unit), (pin.id, actual)
    else:
        assert actual == pin.value, (pin.id, actual)


@pytest.mark.parametrize("policy, pathway, lob, text", DURATIONS)
def test_approval_durations_follow_the_current_revision(policy, pathway, lob, text):
    spec = POLICIES[policy].initial if pathway == "initial" else POLICIES[policy].continued
    assert spec.duration_for(lob) == text


@pytest.mark.parametrize("pin", PINS, ids=[p.id for p in PINS])
def test_every_pinned_number_has_a_just_inside_and_a_just_outside_fixture(pin):
    sides = {s["boundary"][1] for s in MANIFEST["scenarios"] if s.get("boundary", [None])[0] == pin.id}
    assert sides == {"inside", "outside"}, (pin.id, sides)
