"""One hook call, end to end, on plain data: request → orders → record → policy → cards (no Flask here)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cdshooks import logs
from cdshooks.dtr import questionnaire as dtr
from cdshooks.dtr.prefill import DtrContext, context_of
from cdshooks.errors import DataUnavailable, NotAllowed, RequestError
from cdshooks.fhir import models as fhir_models
from cdshooks.fhir.client import FhirClient
from cdshooks.fhir.dates import parse_date
from cdshooks.fhir.record import PatientRecord, ref_of
from cdshooks.policy.assess import Judge
from cdshooks.policy.loader import Library
from cdshooks.policy.model import Policy
from cdshooks.policy.routing import ORDER_TYPES, governing_policies, order_concepts, primary_coverage
from cdshooks.service import actions, cards
from cdshooks.service.hooks import HookSpec, PrefetchSpec, prefetch_specs, specs_for
from cdshooks.service.protocol import HookRequest
from cdshooks.service.record_builder import RecordBuilder, names_patient
from cdshooks.settings import Settings


@dataclass
class HookResult:
    response: dict[str, Any]
    orders: list[str] = field(default_factory=list)
    outcomes: list[dict[str, str]] = field(default_factory=list)
    # What each coverage assertion decided, for a DTR pre-filled form (kept by the caller's store).
    contexts: list[DtrContext] = field(default_factory=list)


class HookService:
    def __init__(self, settings: Settings, library: Library, client: FhirClient | None,
                 today: Callable[[], date] = date.today, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        """`today` and `new_id` (card uuids, coverage-assertion ids) are injectable: a golden response compares
        whole."""
        self.settings, self.library, self.client, self.today, self.new_id = settings, library, client, today, new_id
        self.specs: tuple[PrefetchSpec, ...] = prefetch_specs(library)
        # What an order no policy can govern needs: the Coverage to state its coverage-information under.
        self.coverage_specs = tuple(s for s in self.specs if s.key in ("patient", "coverage"))
        self.builder = RecordBuilder(settings, client, self.specs)

    def answer_keys(self, policy: Policy) -> tuple[str, ...]:
        return dtr.answer_keys(policy, self.settings.attestation_questionnaire)

    def call(self, hook: HookSpec, body: Any, fhir_server_allowed: Callable[[str], bool] | None = None,
             base_url: str = "", answers: list[dict[str, Any]] | None = None) -> HookResult:
        """`fhir_server_allowed` (trust mode): may this caller's token be sent to its `fhirServer`? `base_url`:
        where this service is reached, for the DTR Questionnaire canonicals (none without it). `answers`: DTR
        responses sent to this service for the patient, read with the record's own."""
        req = HookRequest.parse(body, hook.context_schema)
        if req.fhir_server and fhir_server_allowed and not fhir_server_allowed(str(body["fhirServer"])):
            # Refused before any connection: the caller's token never reaches a server its EHR does not own.
            raise NotAllowed("$.fhirServer: not a FHIR server this EHR is trusted for", expression="$.fhirServer")
        if req.hook != hook.hook:
            message = f"$.hook: service {hook.id} answers '{hook.hook}', not '{req.hook[:40]}'"
            raise RequestError(message, expression="$.hook")
        self._check_size(hook, req)
        deadline = time.monotonic() + self.settings.fhir_deadline  # one budget for every FHIR read of this call
        orders = self._orders(hook, req, deadline)
        _same_patient(orders, str(req.context["patientId"]), req.fhir_server)
        empty = PatientRecord.from_resources(str(req.context["patientId"]), [], draft_orders=orders)
        candidates = [o for o in orders if _may_be_governed(self.library, o, empty)]
        if not req.wants("coverage-info") or not (candidates or hook.primary and orders):
            return HookResult({"cards": []})
        if not hook.primary:  # no system action will validate the order on its way back, so validate it here
            for order in candidates:
                _check_order(order)
        if not candidates:
            # No policy can govern these orders: only the Coverage is read, to say so in the coverage-information.
            return self._uncovered(hook, req, orders, deadline)
        record = self.builder.build(req, specs_for(hook, self.specs), orders, deadline)
        if answers:
            record = record.with_resources(answers)
        if record.unreadable_responses:  # a shape, never the content
            logs.event("unreadable QuestionnaireResponse ignored", logging.WARNING, count=record.unreadable_responses)
        return self._answer(hook, req, record, candidates, base_url, orders)

    def _uncovered(self, hook: HookSpec, req: HookRequest, orders: list[dict[str, Any]],
                   deadline: float) -> HookResult:
        try:
            record = self.builder.build(req, self.coverage_specs, orders, deadline)
        except DataUnavailable:  # no Coverage to speak of: nothing is asked of the EHR for orders we do not judge
            return HookResult({"cards": []})
        return self._answer(hook, req, record, [], "", orders)

    def _answer(self, hook: HookSpec, req: HookRequest, record: PatientRecord, orders: list[dict[str, Any]],
                base_url: str, every: list[dict[str, Any]]) -> HookResult:
        """Cards and coverage-information for the governed `orders`; on a primary hook, coverage-information for
        `every` other order of the call too (CRD: every order gets one), or an Instructions card where the record
        shows no Coverage in force."""
        result = HookResult({"cards": []})
        system_actions: list[dict[str, Any]] = []
        ids: dict[str, str] = {}  # Coverage → the assertion id given under it in this call
        today = self.today()
        # Where the documentation is completed: the EHR's DTR app, else (dev mode) the tester's console.
        launch = self.settings.dtr_app_url or (f"{base_url}/console" if self.settings.dev_mode and base_url else None)
        judge = Judge(self.answer_keys, self.settings.answer_window_days, req.fhir_server, req.context.get("userId"))
        for scope, ev in judge.orders(self.library, record, orders, today):
            # The DTR form is offered with the coverage-information, so only where a system action carries it.
            form = dtr.canonical(base_url, scope.policy) if hook.primary and base_url and not ev.not_covered else None
            # A fresh random id per evaluated order and evaluation: it names this assertion, nothing else, and is
            # the capability that unlocks its pre-filled DTR form.
            assertion_id = self.new_id() if hook.primary else ""
            card = cards.pa_card(ev, scope, form, self.new_id())
            offers = actions.suggestions(ev, scope, f"Patient/{record.patient_id}", form, today.isoformat(),
                                         drafts=not hook.dispatched, task=not launch, new_id=self.new_id)
            cards.add_actions(card, actions.launch_link(ev, scope, assertion_id, form, launch), offers)
            result.response["cards"].append(card)
            result.orders.append(ev.order_ref)
            result.outcomes.append({"order": ev.order_ref, "policy": ev.policy.id, "outcome": ev.outcome.value})
            if hook.primary:
                action = cards.coverage_action(ev, scope, assertion_id, today.isoformat(), form)
                if form:
                    result.contexts.append(context_of(assertion_id, record.patient_id, ev))
                # One validation covers both: the order as received and the resource we send back.
                if fhir_models.problems(action["resource"]):
                    if tolerated := _check_order(scope.order):  # malformed where we read it: 400
                        # Not valid R4 where we never read it (e.g. the Sandbox's single-object category): the
                        # card stands, but an invalid order is never sent back as a system action.
                        elements = ", ".join(sorted({p.split(":")[0] for p in tolerated}))
                        logs.event("order not valid R4; no coverage-information action", logging.WARNING,
                                   service=hook.id, reason=f"invalid elements it never reads: {elements}")
                        continue
                    raise AssertionError("coverage-information extension is not valid FHIR")  # our bug: 500
                system_actions.append(action)
                ids.setdefault(scope.coverage.ref, assertion_id)
        if hook.primary:
            judged = set(result.orders)
            rest = [o for o in every if ref_of(o) not in judged]
            system_actions += self._not_judged(hook, record, rest, today, result, ids)
        limit = req.configuration.get("max-cards")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
            result.response["cards"] = result.response["cards"][:limit]
        result.response["cards"] = [cards.prune(c) for c in result.response["cards"]]
        if system_actions:
            result.response["systemActions"] = system_actions  # never pruned: the order goes back exactly as received
        return result

    def _not_judged(self, hook: HookSpec, record: PatientRecord, orders: list[dict[str, Any]], today: date,
                    result: HookResult, ids: dict[str, str]) -> list[dict[str, Any]]:
        """Coverage-information for orders no policy of ours judges: `conditional` under the Coverage in force
        (the payer's rules for them are not known here); with no Coverage in force, one Instructions card.
        `ids`: the call's assertion id per Coverage, shared (CRD 2.0.1 and Inferno: one per coverage)."""
        out, uncovered = [], []
        for order in orders:
            on = parse_date(order.get("authoredOn")) or today
            coverage = primary_coverage(record, on)
            if coverage is None:
                uncovered.append(order)
                continue
            assertion_id = ids.get(ref_of(coverage)) or ids.setdefault(ref_of(coverage), self.new_id())
            action = cards.unjudged_action(order, ref_of(coverage), assertion_id, today.isoformat())
            if fhir_models.problems(action["resource"]):  # never send an invalid order back
                logs.event("order not valid R4; no coverage-information action", logging.WARNING, service=hook.id)
                continue
            out.append(action)
        if uncovered:
            result.response["cards"].append(cards.no_coverage_card(uncovered, today.isoformat(), self.new_id()))
        return out

    def _check_size(self, hook: HookSpec, req: HookRequest) -> None:
        """At most `max_orders` orders per call: real order sets are far smaller, and each governed order costs
        an evaluation, so a call with thousands would hold a worker for seconds."""
        count = hook.order_count(req.context)
        if count > self.settings.max_orders:
            raise RequestError(f"{count} orders in one call; at most {self.settings.max_orders} are "
                               "accepted (PA_MAX_ORDERS)", expression="$.context")

    def _orders(self, hook: HookSpec, req: HookRequest, deadline: float) -> list[dict[str, Any]]:
        if hook.dispatched:
            return self._dispatched(req, hook.dispatched_refs(req.context), deadline)
        return hook.to_judge(req.context, hook.draft_orders(req.context))

    def _dispatched(self, req: HookRequest, refs: list[str], deadline: float) -> list[dict[str, Any]]:
        """order-dispatch names orders by reference: find them in prefetch, else read them from the FHIR server."""
        found: dict[str, dict[str, Any]] = {}
        for value in req.prefetch.values():
            for res in _resources_of(value):
                if ref_of(res) in refs and res.get("resourceType") in ORDER_TYPES:
                    found[ref_of(res)] = res
        todo = [r for r in refs if r not in found and r.split("/")[0] in ORDER_TYPES and r.count("/") == 1]
        if todo and not (req.fhir_server and self.client):
            if not found:
                raise DataUnavailable("The dispatched orders are not in prefetch and no FHIR server was given", todo)
            return list(found.values())
        if todo:
            client, base, token = self.client, req.fhir_server, req.access_token
            assert client and base
            calls = {r: (lambda r=r: client.read(base, r, token, deadline)) for r in todo}
            for ref, read in client.many(calls, deadline).items():
                if read.error and not found:
                    logs.event("dispatched order unavailable", logging.WARNING, reason=read.error)
                    raise DataUnavailable("The dispatched order could not be read from the FHIR server", [ref])
                for item in read.resources:
                    found[ref_of(item)] = item
        return [found[r] for r in refs if r in found]


