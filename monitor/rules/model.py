"""The compiled form of a rule: frozen dataclasses the matcher reads.

    Rule ─ match: MatchNode = Term | Pattern | Group(op, children)
    RuleSet ─ every rule loaded (all statuses) and the vocabularies they used

A :class:`Pattern` carries its regex compiled once, by the loader (see
:func:`monitor.rules.regex.compile_regex`); the matcher uses that one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Union

from monitor.models import Item
from monitor.rules.spec import DerivedFrom


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase. ``words`` are normalised tokens (not yet stemmed)."""

    text: str
    words: tuple[str, ...]
    exact: bool = False
    case: bool = False
    prefix: bool = False
    scope: str = "both"
    vocabulary: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def label(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Pattern:
    """An RE2 regex; ``literal`` is folded text every match contains (for the prefilter);
    ``compiled`` the regex as the loader compiled it (None: the matcher compiles it)."""

    pattern: str
    case: bool = False
    scope: str = "both"
    literal: str | None = None
    vocabulary: str | None = None
    line: int | None = None
    column: int | None = None
    compiled: Any = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        return f"/{self.pattern}/"

    @property
    def label(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Group:
    """``op`` is all, any, none, at_least (``n``), near (``within``) or sentence."""

    op: str
    children: tuple[MatchNode, ...]
    n: int = 0
    within: int = 0
    scope: str = "both"
    vocabulary: str | None = None
    line: int | None = None
    column: int | None = None


MatchNode = Union[Term, Pattern, Group]


@dataclass(frozen=True, slots=True)
class Example:
    """An example inside a rule: an item the rule must (``expect``) or must not fire on."""

    text: str
    title: str = ""
    language: str | None = None
    expect: bool = True
    line: int | None = None
    column: int | None = None

    def item(self) -> Item:
        return Item(
            source="example",
            key=f"example:{self.line}",
            title=self.title,
            text=self.text,
            language=self.language,
        )

    @property
    def preview(self) -> str:
        s = " ".join((self.title + " " + self.text).split())
        return s if len(s) <= 80 else s[:77] + "…"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    name: str
    terms: tuple[MatchNode, ...]
    description: str = ""
    path: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A loaded watch rule: metadata, the compiled ``match`` tree, and where it is written."""

    id: str
    title: str
    match: MatchNode
    description: str = ""
    severity: str = "medium"
    tags: tuple[str, ...] = ()
    status: str = "active"
    owner: str | None = None
    language: tuple[str, ...] = ()
    derived_from: DerivedFrom | None = None
    examples: tuple[Example, ...] = ()
    path: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class RuleSet:
    """Every rule loaded from some paths (all statuses), and the vocabularies they used."""

    rules: list[Rule]
    vocabularies: dict[str, Vocabulary] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def active(self) -> list[Rule]:
        return [r for r in self.rules if r.status == "active"]

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)
