"""The words of an evaluation, said once for every edge: the public extension's stable `missingDocumentation` and
`denialReasons`, the card's steps and summary, `explain`. The engine gives data (policy/model.py); only here does
it become sentences. Plain text: each edge escapes it for its own format."""

from __future__ import annotations

from cdshooks.policy.model import Choice, CriterionResult, Need, Requirement

SHOWN_MAX = 120  # what the record shows about an item, in the item's words


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary (never mid-word) with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def cited(source: str | None, text: str) -> str:
    return f"{source}: {text}" if source else text


def need(item: Need, shown: bool = True) -> str:
    """"I.A.7: Document …" and, with `shown`, what the record already shows (a stale lab, the history to judge)."""
    c = item.criterion
    text = cited(c.source, c.request or c.text)
    evidence = item.shown
    return f"{text} (the record shows: {shorten(evidence.text, SHOWN_MAX)})" if shown and evidence else text


def option(items: tuple[Requirement, ...], shown: bool = True) -> str:
    """The items of one alternative, all needed: "A and B", a nested choice in parentheses."""
    parts = [requirement(x, shown) for x in items]
    return " and ".join(f"({t})" if is_choice(x) else t for x, t in zip(items, parts, strict=True))


def is_choice(item: Requirement) -> bool:
    """Alternatives to pick from (a one-option Choice is a set of items that count together)."""
    return isinstance(item, Choice) and len(item.options) > 1


def requirement(item: Requirement, shown: bool = True) -> str:
    """One item of the missing documentation: a need, "A and B", or "one of: A; or B and C"."""
    if isinstance(item, Need):
        return need(item, shown)
    options = [option(o, shown) for o in item.options]
    return options[0] if len(options) == 1 else "one of: " + "; or ".join(options)


def first(item: Requirement) -> str:
    """The first thing to do, uncited and without what the record shows: for a summary line."""
    if isinstance(item, Need):
        return item.criterion.request or item.criterion.text
    text = option(item.options[0], shown=False)
    head, sep, rest = text.partition(": ")
    text = rest if sep and " " not in head else text
    return text + (" (or an alternative)" if is_choice(item) else "")


def why(r: CriterionResult) -> str:
    """Why a decisive criterion is not met: the engine's note, else what the evidence says."""
    return r.note or "; ".join(e.text for e in r.evidence[:2]) or "not met"


def denial(r: CriterionResult) -> str:
    """"I.A.1: <criterion> — <why>"."""
    return f"{cited(r.criterion.source, r.criterion.text)} — {why(r)}"


def ambiguity(r: CriterionResult) -> str:
    return f"{r.criterion.source}: {r.criterion.ambiguity}"
