"""What every criterion kind reads: the record, the order under review, the anchor date, the ordered drug."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from cdshooks.fhir.record import Answer, Exposure, PatientRecord, ref_of
from cdshooks.policy.codes import CodeSet
from cdshooks.policy.model import Evidence, Result, Status

# What the older attestation alias (urn:pa-advisor:Questionnaire:pa-attestation) may answer: criteria only a
# document or the prescriber can decide, counts of prior lines, lab values with no standard code.

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    record: PatientRecord
    order: Mapping[str, Any]
    anchor: date
    drug: CodeSet
    # Questionnaire keys (record.questionnaire_key) whose answers decide criteria: the policy's own DTR
    # questionnaire, and the older attestation alias (which answers only the kinds registered with alias=True).
    questionnaires: tuple[str, ...]
    # medicaid / medicare / commercial / marketplace, from the Coverage that routed the order (None if unknown).
    line_of_business: str | None = None
    # The user signing the order (context.userId): the prescriber when the order names none.
    signing_user: str | None = None
    # The day of the call (the anchor is the order's date, which may lie before it).
    today: date | None = None
    # A DTR answer decides only when authored at most this many days before the order date (and not later than
    # the call), by a Practitioner or PractitionerRole, and not auto-populated.
    answer_window_days: int = 90
    # The EHR's FHIR server of the call: an attached report counts only with its data or a URL there.
    fhir_server: str | None = None
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """A value computed once per evaluation (e.g. a dated series several criteria read)."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: T = self._memo[key]
        return found

    @property
    def order_ref(self) -> str:
        return ref_of(self.order)

    def matching(self, codes: CodeSet) -> list[tuple[Exposure, str]]:
        """Every exposure (given or not) whose drug is in codes, with the code or name that matched."""

        def compute() -> list[tuple[Exposure, str]]:
            found = []
            for exp in self.record.exposures:
                match = codes.match_keys(exp.keys, exp.text)
                if match:
                    # The value set's own name for the drug (an ingredient) reads better than a product string.
                    found.append((exp, codes.name_of(match)))
            return found

        return self.record.memo(("matching", id(codes)), compute)

    def draft_orders_matching(self, codes: CodeSet) -> list[tuple[dict[str, Any], tuple[Any, ...], str]]:
        """(order, its drug concepts, matched name) for every draft order of the call whose drug is in codes."""

        def compute() -> list[tuple[dict[str, Any], tuple[Any, ...], str]]:
            found = []
            for order in self.record.draft_orders:
                concepts = self.record.medication_concepts(order) + (order.get("code"),)
                if m := codes.match(concepts):
                    found.append((order, concepts, codes.name_of(m)))
            return found

        return self.record.memo(("draft orders matching", id(codes)), compute)

    def received(self, codes: CodeSet, *, before_anchor: bool = True) -> list[tuple[Exposure, str]]:
        """Exposures that were actually given, matching codes, each with the code or name that matched."""
        return [(exp, label) for exp, label in self.matching(codes)
                if exp.received and not (before_anchor and exp.start and exp.start > self.anchor)]

    def answer(self, link_id: str, within_days: int | None = None, alias: bool = False) -> Answer | None:
        """The newest answer (by its real instant) for this criterion in any of the questionnaires that decide
        it, among those that may decide: see `trusted`. `within_days` narrows the window (a lab's look-back).
        The older attestation alias (a key that is no `Questionnaire/<id>` of ours) answers only its own items:
        attestations, reported counts and lab values (`alias`: their kinds say so), never a criterion of another
        kind of any policy that shares its id."""
        keys = [k for k in self.questionnaires if alias or k.startswith("Questionnaire/")]
        found = [a for key in keys for a in self.record.attestations.get(key, {}).get(link_id, ())
                 if self.trusted(a, within_days)]
        return max(found, key=lambda a: a.when or datetime.min.replace(tzinfo=UTC), default=None)

    def trusted(self, a: Answer, within_days: int | None = None) -> bool:
        """Authored by a Practitioner or PractitionerRole (a patient's, a relative's or an author-less response
        never decides), entered by a person (not auto-populated), dated (a parseable dateTime, not after the
        call) within the window before the order date; an attached report only with its data or a URL on the
        EHR's FHIR server."""
        if a.author_type not in ("Practitioner", "PractitionerRole") or a.auto or a.when is None:
            return False
        day = a.when.date()
        if day > (self.today or self.anchor) or day < self.anchor - timedelta(days=self.answer_window_days):
            return False
        if within_days is not None and day < self.anchor - timedelta(days=within_days):
            return False
        if isinstance(a.value, dict) and not a.value.get("data"):
            return _on_server(str(a.value.get("url")), self.fhir_server)
        return True

    def _who(self, a: Answer) -> str:
        """Who answered, in words: the order's prescriber or the signing user, or another practitioner."""
        requester = self.order.get("requester")
        prescriber = requester.get("reference") if isinstance(requester, dict) else None
        mine = {str(prescriber or ""), str(self.signing_user or "")}
        return "the prescriber" if a.author in mine else "another practitioner"

    def attestation(self, link_id: str, alias: bool = False) -> Result | None:
        """A DTR answer for this criterion, if the record holds one that may decide: yes → met, no → not-met; an
        attached report → met (the report is provided; its reading is the reviewer's)."""
        answer = self.answer(link_id, alias=alias)
        if answer is None:
            return None
        who = self._who(answer)
        if isinstance(answer.value, bool):
            status = Status.MET if answer.value else Status.NOT_MET
            text = f"attested: {'yes' if answer.value else 'no'} (by {who})"
            return Result(status, (Evidence(answer.reference, text, answer.authored),))
        if isinstance(answer.value, dict):
            title = str(answer.value.get("title") or "untitled")[:80]
            return Result(Status.MET, (Evidence(answer.reference, f"report attached by {who}: {title}",
                                                answer.authored),))
        return None

    def attested_value(self, link_id: str, within_days: int | None = None,
                       alias: bool = False) -> tuple[Any, Evidence] | None:
        answer = self.answer(link_id, within_days, alias)
        if answer is None:
            return None
        return answer.value, Evidence(answer.reference, f"attested: {answer.value} (by {self._who(answer)})",
                                      answer.authored)


def _on_server(url: str, fhir_server: str | None) -> bool:
    """A relative `Binary/…` or `DocumentReference/…`, or an absolute URL under the EHR's FHIR server."""
    if url.count("/") == 1 and url.split("/")[0] in ("Binary", "DocumentReference"):
        return True
    return bool(fhir_server) and url.startswith(str(fhir_server).rstrip("/") + "/") and "/../" not in url


def missing(note: str, evidence: Iterable[Evidence] = ()) -> Result:
    return Result(Status.MISSING, tuple(evidence), note)


def unavailable_note(record: PatientRecord, *types: str) -> str | None:
    """Why a needed resource type is not in the record, if it is not."""
    for rtype in types:
        if rtype in record.unavailable:
            return f"{rtype} could not be read: {record.unavailable[rtype]}"
        if not record.has(rtype):
            return f"{rtype} was not provided"
    return None
