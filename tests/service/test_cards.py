"""The card a clinician reads, over HTTP: whole next steps (never cut, no alternative dropped), a "Met" line that
means met, no approval on a use the policy does not cover, the review a policy names as a step."""

from __future__ import annotations

import copy
import re

import pytest
from conftest import SCENARIOS, needs_of, scenario_request

from cdshooks.policy.model import Choice, Criterion, CriterionResult, Evidence, Need, Status
from cdshooks.service import cards

SIGN = "/cds-services/pa-order-sign"


def card_of(client, library, key: str, **changes) -> dict:
    body = scenario_request(key, library)
    for order in body["context"]["draftOrders"]["entry"][:1]:
        order["resource"].update(changes)
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.json
    return response.json["cards"][0]


def steps(card: dict) -> list[str]:
    block = card["detail"].split("**Next steps**\n\n", 1)[1].split("\n\n", 1)[0]
    return [re.sub(r"^\d+\. ", "", line) for line in block.split("\n")]


def test_a_step_whose_request_says_what_to_do_reads_once(client, library):
    card = card_of(client, library, "elx-nospec")  # I.A.2's request: "Document that the prescriber is …"
    assert any(re.match(r"[\w.]+: Document ", step) for step in steps(card))
    for step in steps(card):
        assert not re.search(r"Document [\w.]+: Document", step), step
        assert "Document Document" not in step


def test_long_steps_are_whole_and_the_detail_stays_under_the_limit(client, library):
    """Every missing item is a whole step however long the list: the wording gets shorter (what the record
    shows, the met line, the notices), never a step cut mid-word or an alternative dropped."""
    card = card_of(client, library, "blin-mrd009")
    ev = card["extension"]["pa-advisor.evaluation"]
    assert len(card["detail"]) <= cards.DETAIL_MAX
    asked = [f"{n['source']}: {n['request']}" for n in needs_of(ev["missing"])]
    assert len(asked) > 3
    for text in asked:
        assert cards.md(text) in card["detail"], text


def test_steps_fit_2000_characters_by_shorter_wording(monkeypatch, client, library):
    """With the limit lowered, the met line and the record's details go first; no step is lost."""
    monkeypatch.setattr(cards, "DETAIL_MAX", 900)
    card = card_of(client, library, "elx-orderProgressed")
    ev = card["extension"]["pa-advisor.evaluation"]
    assert len(card["detail"]) <= 900
    extra = 1 + any("questionnaire" in s for s in steps(card))  # the DTR step and the submission step
    assert len(steps(card)) == len(ev["missingDocumentation"]) + extra
    assert "**Met:**" not in card["detail"]


def test_the_met_line_lists_an_item_met_by_one_alternative_while_others_stay_open(client, library):
    # Elrexfio I.A.5.a: the serum M-protein meets it; urine and FLC are not in the record (and need not be).
    card = card_of(client, library, "elx-approve")
    met = re.search(r"\*\*Met:\*\* (.*)", card["detail"]).group(1).split(", ")
    assert "I.A.5.a.i" in met
    assert "I.A.2" in met  # rr: coded relapse, while the refractory attestation stays open


def test_the_met_line_never_lists_an_exclusion(client, library):
    card = card_of(client, library, "blin-approve")
    met = re.search(r"\*\*Met:\*\* (.*)", card["detail"]).group(1).split(", ")
    assert "D.i" not in met and "D.ii" not in met  # "DLBCL is not covered" is no criterion the patient meets


def test_a_use_the_policy_does_not_cover_has_no_approval_duration(client, library):
    card = card_of(client, library, "blin-dlbcl")
    assert card["extension"]["pa-advisor.evaluation"].get("notCovered")
    assert "Approval if granted" not in card["detail"]


def test_an_alternative_lists_everything_it_needs_including_what_it_shares(client, library):
    """POMP maintenance (A.x) still needs the CD19 report that the label pathway needs: the step says so."""
    key = "blin-pomp"
    body = scenario_request(key, library)
    # the same patient without the CD19 attestation
    for entry in body["prefetch"]["attestations"]["entry"]:
        entry["resource"]["item"] = [i for i in entry["resource"]["item"] if i["linkId"] != "cd19-positive"]
    body["prefetch"]["attestations"]["entry"] = [e for e in body["prefetch"]["attestations"]["entry"]
                                                 if e["resource"]["item"]]
    ev = client.post(SIGN, json=body).json["cards"][0]["extension"]["pa-advisor.evaluation"]
    assert ev["outcome"] == "documentation-needed"
    assert any("A.i: Submit the flow-cytometry report" in d for d in ev["missingDocumentation"])


def test_the_pdac_review_is_part_of_the_abecma_submission_step(client, library):
    card = card_of(client, library, "ide-approve")
    assert any("Precision Drug Action Committee (PDAC)" in s and s.startswith("Submit") for s in steps(card))


def _need(source: str, text: str, request: str | None = None, shown: str | None = None) -> Need:
    c = Criterion(id="c", kind="attestation", text=text, source=source, request=request)
    return Need(CriterionResult(c, Status.MISSING, (Evidence("Observation/1", shown),) if shown else ()))


def test_steps_never_end_mid_word():
    assert cards._step_text(_need("I.A.2", "x", "Document that the prescriber is an oncologist")) == \
        "I.A.2: Document that the prescriber is an oncologist"
    assert cards._step_text(_need("I.A.7", "At least 4 prior lines")) == "Document I.A.7: At least 4 prior lines"
    long = " ".join(["word"] * 200)
    assert cards._step_text(_need("I.A.7", long)).endswith("word")


def test_alternatives_read_as_one_step_and_what_the_record_shows_goes_first_when_compact():
    one, two, three = _need("A", "first"), _need("B", "second", shown="a 2025 result"), _need("C", "third")
    choice = Choice(((one,), (two, three)))
    assert cards._step_text(choice) == \
        "Document one of: A: first; or B: second (the record shows: a 2025 result) and C: third"
    assert cards._step_text(choice, compact=True) == "Document one of: A: first; or B: second and C: third"
    # A choice inside an option is bracketed; a single option is its items together.
    assert cards._step_text(Choice(((one, choice),))) == \
        "Document A: first and (one of: A: first; or B: second (the record shows: a 2025 result) and C: third)"


def test_the_manifest_is_not_edited_by_the_card_tests():
    assert SCENARIOS["blin-pomp"]["draftOrders"][0]["id"] == "blin-pomp-order"
    copy.deepcopy(SCENARIOS)  # tests edit copies only


@pytest.mark.parametrize("key, page", [
    ("ide-approve", "https://www.sunshinehealth.com/providers/pharmacy.html"),
    ("lem-approve", "https://ambetter.superiorhealthplan.com/resources/pharmacy-resources/pharmacy-program.html"),
])
def test_abecma_and_lemtrada_cards_link_the_members_plan_policy_page(client, library, key, page):
    card = card_of(client, library, key)
    assert card["links"][0]["url"] == page and card["links"][0]["type"] == "absolute"


def test_a_plan_with_no_known_page_gets_only_the_policys_links(client, library):
    card = card_of(client, library, "elx-approve")  # Louisiana Healthcare Connections: none listed
    assert all("sunshinehealth" not in link["url"] for link in card["links"])