def _check_order(order: Mapping[str, Any]) -> list[str]:
    """400 when the order is malformed in an element the evaluation reads; else the problems it tolerates."""
    read, tolerated = fhir_models.split_problems(order)
    if read:
        raise RequestError(f"{ref_of(order)} is not a valid FHIR R4 resource: {'; '.join(read[:3])}",
                           expression="$.context.draftOrders")
    return tolerated


def _same_patient(orders: list[dict[str, Any]], patient_id: str, fhir_server: str | None) -> None:
    """An order names the context patient or no one (the hook context then says whose it is)."""
    for order in orders:
        subject = order.get("subject")
        if subject is not None and not names_patient(subject, patient_id, fhir_server):
            raise RequestError(f"{ref_of(order)}: its subject is not the context patient (context.patientId)",
                               expression="$.context.draftOrders")


def _resources_of(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        entries = value.get("entry") or []
        return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    return [value]


def _may_be_governed(library: Library, order: Mapping[str, Any], record: PatientRecord) -> bool:
    """Cheap pre-check before reading any patient data: could a policy govern this order?"""
    concepts = order_concepts(order, record)
    if governing_policies(library, concepts):
        return True
    ref = order.get("medicationReference")
    # A Medication we cannot see yet (not contained): only the record can tell.
    return isinstance(ref, dict) and isinstance(ref.get("reference"), str) and not ref["reference"].startswith("#") \
        and not concepts
