"""Evidence shown to people: spans merged, marked in a style (markdown, html, ansi …), and a
short one-line excerpt around the densest cluster of them."""

from __future__ import annotations

import html
from collections.abc import Iterable

_MARKS = {
    "markdown": ("**", "**"),
    "html": ("<mark>", "</mark>"),
    "ansi": ("\x1b[1;33m", "\x1b[0m"),
    "plain": ("", ""),
    "brackets": ("[", "]"),
}


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans (touching spans stay apart so each term is marked)."""
    out: list[list[int]] = []
    for s, e in sorted((int(a), int(b)) for a, b in spans if b > a):
        if out and s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def highlight(text: str, spans: Iterable[tuple[int, int]], style: str = "markdown") -> str:
    """Mark ``spans`` of ``text``: markdown ``**x**``, html ``<mark>x</mark>`` (text escaped),
    ansi bold yellow, brackets ``[x]``, or plain (no marks)."""
    if style not in _MARKS:
        raise ValueError(f"unknown highlight style {style!r}")
    open_, close = _MARKS[style]
    esc = html.escape if style == "html" else (lambda s: s)
    parts: list[str] = []
    pos = 0
    for s, e in merge_spans(spans):
        s, e = max(s, pos), min(e, len(text))
        if s >= e:
            continue
        parts.append(esc(text[pos:s]))
        parts.append(open_ + esc(text[s:e]) + close)
        pos = e
    parts.append(esc(text[pos:]))
    return "".join(parts)


def snippet(
    text: str, spans: Iterable[tuple[int, int]], width: int = 240, style: str = "markdown"
) -> str:
    """A short excerpt around the densest cluster of ``spans``, terms marked, one line.

    The window is about ``width`` characters, cut at word boundaries, with ``…`` where text
    was left out.
    """
    spans = merge_spans(spans)
    if not text:
        return ""
    if not spans:
        lo, hi = 0, min(len(text), width)
    else:
        best, best_i, j = -1, 0, 0
        for i, (s, _) in enumerate(spans):
            while j < len(spans) and spans[j][1] - s <= width:
                j += 1
            if j - i > best:
                best, best_i = j - i, i
        first = spans[best_i]
        last = spans[best_i + best - 1] if best > 0 else first
        used = last[1] - first[0]
        pad = max(width - used, 0) // 2
        lo = max(0, first[0] - pad)
        hi = min(len(text), last[1] + pad)
        if hi - lo < width:  # use the room left on the other side
            lo = max(0, min(lo, hi - width))
            hi = min(len(text), max(hi, lo + width))
    # cut at word boundaries
    limit = max(0, lo - 20)
    while lo > limit and not text[lo - 1].isspace():
        lo -= 1
    limit = min(len(text), hi + 20)
    while hi < limit and not text[hi].isspace():
        hi += 1
    inside = [(max(s, lo), min(e, hi)) for s, e in spans if e > lo and s < hi]
    body = highlight(text[lo:hi], [(s - lo, e - lo) for s, e in inside], style)
    body = " ".join(body.split())  # whitespace runs → one space, ends stripped (as \s+ → " ")
    return ("… " if lo > 0 else "") + body + (" …" if hi < len(text) else "")
