"""`lint --source POLICY.txt`: the policy's outline against the items of its text, so a criterion deleted
together with its outline item, or an item never mapped, shows up. The text is read at lint time only."""

from __future__ import annotations

from collections.abc import Sequence

from cdshooks.authoring.policy_text import TextItem
from cdshooks.policy.model import Policy


def compare(policy: Policy, text_items: Sequence[TextItem], source: str) -> tuple[list[str], list[str]]:
    """(problems, notes). A problem: a text item with no outline entry. A heading item (I., I.A.) counts as
    covered when an item under it is in the outline. A note: an outline entry the text does not have (an
    author's note such as `I.A.8-note` is never looked for)."""
    outline = set(policy.outline)
    ids = {policy.text_numbering.get(item.id, item.id) for item in text_items}
    problems = [
        f"{source}:{item.line}: item {item.id} has no outline entry in {policy.file}: {_short(item.words)}"
        for item in text_items
        if not _covered(policy.text_numbering.get(item.id, item.id), outline)
    ]
    notes = [f"{policy.file}: outline item {entry} is not an item of {source}"
             for entry in policy.outline if "-" not in entry and entry not in ids]
    return problems, notes


def _covered(item_id: str, outline: set[str]) -> bool:
    return item_id in outline or any(entry.startswith(f"{item_id}.") for entry in outline)


def _short(words: str) -> str:
    return words if len(words) <= 90 else words[:87] + "…"


def policy_for(policies: Sequence[Policy], text: str, wanted: str | None) -> Policy:
    """The policy named by --policy, else the one whose id the text quotes (its reference number)."""
    if wanted:
        found = [p for p in policies if p.id == wanted]
        if not found:
            raise ValueError(f"no policy {wanted!r} in the mappings (have: {', '.join(p.id for p in policies)})")
        return found[0]
    quoted = [p for p in policies if p.id in text]
    if len(quoted) != 1:
        raise ValueError("say which policy the text is with --policy ID (the text quotes "
                         f"{'none' if not quoted else 'several'} of: {', '.join(p.id for p in policies)})")
    return quoted[0]
