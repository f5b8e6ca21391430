"""Generated (issue #22): for every policy, every way of signing the label's schedule as several draft orders in one
call is approved, and every schedule the label does not allow is not.

A schedule is a list of dosing steps (dose, first day, last day or a weekly repeat). The allowed variants are all
groupings of the label's steps into orders (contiguous or not), in any order in the call; the others move a step
closer to the one before than the label allows, give a step more than its limit, swap the first two steps, or
add days beyond the course or cycle. Each is evaluated on the policy's approved fixture with its draft order
replaced by the schedule's orders.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest

from cdshooks.fhir.record import PatientRecord
from cdshooks.policy import evaluate as engine
from cdshooks.policy.context import Context
from cdshooks.policy.routing import orders_in_scope
from cdshooks.service.hooks import prefetch_specs

from .test_pathways import ANCHOR, ATTEST, FIXTURES, LIBRARY, MANIFEST

UCUM = "http://unitsofmeasure.org"
DAY1 = date(2026, 11, 23)


@dataclass(frozen=True)
class Step:
    amount: float  # per administration (rate steps: 0)
    unit: str
    day: int  # first day, 0-based from DAY1
    last: int | None = None  # last day of a daily or continuous step (None: one dose, or weekly from `day`)
    weekly: bool = False
    rate: float | None = None  # per day (continuous infusion)

    def dosage(self, seq: int) -> dict:
        start = (DAY1 + timedelta(days=self.day)).isoformat()
        repeat: dict = {"boundsPeriod": {"start": start}}
        if self.weekly:
            repeat.update(frequency=1, period=1, periodUnit="wk")
            repeat["boundsPeriod"]["end"] = (DAY1 + timedelta(days=self.day + 160)).isoformat()
        elif self.last is not None:
            repeat.update(frequency=1, period=1, periodUnit="d")
            repeat["boundsPeriod"]["end"] = (DAY1 + timedelta(days=self.last)).isoformat()
        else:
            repeat.update(count=1)
            repeat["boundsPeriod"]["end"] = start
        dr: dict = {}
        if self.amount:
            dr["doseQuantity"] = {"value": self.amount, "unit": self.unit, "system": UCUM, "code": self.unit}
        if self.rate:
            dr["rateQuantity"] = {"value": self.rate, "unit": self.unit, "system": UCUM, "code": self.unit}
        return {"sequence": seq, "text": "generated", "doseAndRate": [dr], "timing": {"repeat": repeat}}


@dataclass(frozen=True)
class Plan:
    base: str  # the policy's approved fixture
    criterion: str  # the dose criterion the schedule is about
    steps: tuple[Step, ...]  # the label's first course
    # How much a step may be over its limit before it is over the label (Tecvayli: dose rounding, 10 %).
    over: float = 1.05
    gaps: bool = True  # the label spaces the steps (days between them are checked)


PLANS = {
    # 12 mg day 1, 32 mg day 4, 76 mg weekly from day 8 (I.A.8.a.i)
    "LA.PHAR.652": Plan("elx-approve", "dose-wk1-24",
                        (Step(12, "mg", 0), Step(32, "mg", 3), Step(76, "mg", 7, weekly=True))),
    # 0.06 / 0.3 mg/kg 2-4 days apart, then 1.5 mg/kg weekly; 80 kg (Dosing.1)
    "WHA-TECVAYLI": Plan("tec-approve", "dose", (Step(4.8, "mg", 0), Step(24, "mg", 2),
                                                 Step(120, "mg", 4, weekly=True)), over=1.15),
    # relapsed: 9 µg/day days 1-7, then 28 µg/day days 8-28 (Limits.A)
    "MP-RX-FP-14-23": Plan("blin-approve", "dose-limit", (Step(0, "ug/d", 0, 6, rate=9), Step(0, "ug/d", 7, 27,
                                                                                           rate=28)), gaps=False),
    # 12 mg/day on 5 consecutive days (I.A.6.a)
    "CP.PHAR.243": Plan("lem-approve", "dose", tuple(Step(12, "mg", d) for d in range(5)), gaps=False),
    # one infusion (I.A.10): the only allowed schedule is one order
    "CP.PHAR.481": Plan("ide-approve", "dose", (Step(450, "10*6", 0),), gaps=False),
}


def test_every_policy_has_a_schedule_plan():
    assert set(PLANS) == {p.id for p in LIBRARY.policies}


def groupings(n: int) -> list[list[list[int]]]:
    """Every way to put steps 0..n-1 into orders (set partitions), each order's steps in label order."""
    if n == 0:
        return [[]]
    out = []
    for rest in groupings(n - 1):
        out.append([[n - 1]] + rest)
        for i in range(len(rest)):
            out.append(rest[:i] + [rest[i] + [n - 1]] + rest[i + 1:])
    return [[sorted(g) for g in sorted(p)] for p in out]


def orders_for(key: str, steps: tuple[Step, ...], grouping: list[list[int]]) -> list[dict]:
    template = SCENARIOS[key]["draftOrders"][0]
    orders = []
    for n, group in enumerate(grouping):
        order = copy.deepcopy(template)
        order["id"] = f"{key}-gen{n}"
        order["dosageInstruction"] = [steps[i].dosage(seq) for seq, i in enumerate(group, 1)]
        order.pop("dispenseRequest", None)
        orders.append(order)
    return orders


