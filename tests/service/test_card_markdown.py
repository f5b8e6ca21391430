"""Record and request text is literal in a card (issue #24): a payer name, an order's display or a condition's
display carrying a phishing link, a remote image or HTML renders as that text in CommonMark, never as a link,
an image or markup; the console allows no remote loads (CSP)."""

from __future__ import annotations

from conftest import scenario_request
from markdown_it import MarkdownIt

SIGN = "/cds-services/pa-order-sign"
LINK = "[Re-verify your NPI](https://phish.example/login)"
IMAGE = "![pixel](https://tracker.example/p.gif)"
HTML = "<img src=https://tracker.example/x.gif onerror=alert(1)>"
HOSTILE = f"{HTML} {LINK} {IMAGE} *urgent* `code` <https://auto.example>"
MD = MarkdownIt("commonmark")


def hostile_card(client, library, key: str = "elx-nospec") -> dict:
    body = scenario_request(key, library)
    for entry in body["prefetch"]["coverage"]["entry"]:
        for payor in entry["resource"]["payor"]:
            payor["display"] = f"Louisiana Healthcare Connections {HOSTILE}"
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"]["coding"][0]["display"] = f"Elrexfio {HOSTILE}"
    for entry in body["prefetch"]["conditions"]["entry"]:
        for coding in entry["resource"]["code"].get("coding", []):
            coding["display"] = f"{coding.get('display', '')} {HOSTILE}"
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.json
    return response.json["cards"][0]


def test_record_text_never_becomes_a_link_an_image_or_html_in_the_detail(client, library):
    card = hostile_card(client, library)
    html = MD.render(card["detail"])
    assert "<a " not in html and "<img" not in html and "<em>urgent" not in html and "<code>" not in html, html
    assert "&lt;img src=https://tracker" in html, "the text is still there, its HTML shown as characters"


def test_the_summary_is_plain_text_without_markup_characters(client, library):
    card = hostile_card(client, library, "ide-cns")  # denied on a coded condition: its display is in the summary
    assert not set("[]<>!*`") & set(card["summary"]), card["summary"]


def test_the_card_source_label_is_plain_text(client, library):
    label = hostile_card(client, library)["source"]["label"]
    assert label.startswith("Louisiana Healthcare Connections") and len(label) <= 100


def test_the_console_sends_a_content_security_policy(client):
    for path in ("/console", "/console/static/console.js"):
        csp = client.get(path).headers.get("Content-Security-Policy", "")
        assert "img-src 'self'" in csp and "default-src 'self'" in csp and "script-src 'self'" in csp, path
