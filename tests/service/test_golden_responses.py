"""Whole hook responses, compared to reviewed golden files: with the clock and the ids injected (HookService
`today`, `new_id`), a response is deterministic, so any change to a card — its wording, layout, extension or
system action — shows up as a diff to review. One fixture per outcome and per hook.

A deliberate change rewrites them: `python tests/service/test_golden_responses.py --write`, then review the diff."""

from __future__ import annotations

import itertools
import json
import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import scenario_request  # noqa: E402

from cdshooks.policy.loader import load_library  # noqa: E402
from cdshooks.settings import DEFAULT_MAPPINGS, Settings  # noqa: E402
from cdshooks.web.app import create_app  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = [("elx-approve", "order-sign"), ("elx-nospec", "order-sign"), ("lem-age17", "order-sign"),
         ("blin-cd19neg", "order-sign"), ("ide-approve", "order-dispatch"), ("blin-approve", "order-select")]


def response(key: str, hook: str, store: Path) -> dict:
    app = create_app(Settings(dev_mode=True, store_url=f"sqlite:///{store}"))
    service = app.extensions["pa"].hooks
    ids = itertools.count(1)
    service.today = lambda: date(2026, 11, 20)
    service.new_id = lambda: f"00000000-0000-4000-8000-{next(ids):012d}"
    body = scenario_request(key, load_library(DEFAULT_MAPPINGS), hook=hook)
    body["hookInstance"] = "11111111-1111-4111-8111-111111111111"
    r = app.test_client().post(f"/cds-services/pa-{hook}", json=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


@pytest.mark.parametrize("key, hook", CASES, ids=[f"{k}-{h}" for k, h in CASES])
def test_the_whole_response_is_the_reviewed_one(tmp_path, key, hook):
    golden = json.loads((GOLDEN / f"{key}.{hook}.json").read_text(encoding="utf-8"))
    assert response(key, hook, tmp_path / "s.db") == golden


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    for key, hook in CASES:
        with tempfile.TemporaryDirectory() as folder:
            out = response(key, hook, Path(folder) / "s.db")
        (GOLDEN / f"{key}.{hook}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
