"""`pa-advisor explain`: evaluate one patient bundle for one drug, offline, and print the criteria table."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cdshooks.dtr.questionnaire import answer_keys
from cdshooks.fhir.codes import SYSTEMS
from cdshooks.fhir.dates import parse_date
from cdshooks.fhir.record import PatientRecord
from cdshooks.policy.assess import Judge
from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Status
from cdshooks.policy.routing import governing_policies, match_coverage, order_concepts, routes_to
from cdshooks.service import wording
from cdshooks.service.hooks import prefetch_specs
from cdshooks.settings import Settings

STYLE = {Status.MET: "green", Status.NOT_MET: "bold red", Status.MISSING: "yellow"}


def _drug_concept(drug: str) -> dict:
    """A code as a CodeableConcept under every system it could be; names go in text."""
    codings = [{"system": SYSTEMS[s], "code": drug} for s in ("hcpcs", "rxnorm", "ndc")]
    return {"coding": codings, "text": drug}


def explain_bundle(resources: list[dict], drug: str, on: date | None, mappings_dir: Path,
                   console: Console | None = None) -> int:
    console = console or Console()
    library = load_library(mappings_dir)
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not patients:
        raise ValueError("the bundle has no Patient")
    pid = str(patients[0].get("id"))
    probe = PatientRecord.from_resources(pid, resources)
    drafts = [r for r in resources if r.get("resourceType") == "MedicationRequest" and r.get("status") == "draft"]
    concept = _drug_concept(drug)
    wanted = {p.id for p, _ in governing_policies(library, [concept])}
    order = next((d for d in drafts
                  if wanted & {p.id for p, _ in governing_policies(library, order_concepts(d, probe))}), None)
    if order is None:
        order = {"resourceType": "MedicationRequest", "id": "explain-order", "status": "draft", "intent": "order",
                 "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": concept}
    types = {s.resource_type for s in prefetch_specs(library) if s.resource_type}
    record = PatientRecord.from_resources(pid, resources, retrieved=types | {r["resourceType"] for r in resources},
                                          draft_orders=[order] + [d for d in drafts if d is not order])
    policies = governing_policies(library, order_concepts(order, record))
    if not policies:
        print(f"pa-advisor: no policy governs drug {drug!r}", file=sys.stderr)
        return 1
    anchor = on or parse_date(order.get("authoredOn")) or date.today()
    settings = Settings()
    judge = Judge(lambda p: answer_keys(p, settings.attestation_questionnaire), settings.answer_window_days)
    for policy, match in policies:
        coverage = match_coverage(policy, record, anchor) if routes_to(policy, order, record) else None
        ev = judge.evaluate(policy, record, order, date.today(), coverage.line_of_business if coverage else None,
                            anchor)
        payer = coverage.payer_name if coverage else ("no matching Coverage, or not this policy's indication: "
                                                      "the policy would not apply")
        console.print(f"[bold]{policy.id}[/bold] {policy.title} — {payer}")
        console.print(f"order {ev.order_ref} ({match.display}); {ev.pathway.value} criteria as of {ev.anchor}")
        table = Table(show_lines=False)
        for col in ("item", "criterion", "status", "evidence"):
            table.add_column(col, overflow="fold")
        for r in ev.root.walk()[1:]:
            c = r.criterion
            evidence = "; ".join(f"{e.reference}: {e.text}" + (f" ({e.date})" if e.date else "") for e in r.evidence)
            if r.note:
                evidence = f"{evidence}; {r.note}" if evidence else r.note
            status = f"[{STYLE[r.status]}]{r.status.value}[/]"
            table.add_row(c.source or "", "  " * max(r.depth, 0) + c.text[:90], status, evidence)
        console.print(table)
        console.print(f"[bold]Outcome:[/bold] {ev.outcome.value}   approval duration: {ev.approval_duration}")
        for item in ev.missing:
            console.print(f"  document: {wording.requirement(item)}", markup=False)
        for r in ev.denials:
            console.print(f"  not met: {wording.denial(r)}", markup=False)
    return 0