SCENARIOS = {s["key"]: s for s in MANIFEST["scenarios"]}


def evaluate(key: str, orders: list[dict]) -> list[tuple[str, str, str]]:
    """(order id, outcome, dose criterion status) for every order of the call."""
    s = SCENARIOS[key]
    bundle = json.loads((FIXTURES / s["bundle"]).read_text())
    drafts = {o["id"] for o in s["draftOrders"]}
    resources = [e["resource"] for e in bundle["entry"] if e["resource"].get("id") not in drafts]
    read = {spec.resource_type for spec in prefetch_specs(LIBRARY) if spec.resource_type}
    record = PatientRecord.from_resources(s["patientId"], resources, draft_orders=orders,
                                          retrieved=read | {r["resourceType"] for r in resources})
    out = []
    for scope in orders_in_scope(LIBRARY, record, orders, ANCHOR):
        ctx = Context(record, scope.order, ANCHOR, scope.policy.ordered_drug, (ATTEST,),
                      scope.coverage.line_of_business, today=ANCHOR)
        ev = engine.evaluate(scope.policy, ctx)
        plan = PLANS[scope.policy.id]
        status = next(r.status.value for r in ev.root.walk() if r.criterion.id == plan.criterion)
        out.append((scope.order["id"], ev.outcome.value, status))
    assert len(out) == len(orders), "every order is governed by the policy"
    return out


def allowed() -> list[tuple[str, list[dict]]]:
    cases = []
    for pid, plan in PLANS.items():
        for grouping in groupings(len(plan.steps)):
            orders = orders_for(plan.base, plan.steps, grouping)
            cases.append((f"{pid}:{grouping}", orders))
            if len(orders) > 1:
                cases.append((f"{pid}:{grouping}:reversed", orders[::-1]))
    return cases


def not_allowed() -> list[tuple[str, list[dict], set[int]]]:
    """(id, orders, indexes of the steps that break the label); every step in its own order."""
    cases = []
    for pid, plan in PLANS.items():
        steps, one_each = plan.steps, [[i] for i in range(len(plan.steps))]
        if len(steps) == 1:  # a one-time therapy: a second order is a second infusion
            cases.append((f"{pid}:twice", orders_for(plan.base, steps + steps, [[0], [1]]), {0, 1}))
            continue
        for i, step in enumerate(steps):
            bigger = replace(step, amount=round(step.amount * plan.over + 0.01, 2)) if step.amount else \
                replace(step, rate=round((step.rate or 0) * plan.over + 0.01, 2))
            changed = steps[:i] + (bigger,) + steps[i + 1:]
            cases.append((f"{pid}:step{i + 1}-over", orders_for(plan.base, changed, one_each), {i}))
            if plan.gaps and i:
                early = tuple(replace(s, day=s.day - 1) if j >= i else s for j, s in enumerate(steps))
                cases.append((f"{pid}:step{i + 1}-a-day-early", orders_for(plan.base, early, one_each), {i}))
        swapped = (replace(steps[1], day=steps[0].day, last=steps[0].last),
                   replace(steps[0], day=steps[1].day, last=steps[1].last)) + steps[2:]
        if swapped[0].amount != swapped[1].amount or swapped[0].rate != swapped[1].rate:
            cases.append((f"{pid}:first-two-swapped", orders_for(plan.base, swapped, one_each), {0}))
        last = steps[-1]
        if last.last is not None or not last.weekly:  # a course or cycle of days: one day too many
            longer = steps + (replace(last, day=(last.last or last.day) + 1, last=None if last.last is None
                                      else (last.last or last.day) + 1),)
            cases.append((f"{pid}:a-day-too-many", orders_for(plan.base, longer, [[i] for i in range(len(longer))]),
                          set(range(len(longer)))))
    return cases


@pytest.mark.parametrize("case, orders", allowed(), ids=[c for c, _ in allowed()])
def test_every_way_to_sign_the_label_schedule_is_approved(case, orders):
    results = evaluate(orders[0]["id"].rsplit("-gen", 1)[0], orders)
    assert all(outcome == "likely-approved" and status == "met" for _, outcome, status in results), (case, results)


@pytest.mark.parametrize("case, orders, bad", not_allowed(), ids=[c for c, _, _ in not_allowed()])
def test_every_schedule_off_the_label_is_not_approved(case, orders, bad):
    results = dict((oid, (outcome, status)) for oid, outcome, status in
                   evaluate(orders[0]["id"].rsplit("-gen", 1)[0], orders))
    off = [orders[i]["id"] for i in bad]
    assert any(results[oid][0] != "likely-approved" for oid in off), (case, results)
    assert all(results[oid][1] != "met" for oid in off if results[oid][0] != "likely-approved"), (case, results)


def test_groupings_are_every_set_partition():
    assert len(groupings(3)) == 5 and len(groupings(5)) == 52  # Bell numbers
    assert list(itertools.chain.from_iterable(groupings(1))) == [[0]]
