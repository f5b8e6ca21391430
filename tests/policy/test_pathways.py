"""Generated from the policy trees: every alternative branch of every policy is met by some fixture record, and on
every approved fixture, a record failing only one leaf gets the outcome that leaf implies.

"Implied" is read off the tree, not the engine: a leaf with a met alternative beside it (in any `any` above it)
changes nothing; otherwise leaving it open asks for documentation, and failing it denies — unless an alternative
beside it is still open, which then asks for documentation.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cdshooks.fhir.record import PatientRecord
from cdshooks.policy import evaluate as engine
from cdshooks.policy.assess import Judge
from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Basis, CriterionResult, Outcome, Result, Status
from cdshooks.policy.routing import orders_in_scope
from cdshooks.service.hooks import prefetch_specs
from cdshooks.settings import DEFAULT_MAPPINGS

FIXTURES = Path(__file__).resolve().parents[2] / "fhir_fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
LIBRARY = load_library(DEFAULT_MAPPINGS)
ANCHOR = date(2026, 11, 20)
ATTEST = "urn:pa-advisor:Questionnaire:pa-attestation"
JUDGE = Judge(lambda policy: (ATTEST,))
# Alternatives no record can reach, and why (each is a decision to review, listed in the README).
UNREACHABLE = {
    ("LA.PHAR.652", "dose-wk25-48"): "a record with Elrexfio doses given is continued therapy (II), so the initial "
                                     "criteria never see week 25+",
    ("LA.PHAR.652", "dose-wk49"): "as dose-wk25-48",
    ("CP.PHAR.243", "dose-later-course"): "a record with a Lemtrada course given is continued therapy (II), so the "
                                          "initial criteria never see a second course",
}


def evaluate_fixture(s: dict):
    bundle = json.loads((FIXTURES / s["bundle"]).read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    # As with full prefetch: every type the service asks for was read, whether or not the record has any.
    read = {spec.resource_type for spec in prefetch_specs(LIBRARY) if spec.resource_type}
    record = PatientRecord.from_resources(s["patientId"], resources, draft_orders=s["draftOrders"],
                                          retrieved=read | {r["resourceType"] for r in resources})
    out = []
    # The call happens today, after the fixtures' order date (a death recorded since then counts); each order is
    # judged as of its own date, as the service judges it.
    today = max(date.today(), ANCHOR)
    for scope in orders_in_scope(LIBRARY, record, s["draftOrders"][:1], today):
        ctx = JUDGE.context(scope.policy, record, dict(scope.order), today, scope.coverage.line_of_business)
        out.append((scope.policy, ctx, engine.evaluate(scope.policy, ctx)))
    return out


EVALUATIONS = [(s["key"], *e) for s in MANIFEST["scenarios"] if s["expected"] for e in evaluate_fixture(s)]


def alternatives(policy):
    trees = [policy.initial.criteria, *policy.not_authorized]
    trees += [policy.continued.criteria] if policy.continued else []
    for tree in trees:
        stack = [tree]
        while stack:
            c = stack.pop()
            if c.kind == "any":
                yield from ((c, child) for child in c.children)
            stack.extend(c.children)


BRANCHES = [(p.id, parent.id, child.id) for p in LIBRARY.policies for parent, child in alternatives(p)]


@pytest.mark.parametrize("policy, parent, branch", BRANCHES)
def test_every_alternative_branch_is_met_by_some_fixture(policy, parent, branch):
    if (policy, branch) in UNREACHABLE:
        pytest.skip(UNREACHABLE[(policy, branch)])
    met_in = [key for key, pol, _, ev in EVALUATIONS if pol.id == policy
              and any(r.criterion.id == branch and r.status is Status.MET for r in ev.root.walk())]
    assert met_in, f"{policy}: no fixture meets the alternative {branch} of {parent}"


def leaves(r: CriterionResult, state: str = "sole"):
    """(leaf, state) for every leaf: 'free' when a met alternative stands beside it somewhere above, 'open' when
    only unknown alternatives do, 'sole' when nothing does. Leaves under `not` or a conditional are left out."""
    if r.criterion.kind == "not" or r.criterion.applies_if:
        return
    if not r.children:
        if r.criterion.kind != "same_as":
            yield r, state
        return
    for child in r.children:
        others = [c.status for c in r.children if c is not child] if r.criterion.kind == "any" else []
        here = "free" if Status.MET in others else "open" if Status.MISSING in others else "sole"
        rank = {"sole": 0, "open": 1, "free": 2}
        yield from leaves(child, max(state, here, key=rank.get))


def mirrored(policy) -> set[str]:
    """Criteria that a same_as elsewhere repeats: failing one fails its mirrors too, which the tree position alone
    cannot tell (the fixtures cover those, e.g. blin-cd19neg)."""
    out: set[str] = set()
    for c in policy.criteria_by_id.values():
        if c.kind == "same_as":
            stack = [policy.criteria_by_id[c.params["ref"]]]
            while stack:
                x = stack.pop()
                out.add(x.id)
                stack.extend(x.children)
    return out


APPROVED = [(key, pol, ctx, ev) for key, pol, ctx, ev in EVALUATIONS if ev.outcome is Outcome.LIKELY_APPROVED]
FLIPS = [pytest.param(key, pol, ctx, leaf.criterion.id, state, id=f"{key}:{leaf.criterion.id}")
         for key, pol, ctx, ev in APPROVED for leaf, state in leaves(ev.root)
         if leaf.status is Status.MET and leaf.criterion.id != "deceased" and leaf.criterion.id not in mirrored(pol)]
IMPLIED = {("free", Status.NOT_MET): Outcome.LIKELY_APPROVED, ("free", Status.MISSING): Outcome.LIKELY_APPROVED,
           ("open", Status.NOT_MET): Outcome.DOCUMENTATION_NEEDED,
           ("open", Status.MISSING): Outcome.DOCUMENTATION_NEEDED,
           ("sole", Status.NOT_MET): Outcome.LIKELY_DENIED, ("sole", Status.MISSING): Outcome.DOCUMENTATION_NEEDED}


@pytest.mark.parametrize("key, policy, ctx, leaf, state", FLIPS)
@pytest.mark.parametrize("forced", [Status.NOT_MET, Status.MISSING])
def test_a_record_failing_only_one_leaf_gets_the_outcome_that_leaf_implies(key, policy, ctx, leaf, state, forced,
                                                                           monkeypatch):
    original = engine._Run._leaf

    def forced_leaf(self, c):
        return (Result(forced, (), "forced by the test"), Basis.RECORD) if c.id == leaf else original(self, c)

    monkeypatch.setattr(engine._Run, "_leaf", forced_leaf)
    assert engine.evaluate(policy, ctx).outcome is IMPLIED[(state, forced)]
