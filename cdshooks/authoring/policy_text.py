"""The numbered and bulleted items of a payer's policy text, with the outline id each gets (I.A.4.a.i).

Policy texts arrive as copied web pages or converted PDFs: markdown marks, struck-through edits, two items
run together on one line, bullets in front of labels. Labels are read as an outline (I. > A. > 1. > a. > i.):
a label continuing the sequence of an open level belongs to that level, a first label (I, A, 1, a, i) opens
a level under the current item. Unlabelled bullets are numbered within their parent, or within the heading
above them ("Coverage Criteria.2"); a top-level label used a second time takes the first word of its heading
("Limits.A"). Sections that hold no criteria (definitions, background, appendices, references…) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Headings of sections that hold no criteria.
SKIP = re.compile(r"appendi|reference|background|revision log|coding implications|dosage and administration|"
                  r"product availability|additional information|important reminder|definitions|description|"
                  r"approved indication|other uses|applicable codes|summary", re.I)
_LABEL = re.compile(r"^\(?([IVXLC]{1,6}|[A-Z]|[0-9]{1,2}|[a-z]|[ivxlc]{1,6})[.)]\s+(.*)$")
_BULLET = re.compile(r"^(\s*)([-•*◦▪●○]|\u2022)\s+(.*)$")
_RUN_ON = re.compile(r"\*\*(?=(?:[IVX]{1,4}|[A-Z]|[0-9]{1,2})\.\s)")  # "Criteria**A. Multiple…": two items
CONNECTORS = {"AND", "OR", "AND/OR"}
_TRAILING = re.compile(r"[\s;,]*\b(AND|OR)\b[\s;,]*$|[\s;]+$")  # "…of MM; AND": the joint, not the words
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


@dataclass(frozen=True)
class TextItem:
    id: str
    words: str
    line: int


def _roman_value(s: str) -> int | None:
    total, prev = 0, 0
    for ch in reversed(s.lower()):
        v = _ROMAN.get(ch)
        if v is None:
            return None
        total, prev = (total - v, prev) if v < prev else (total + v, v)
    return total if _to_roman(total) == s.lower() else None


def _to_roman(n: int) -> str:
    out = ""
    for value, glyph in ((100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"),
                         (1, "i")):
        while n >= value:
            out, n = out + glyph, n - value
    return out


def _styles(label: str) -> list[str]:
    """The outline styles a label may be: R/r roman, A/a letter, N number."""
    if label.isdigit():
        return ["N"]
    roman = _roman_value(label) is not None
    if label.isupper():
        return (["R"] if roman else []) + (["A"] if len(label) == 1 else [])
    return (["r"] if roman else []) + (["a"] if len(label) == 1 else [])


def _next(style: str, label: str) -> str:
    if style == "N":
        return str(int(label) + 1)
    if style in "Rr":
        nxt = _to_roman((_roman_value(label) or 0) + 1)
        return nxt.upper() if style == "R" else nxt
    return chr(ord(label) + 1)


def _rank(style: str, label: str) -> int:
    if style == "N":
        return int(label)
    if style in "Rr":
        return _roman_value(label) or 0
    return ord(label.lower()) - ord("a") + 1


_FIRST = {"N": "1", "R": "I", "A": "A", "a": "a", "r": "i"}


@dataclass
class _Level:
    style: str  # R A N a r, or "b<indent>" for bullets
    label: str
    id: str
    indent: int = 0


def _clean(text: str) -> str:
    text = re.sub(r"~~.*?~~", "", text)  # struck-through: deleted from the policy
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\\([*_\[\]()#-])", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\$\\geq\$|\\geq", "≥", text)
    text = re.sub(r"\$\\leq\$|\\leq", "≤", text)
    text = text.replace("**", "").replace("$", "")
    return " ".join(text.split())


def _heading(raw: str, text: str) -> int:
    """2: a line that surely names a section (a markdown heading, a bold line, a short line ending in a colon);
    1: a short title-like line with no colon or closing punctuation, which may; 0: not a heading."""
    if not text or "|" in raw or "\t" in raw or text.upper() in CONNECTORS:
        return 0
    line = raw.strip()
    if line.startswith("#") or (text.endswith(":") and len(text) <= 60) or (
            line.startswith("**") and line.endswith("**") and len(text) <= 80):
        return 2
    return int(len(text) <= 60 and text[0].isupper() and text[-1] not in ".;,)" and len(text.split()) <= 8
               and ":" not in text)  # "Approval duration: 12 months" states a fact


class _Reader:
    def __init__(self) -> None:
        self.stack: list[_Level] = []
        self.section = ""
        self.skipping = False
        self.after_heading = False  # a heading since the last item: a first label starts a new list there
        self.titled = False  # the section was named and nothing followed yet: a second heading is its subtitle
        self.seen: set[str] = set()  # every id given so far
        self.out: list[TextItem] = []

    def line(self, raw: str, number: int) -> None:
        bullet = _BULLET.match(raw)
        body = _clean((bullet.group(3) if bullet else raw).lstrip().lstrip("#"))
        label = _LABEL.match(body)
        if label:
            self.stack[:] = [lv for lv in self.stack if not lv.style.startswith("b")]
            indent = len(bullet.group(1)) if bullet else len(raw) - len(raw.lstrip())
            item_id = self._place_label(label.group(1), indent)
            if item_id is None:
                return
            words = label.group(2).strip()
            if self.stack[0].id == item_id or (SKIP.search(words) and _heading("", words)):
                self.skipping = bool(SKIP.search(words))  # a section label: "IV. Appendices"
        elif bullet and re.search(r"[A-Za-z]", body) and "|" not in body:
            item_id, words = self._place_bullet(len(bullet.group(1))), body
        else:
            # Headings only name sections: page headers and "Approval duration:" sit inside numbered lists.
            # Skipping ends at a criteria label (above) or a "Section:" heading, never at a page header.
            if _heading(raw, body) and (not self.skipping or body.endswith(":")):
                self.skipping = bool(SKIP.search(body))
                self.stack[:] = [lv for lv in self.stack if not lv.style.startswith("b")]
                self.after_heading = True
                if not self.skipping and not self.titled:
                    self.section, self.titled = body.rstrip(":").strip(), True
            elif body:
                self.titled = False
            return
        self.after_heading = self.titled = False
        self.seen.add(item_id)
        words = _TRAILING.sub("", words)
        if words and not self.skipping:
            self.out.append(TextItem(item_id, words, number))

    def _place_label(self, label: str, indent: int) -> str | None:
        stack, styles = self.stack, _styles(label)
        if not styles:
            return None
        # Continues an open level's sequence: the innermost such level, unless the line sits further left.
        matches = [d for d in range(len(stack) - 1, -1, -1)
                   if stack[d].style in styles and _next(stack[d].style, stack[d].label) == label]
        if not matches and not any(_FIRST[s] == label for s in styles):  # a gap in the numbering (II, then IV)
            matches = [d for d in range(len(stack) - 1, -1, -1)
                       if stack[d].style in styles and _rank(stack[d].style, label) > _rank(stack[d].style,
                                                                                            stack[d].label)]
        if matches:
            depth = min(matches, key=lambda d: (stack[d].indent > indent, -d))
            level = stack[depth]
            del stack[depth + 1:]
            parent = stack[depth - 1].id if depth else ""
            level.label, level.id = label, f"{parent}.{label}" if parent else label
            return level.id
        style = next((s for s in styles if _FIRST[s] == label), styles[0])
        for depth, level in enumerate(stack):  # after a heading, a list of an open style starts again there
            if level.style == style and (self.after_heading or depth == len(stack) - 1):
                del stack[depth:]
                break
        parent = stack[-1].id if stack else ""
        item_id = f"{parent}.{label}" if parent else label
        if item_id in self.seen and self.section:  # a list starting again under a new heading: "Limits.A"
            stack.clear()
            item_id = f"{self.section.split()[0]}.{label}"
        stack.append(_Level(style, label, item_id, indent))
        return item_id

    def _place_bullet(self, indent: int) -> str:
        stack, style = self.stack, f"b{indent}"
        for depth, level in enumerate(stack):
            if level.style == style:
                del stack[depth + 1:]
                level.label = str(int(level.label) + 1)
                parent = stack[depth - 1].id if depth else self.section
                level.id = f"{parent}.{level.label}" if parent else level.label
                return level.id
        while stack and stack[-1].style.startswith("b") and int(stack[-1].style[1:]) > indent:
            stack.pop()
        parent = stack[-1].id if stack else self.section
        stack.append(_Level(style, "1", f"{parent}.1" if parent else "1"))
        return stack[-1].id


def items(text: str) -> list[TextItem]:
    """Every item of the text's criteria sections, in order, with its outline id and its words."""
    reader = _Reader()
    for number, physical in enumerate(text.splitlines(), start=1):
        for raw in _RUN_ON.split(physical):
            reader.line(raw, number)
    return reader.out
