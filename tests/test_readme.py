"""The README stays true to the code: every command's flags and every PA_* variable are in its table, and its
links (and the docs') resolve in a clone."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from cdshooks.cli.commands import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TABLE = README[README.index("## Command line and settings"):README.index("## Try it against a FHIR sandbox")]


def _commands(cmd: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    if isinstance(cmd, click.Group):
        return [c for name, sub in sorted(cmd.commands.items()) for c in _commands(sub, (*path, name))]
    return [(path, cmd)]


FLAGS = [(" ".join(path), flag) for path, cmd in _commands(main) for p in cmd.params if isinstance(p, click.Option)
         for flag in p.opts if flag.startswith("--")]


def _rows_by_command() -> dict[str, str]:
    """The table's rows grouped under the command cell that starts them (a row with an empty first cell
    continues the command above)."""
    groups: dict[str, str] = {}
    current = ""
    for line in TABLE.splitlines():
        if not line.startswith("| ") or line.startswith("| command"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        current = cells[0] or current
        groups[current] = groups.get(current, "") + line + "\n"
    return groups


@pytest.mark.parametrize("command, flag", FLAGS)
def test_every_flag_of_every_command_is_in_its_row(command, flag):
    rows = [text for cell, text in _rows_by_command().items() if command in cell]
    assert rows, f"the README's table has no row for `{command}`"
    assert any(f"`{flag}" in text for text in rows), f"`{command} {flag}` is missing from its rows in the README"


def test_every_setting_the_code_reads_is_in_the_table():
    code = "\n".join(p.read_text(encoding="utf-8") for p in [*ROOT.glob("cdshooks/**/*.py"),
                                                             ROOT / "deploy" / "gunicorn.conf.py"])
    for name in sorted(set(re.findall(r"\"(PA_[A-Z_]+)\"", code))):
        assert f"`{name}`" in TABLE, f"{name} is read by the code but not in the README's table"


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("doc", ["README.md", "docs/adding-a-policy.md", "docs/kinds.md", "bench/README.md"])
def test_links_resolve_in_a_clone(doc):
    path = ROOT / doc
    text = path.read_text(encoding="utf-8")
    anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        if file_part:
            assert (path.parent / file_part).exists(), f"{doc}: link to {target} does not resolve"
        elif anchor:
            assert anchor in anchors, f"{doc}: anchor #{anchor} has no heading"
