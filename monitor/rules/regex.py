"""Rule regexes: compiled once with RE2, and the literal each one requires (for the prefilter).

    pattern ─fold quotes and ё─► RE2 (linear time; case-insensitive unless ``case``)
            ─read as a tree of literals, groups, repeats and the rest─► the longest run of
              literals every match contains, folded (or None: the regex runs on every
              candidate item)

The reader below knows the common syntax RE2 and the analysts' rules use; anything else
(``\\p{…}``, ``\\Q…\\E``, POSIX classes, flags other than i, m, s) simply gets no literal.
"""

from __future__ import annotations

from typing import Any

import re2

from monitor import text as textmod

__all__ = [
    "RE2_MAX_MEM",
    "compile_regex",
    "fold_pattern",
    "required_alternatives",
    "required_literal",
]

RE2_MAX_MEM = 8 << 20
_MIN_LITERAL = 3


def compile_regex(pattern: str, case: bool) -> Any:
    """Compile a rule regex with RE2: case-insensitive unless ``case``, on folded text.
    Raises ``re2.error`` for what RE2 refuses."""
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.case_sensitive = bool(case)
    options.log_errors = False
    return re2.compile(fold_pattern(pattern), options)


def fold_pattern(pattern: str) -> str:
    """Fold the characters the text is folded on (quotes, ё) in a pattern too."""
    table = {k: v for k, v in textmod.FOLD_CHARS.items() if v in ("'", '"', "е", "Е")}
    return pattern.translate(table)


def required_literal(pattern: str) -> str | None:
    """The longest literal every match must contain, folded, or None."""
    try:
        items = _Reader(fold_pattern(pattern)).parse()
    except _Unsupported:
        return None
    runs: list[str] = []
    _literal_runs(items, runs)
    best = max((textmod.fold(r) for r in runs), key=len, default="").strip()
    return best if len(best) >= _MIN_LITERAL else None


def required_alternatives(pattern: str) -> tuple[tuple[str, ...], ...] | None:
    """Sets of literals, folded, every match holding one literal of each set (the rarest sets
    first, at most three) — for ``(?:moscow|the\\s+kremlin)\\s+said``: (kremlin, moscow),
    (said) — or None. A regex with no single required literal has such sets most often."""
    try:
        items = _Reader(fold_pattern(pattern)).parse()
    except _Unsupported:
        return None
    got = sorted({tuple(sorted(c)) for c in _all_of(items)}, key=_rarity, reverse=True)
    return tuple(got[:_MAX_ALTERNATIVES]) or None


_MAX_ALTERNATIVES = 3


def _rarity(choice: tuple[str, ...] | set[str]) -> tuple[int, int]:
    return min(map(len, choice)), -len(choice)


def _all_of(items: list[Any]) -> list[set[str]]:
    """A sequence's required parts as sets of literals (folded, long enough to be worth
    looking for), a match holding one of each set."""
    choices: list[set[str]] = []
    current: list[str] = []
    for item in [*items, ("end",)]:
        if item[0] == "lit":
            current.append(item[1])
            continue
        if current:
            choices.append({"".join(current)})
            current = []
        if item[0] in ("group", "plain"):
            choices += _all_of(item[1])
        elif item[0] == "repeat" and item[1] >= 1:
            choices += _all_of(item[2])
        elif item[0] == "branch":
            best = [max(_all_of(a), key=_rarity, default=None) for a in item[1]]
            if all(best):
                choices.append(set().union(*best))  # type: ignore[arg-type]
    folded = [{textmod.fold(x).strip() for x in c} for c in choices]
    return [c for c in folded if all(len(x) >= _MIN_LITERAL for x in c)]


def _literal_runs(items: list[Any], runs: list[str]) -> None:
    """Runs of consecutive literals; a group's and a required repeat's inside are read on
    their own (a literal before a group and one after it are two runs)."""
    current: list[str] = []
    for item in items:
        if item[0] == "lit":
            current.append(item[1])
            continue
        if current:
            runs.append("".join(current))
            current = []
        if item[0] == "group":
            _literal_runs(item[1], runs)
        elif item[0] == "repeat" and item[1] >= 1:
            _literal_runs(item[2], runs)
    if current:
        runs.append("".join(current))


# == a small reader of regex syntax ==========================================================
# items: ("lit", ch) | ("at",) | ("any",) | ("class", negated, members) | ("group", items)
#        | ("plain", items) (a (?:…) group, while its sequence is read) | ("repeat", min, items)
#        | ("branch", alternatives)


class _Unsupported(Exception):
    """Syntax the reader does not know: the regex gets no literal."""


_FLAGS = "ims"
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_CATEGORIES = "dDsSwW"
_HEX = "0123456789abcdefABCDEF"
_QUANTIFIERS: dict[str, tuple[int, int | None]] = {"?": (0, 1), "*": (0, None), "+": (1, None)}


