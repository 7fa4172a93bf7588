"""The matcher's answer for one rule on one item (a hit before it is stored), with its evidence
built when first read. Imports nothing of ours; ``monitor.models`` re-exports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# a hit's evidence: (terms, spans, snippet, why)
RuleEvidence = tuple[tuple[str, ...], tuple[tuple[int, int], ...], str, str]
_FIELDS = ("rule_id", "rule_title", "severity", "terms", "spans", "snippet", "why", "tags")


class RuleMatch:
    """The matcher's pure answer: one rule fired on one item, with its evidence.

    ``spans`` are ``(start, end)`` character offsets into ``Item.document``;
    ``terms`` are the rule terms (as written in the rule) that matched, in order of first
    appearance; ``why`` says in words which clause fired; ``snippet`` is a short excerpt
    around the strongest evidence with the matched words marked ``**like this**``.

    Immutable. The matcher builds the evidence (terms, spans, snippet, why) only when one
    of them is first read (:meth:`lazy`): a caller that wants only which rules fired never
    pays for it; the answer is the same either way.
    """

    __slots__ = ("_evidence", "_make", "rule_id", "rule_title", "severity", "tags")

    rule_id: str
    rule_title: str
    severity: str
    tags: tuple[str, ...]
    _evidence: RuleEvidence | None
    _make: Callable[[], RuleEvidence] | None

    def __init__(
        self,
        rule_id: str,
        rule_title: str,
        severity: str,
        terms: tuple[str, ...],
        spans: tuple[tuple[int, int], ...],
        snippet: str,
        why: str = "",
        tags: tuple[str, ...] = (),
    ):
        self._set(rule_id, rule_title, severity, tags, (terms, spans, snippet, why), None)

    @classmethod
    def lazy(
        cls,
        rule_id: str,
        rule_title: str,
        severity: str,
        tags: tuple[str, ...],
        evidence: Callable[[], RuleEvidence],
    ) -> RuleMatch:
        """A match whose evidence ``evidence()`` builds when it is first read (once)."""
        m = cls.__new__(cls)
        m._set(rule_id, rule_title, severity, tags, None, evidence)
        return m

    def _set(
        self,
        rule_id: str,
        rule_title: str,
        severity: str,
        tags: tuple[str, ...],
        evidence: RuleEvidence | None,
        make: Callable[[], RuleEvidence] | None,
    ) -> None:
        for name, value in (
            ("rule_id", rule_id),
            ("rule_title", rule_title),
            ("severity", severity),
            ("tags", tags),
            ("_evidence", evidence),
            ("_make", make),
        ):
            object.__setattr__(self, name, value)

    def _got(self) -> RuleEvidence:
        ev = self._evidence
        if ev is None:
            assert self._make is not None
            ev = self._make()
            object.__setattr__(self, "_evidence", ev)
            object.__setattr__(self, "_make", None)  # the document it read can go
        return ev

    @property
    def terms(self) -> tuple[str, ...]:
        return self._got()[0]

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return self._got()[1]

    @property
    def snippet(self) -> str:
        return self._got()[2]

    @property
    def why(self) -> str:
        return self._got()[3]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"RuleMatch is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RuleMatch is immutable (cannot delete {name!r})")

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleMatch):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in _FIELDS)
        return f"RuleMatch({inner})"

    def record(self, status: str) -> dict[str, Any]:
        """This hit as ``monitor rules test --json`` prints it (and ``POST /api/v1/rules/test``
        returns it): a contract scripts rely on. ``status`` is the rule's (active, draft …)."""
        return {
            "rule": self.rule_id,
            "severity": self.severity,
            "terms": list(self.terms),
            "spans": [list(s) for s in self.spans],
            "snippet": self.snippet,
            "title": self.rule_title,
            "why": self.why,
            "status": status,
        }
