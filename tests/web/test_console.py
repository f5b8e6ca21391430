"""The tester's console in a real browser: Debian's Chromium driven by Playwright, against the service on a real
loopback HTTP server. Screenshots go to build/console-screenshots/ (PA_SCREENSHOTS to change it)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import SCENARIOS
from loopback import serve_app

from cdshooks.settings import Settings
from cdshooks.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("PA_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build" / "console-screenshots"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
XSS = '<img src=x onerror="window.__xss=1">'


def _browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip("playwright not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian's chromium not installed (apt-get install chromium); CI runs these tests")
    return sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(Settings(dev_mode=True, store_url=f"sqlite:///{tmp_path_factory.mktemp('console')}/s.db"))
    # The fixtures' orders are dated 2026-11-20; the browser dates its answers with the real clock, and an answer
    # dated after the call is ignored (issue #23): the call happens today, never before the order.
    app.extensions["pa"].hooks.today = lambda: max(date.today(), date(2026, 11, 20))
    with serve_app(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # No external network at run time: any request off loopback fails the test.
    off_host: list[str] = []
    pg.route("**/*", lambda route: (off_host.append(route.request.url), route.abort())
             if not route.request.url.startswith("http://127.0.0.1:") else route.continue_())
    yield pg
    context.close()
    assert not errors, errors
    assert not off_host, off_host


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def outcome_line(pg) -> str:
    pg.wait_for_selector("#criteria p", timeout=15000)
    return pg.inner_text("#criteria p")


@pytest.mark.parametrize("key", ["elx-approve", "ide-approve", "blin-approve", "lem-age17"])
def test_signing_a_fixture_shows_the_manifest_outcome(server, page, key):
    page.goto(f"{server}/console?patient={SCENARIOS[key]['patientId']}&sign=1")
    expected = SCENARIOS[key]["expected"]["outcome"]
    assert f"outcome: {expected}" in outcome_line(page)
    card = page.locator("article.card").first
    assert card.locator("h3").inner_text().strip()
    colour = "info" if expected == "likely-approved" else "warning"
    assert colour in card.get_attribute("class")
    assert "Coverage information" in page.inner_text("#coverage")
    assert page.locator("#criteria tbody tr").count() >= 5
    assert json.loads(page.text_content("#raw-request"))["hook"] == "order-sign"
    assert json.loads(page.text_content("#raw-response"))["cards"]
    shot(page, f"sign-{key}")


def test_completing_the_questionnaire_changes_the_outcome(server, page):
    page.goto(f"{server}/console?patient={SCENARIOS['elx-nospec']['patientId']}&sign=1")
    assert "outcome: documentation-needed" in outcome_line(page)
    page.click("#complete-doc")
    page.wait_for_selector("#q-prescriber")
    # Pre-answered from the record, with the evidence shown; the missing item is empty.
    assert page.input_value("#q-age") == "true"
    assert page.input_value("#q-prescriber") == ""
    assert "From the record" in page.inner_text("#dtr-form")
    shot(page, "questionnaire")
    page.select_option("#q-prescriber", "true")
    page.click("#dtr-form button[type=submit]")
    page.wait_for_selector("#before-after:not([hidden])")
    assert "documentation-needed → after: likely-approved" in page.inner_text("#before-after")
    assert "outcome: likely-approved" in outcome_line(page)
    shot(page, "after-questionnaire")


def test_enable_when_hides_the_continued_group_until_chosen(server, page):
    page.goto(f"{server}/console?patient={SCENARIOS['elx-nospec']['patientId']}&sign=1")
    outcome_line(page)
    page.click("#complete-doc")
    page.wait_for_selector("#q-prescriber")
    assert page.is_hidden('[data-link="continued"]') and page.is_visible('[data-link="initial"]')
    page.select_option("#q-pa-pathway", label="Continued therapy (re-authorization)")
    assert page.is_visible('[data-link="continued"]') and page.is_hidden('[data-link="initial"]')


def test_a_hostile_drug_text_stays_inert(server, page):
    def hostile(route):
        resp = route.fetch()
        body = resp.json()
        order = body["request"]["context"]["draftOrders"]["entry"][0]["resource"]
        order["medicationCodeableConcept"]["text"] = XSS
        for coding in order["medicationCodeableConcept"]["coding"]:
            coding["display"] = XSS
        patient = body["request"]["prefetch"]["patient"]
        patient["name"] = [{"text": XSS}]
        route.fulfill(response=resp, body=json.dumps(body))

    page.route("**/console/request.json*", hostile)
    page.goto(f"{server}/console?patient={SCENARIOS['elx-approve']['patientId']}&sign=1")
    outcome_line(page)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#cards img, #criteria img, #coverage img").count() == 0
    assert "<img src=x onerror=" in page.text_content("#raw-request")  # shown as text
    assert "<img src=x onerror=" in page.inner_text("#cards")  # the card's "Order: …" line, as text
    shot(page, "xss-probe")


def test_keyboard_only_search_select_and_sign(server, page):
    page.goto(f"{server}/console")
    page.wait_for_selector("#patients tbody tr")
    page.focus("#search")
    page.keyboard.type("Ide Approve")
    assert page.locator("#patients tbody tr").count() == 1
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#orders button")
    page.focus("#orders button")
    page.keyboard.press("Enter")
    assert "outcome: likely-approved" in outcome_line(page)


def test_the_console_is_off_in_trust_mode(tmp_path):
    (tmp_path / "trust.yaml").write_text("- iss: https://ehr.example.org\n  jku: https://ehr.example.org/jwks\n")
    app = create_app(Settings(trust_file=str(tmp_path / "trust.yaml"), public_url="https://pa.example.org",
                              store_url=f"sqlite:///{tmp_path}/s.db"))
    assert app.test_client().get("/console").status_code in (401, 404)
    assert "console.page" not in app.view_functions


def test_console_endpoints_answer_bad_input_clearly(client):
    assert client.get("/console/request.json?patient=nobody").status_code == 404
    assert client.get("/console/request.json?patient=elx-approve&hook=nope").status_code == 400
    assert client.get("/console/request.json?patient=elx-approve&order=x").status_code == 400
    assert client.post("/console/markdown", json={"markdown": 3}).status_code == 400
    html = client.post("/console/markdown", json={"markdown": f"{XSS} [x](javascript:alert(1))"}).json["html"]
    assert "<img" not in html and "javascript:" not in html.split("[x]")[0] and "href" not in html


def test_server_mode_reads_the_fhir_server_and_saves_the_answers_there(server, page, fhir_server):
    import requests
    from conftest import FHIR_TOKEN

    key = "elx-nospec"
    page.goto(f"{server}/console")
    page.click("#tab-server")
    page.fill("#fhir-base", fhir_server)
    page.fill("#fhir-token", FHIR_TOKEN)
    page.fill("#fhir-patient", SCENARIOS[key]["patientId"])
    page.fill("#fhir-user", SCENARIOS[key]["userId"])
    page.select_option("#fhir-drug", label=next(o for o in page.locator("#fhir-drug option").all_inner_texts()
                                                if "LA.PHAR.652" in o))
    page.click("#server button[type=submit]")
    page.click("#orders button")
    assert "LA.PHAR.652 — initial criteria" in outcome_line(page)
    request = json.loads(page.text_content("#raw-request"))
    assert request["fhirServer"] == fhir_server and "prefetch" not in request  # read from the server itself
    rows = {r.locator("td").nth(1).inner_text(): r.locator("td").nth(2).inner_text()
            for r in page.locator("#criteria tbody tr").all()}
    assert rows["Diagnosis of MM"] == "met"  # the Condition came from the FHIR server
    assert rows["Prescribed by or in consultation with an oncologist or hematologist"] == "missing"
    page.click("#complete-doc")
    page.wait_for_selector("#q-prescriber")
    page.select_option("#q-prescriber", "true")
    page.click("#dtr-form button[type=submit]")
    page.wait_for_selector("#before-after:not([hidden])")
    headers = {"Authorization": f"Bearer {FHIR_TOKEN}"}
    saved = [e["resource"] for e in requests.get(f"{fhir_server}/QuestionnaireResponse", headers=headers,
                                                 params={"_count": 500}, timeout=10).json().get("entry", [])
             if e["resource"].get("questionnaire", "").endswith("/fhir/Questionnaire/la-phar-652")]
    try:
        assert len(saved) == 1 and saved[0]["subject"]["reference"] == f"Patient/{SCENARIOS[key]['patientId']}"
        rows = {r.locator("td").nth(1).inner_text(): r.locator("td").nth(2).inner_text()
                for r in page.locator("#criteria tbody tr").all()}
        assert rows["Prescribed by or in consultation with an oncologist or hematologist"] == "met"
        shot(page, "server-mode")
    finally:  # the FHIR server is shared by the session: remove what this test wrote
        for qr in saved:
            requests.delete(f"{fhir_server}/QuestionnaireResponse/{qr['id']}", headers=headers, timeout=10)


def test_the_card_launches_the_documentation_from_its_smart_link(server, page):
    """The card's "Complete the documentation" link opens the form its appContext names, pre-filled."""
    page.goto(f"{server}/console?patient={SCENARIOS['elx-nospec']['patientId']}&sign=1")
    assert "outcome: documentation-needed" in outcome_line(page)
    page.click("article.card button.launch")
    page.wait_for_selector("#q-prescriber")
    assert page.input_value("#q-age") == "true" and page.input_value("#q-prescriber") == ""
    page.select_option("#q-prescriber", "true")
    page.click("#dtr-form button[type=submit]")
    page.wait_for_selector("#before-after:not([hidden])")
    assert "outcome: likely-approved" in outcome_line(page)


def test_accepting_the_dose_suggestion_signs_the_changed_order_again(server, page):
    page.goto(f"{server}/console?patient={SCENARIOS['lem-13mg']['patientId']}&sign=1")
    assert "outcome: likely-denied" in outcome_line(page)
    item = page.locator("ul.suggestions li", has_text="Use the dose the policy allows")
    assert "12 mg" in item.inner_text()
    shot(page, "suggestions")
    item.locator("button.accept").click()
    page.wait_for_selector("#before-after:not([hidden])")
    assert "likely-denied → after: likely-approved" in page.inner_text("#before-after")
    signed = json.loads(page.text_content("#raw-request"))
    dose = signed["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0]
    assert dose["doseAndRate"][0]["doseQuantity"]["value"] == 12


def test_accepting_a_lab_order_keeps_it_as_the_ehr_would(server, page):
    page.goto(f"{server}/console?patient={SCENARIOS['elx-mp049']['patientId']}&sign=1")
    outcome_line(page)
    page.locator("ul.suggestions li", has_text="Order").first.locator("button.accept").click()
    page.wait_for_selector("#created:not([hidden])")
    assert "ServiceRequest" in page.inner_text("#created")
