"""Code sets compiled from the value-set files, and matching of FHIR codings and text against them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cdshooks.fhir.codes import codings_of, normalize_code, normalize_system, text_of


@dataclass(frozen=True)
class Match:
    system: str
    code: str
    display: str
    by_text: bool = False


@dataclass(frozen=True)
class CodeSet:
    """A compiled value set: exact (system, code) pairs, code prefixes per system, and drug names for text."""

    id: str
    codes: frozenset[tuple[str, str]]
    prefixes: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()
    displays: Mapping[tuple[str, str], str] | None = None
    title: str = ""

    def match_coding(self, coding: Mapping[str, Any]) -> Match | None:
        system = normalize_system(coding.get("system"))
        code = coding.get("code")
        if not isinstance(code, str) or not system:
            return None
        code = normalize_code(system, code)
        shown = coding.get("display")
        display = shown if isinstance(shown, str) else code
        return Match(system, code, display) if self._contains(system, code) else None

    def name_of(self, match: Match) -> str:
        """The value set's own name for a matched code (an ingredient), else what the record called it."""
        return (self.displays or {}).get((match.system, match.code), match.display)

    def _contains(self, system: str, code: str) -> bool:
        """A normalised (system, code) is in the set, exactly or under one of its prefixes."""
        return (system, code) in self.codes or any(system == s and code.startswith(p) for s, p in self.prefixes)

    @cached_property
    def _names_re(self) -> re.Pattern[str] | None:
        """All names as one compiled alternation (longest first), matched on word boundaries."""
        if not self.names:
            return None
        names = sorted(set(self.names), key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")

    def match_text(self, text: str) -> str | None:
        pattern = self._names_re
        found = pattern.search(text.lower()) if pattern and text else None
        return found.group(0) if found else None

    def match_keys(self, keys: Iterable[tuple[str, str, str]], text: str) -> Match | None:
        """Fast path over pre-normalised (system, code, display) triples and lower-cased text (see Exposure)."""
        for system, code, display in keys:
            if self._contains(system, code):
                return Match(system, code, display)
        name = self.match_text(text)
        return Match("text", name, name, by_text=True) if name else None

    def match(self, concepts: Iterable[Any], *, use_text: bool = True) -> Match | None:
        """First match over the codings of several concepts; text names only when no coding matched."""
        concepts = list(concepts)
        for concept in concepts:
            for coding in codings_of(concept):
                found = self.match_coding(coding)
                if found:
                    return found
        if use_text and self.names:
            for concept in concepts:
                name = self.match_text(text_of(concept))
                if name:
                    return Match("text", name, name, by_text=True)
        return None

    def union(self, other: CodeSet, new_id: str) -> CodeSet:
        return CodeSet(
            new_id,
            self.codes | other.codes,
            self.prefixes + other.prefixes,
            self.names + other.names,
            {**(self.displays or {}), **(other.displays or {})},
            " + ".join(t for t in (self.title, other.title) if t),
        )

    def minus(self, other: CodeSet, new_id: str) -> CodeSet:
        return CodeSet(
            new_id,
            self.codes - other.codes,
            tuple(p for p in self.prefixes if p not in other.prefixes),
            tuple(n for n in self.names if n not in other.names),
            self.displays,
            self.title,
        )


EMPTY = CodeSet("empty", frozenset())