class _Reader:
    def __init__(self, pattern: str) -> None:
        self.s = pattern
        self.i = 0

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.s[j] if j < len(self.s) else None

    def take(self) -> str:
        ch = self.peek()
        if ch is None:
            raise _Unsupported("unexpected end")
        self.i += 1
        return ch

    def parse(self) -> list[Any]:
        items = self.alternation(nested=False)
        if self.i != len(self.s):
            raise _Unsupported("unbalanced parenthesis")
        return items

    def alternation(self, nested: bool) -> list[Any]:
        alts = [self.sequence(nested, first=not nested)]
        while self.peek() == "|":
            self.i += 1
            alts.append(self.sequence(nested, first=False))
        if len(alts) == 1:
            return alts[0]
        out: list[Any] = []
        # a prefix common to every alternative is required: moved out of the branch
        while (
            all(alts)
            and alts[0][0][0] not in ("group", "repeat")
            and all(a[0] == alts[0][0] for a in alts)
        ):
            out.append(alts[0][0])
            for a in alts:
                del a[0]
        if all(
            len(a) == 1 and (a[0][0] == "lit" or (a[0][0] == "class" and not a[0][1])) for a in alts
        ):
            out.append(("class", False, ()))  # one character of several: no literal
            return out
        out.append(("branch", alts))
        return out

    def sequence(self, nested: bool, first: bool) -> list[Any]:
        items: list[Any] = []
        while True:
            ch = self.peek()
            if ch == ")" and not nested:
                raise _Unsupported("unbalanced parenthesis")
            if ch is None or ch in "|)":
                # a plain group (?:…) not repeated is read as part of the sequence
                return [x for item in items for x in (item[1] if item[0] == "plain" else (item,))]
            self.i += 1
            if ch == "(":
                group = self.group(global_ok=first and not items)
                if group is not None:
                    items.append(group)
            elif ch == "[":
                items.append(self.char_class())
            elif ch in "?*+":
                self.repeat(items, _QUANTIFIERS[ch])
            elif ch == "{" and (bounds := self.bounds()) is not None:
                self.repeat(items, bounds)
            elif ch == ".":
                items.append(("any",))
            elif ch in "^$":
                items.append(("at",))
            elif ch == "\\":
                items.append(self.escape(in_class=False))
            else:
                items.append(("lit", ch))

    def bounds(self) -> tuple[int, int | None] | None:
        """At a ``{`` just read: ``{n}``, ``{n,}``, ``{n,m}`` or ``{,m}`` (its minimum 0) as
        (min, max), consumed; else None, nothing consumed (a ``{`` is then a literal)."""
        j = self.i
        lo = hi = ""
        while j < len(self.s) and self.s[j].isdigit():
            lo += self.s[j]
            j += 1
        if j < len(self.s) and self.s[j] == ",":
            j += 1
            while j < len(self.s) and self.s[j].isdigit():
                hi += self.s[j]
                j += 1
            upper = int(hi) if hi else None
        else:
            if not lo:
                return None
            upper = int(lo)
        if j >= len(self.s) or self.s[j] != "}":
            return None
        self.i = j + 1
        return (int(lo) if lo else 0), upper

    def repeat(self, items: list[Any], bounds: tuple[int, int | None]) -> None:
        if not items or items[-1][0] in ("at", "repeat"):
            raise _Unsupported("nothing to repeat")
        if self.peek() in ("?", "+"):
            self.i += 1
        last = items[-1]
        items[-1] = ("repeat", bounds[0], last[1] if last[0] == "plain" else [last])

    def group(self, global_ok: bool) -> Any:
        if self.peek() != "?":
            items = self.alternation(nested=True)
            self.close()
            return ("group", items)
        self.i += 1
        ch = self.take()
        if ch == ":":
            items = self.alternation(nested=True)
            self.close()
            return ("plain", items)
        if ch == "P" and self.peek() == "<":
            self.i += 1
            name = ""
            while self.peek() not in (">", None):
                name += self.take()
            self.take()
            if not name.isidentifier():
                raise _Unsupported("bad group name")
        else:
            self.i -= 1
            while self.peek() not in (":", ")", None):
                c = self.take()
                if c not in _FLAGS and c != "-":
                    raise _Unsupported(f"flag {c!r}")
            if self.take() == ")":  # flags for the rest of the pattern
                if not global_ok:
                    raise _Unsupported("flags not at the start")
                return None
        items = self.alternation(nested=True)
        self.close()
        return ("group", items)

    def close(self) -> None:
        if self.peek() != ")":
            raise _Unsupported("missing )")
        self.i += 1

    def char_class(self) -> Any:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        members: list[Any] = []
        while True:
            ch = self.take()
            if ch == "]" and members:
                break
            if ch == "[" and self.peek() == ":":
                raise _Unsupported("POSIX class")
            low = self.escape(in_class=True) if ch == "\\" else ("lit", ch)
            if self.peek() == "-":
                self.i += 1
                that = self.take()
                if that == "]":
                    members += [low, ("lit", "-")]
                    break
                high = self.escape(in_class=True) if that == "\\" else ("lit", that)
                if low[0] != "lit" or high[0] != "lit" or high[1] < low[1]:
                    raise _Unsupported("bad range")
                members.append(("range", low[1], high[1]))
            else:
                members.append(low)
        unique = list(dict.fromkeys(members))
        if len(unique) == 1 and unique[0][0] == "lit":
            return ("class", True, ()) if negated else unique[0]
        return ("class", negated, tuple(unique))

    def escape(self, in_class: bool) -> Any:
        ch = self.take()
        if ch in _CATEGORIES:
            return ("category", ch) if in_class else ("class", False, (("category", ch),))
        if ch in "AZbB":
            if in_class:
                if ch == "b":
                    return ("lit", "\b")
                raise _Unsupported(f"escape \\{ch} in a class")
            return ("at",)
        if ch in _CONTROL:
            return ("lit", _CONTROL[ch])
        if ch == "x":
            digits = (self.peek() or "") + (self.peek(1) or "")
            if len(digits) == 2 and all(d in _HEX for d in digits):
                self.i += 2
                return ("lit", chr(int(digits, 16)))
            raise _Unsupported("escape \\x")
        if ch.isascii() and ch.isalnum():
            raise _Unsupported(f"escape \\{ch}")
        return ("lit", ch)
