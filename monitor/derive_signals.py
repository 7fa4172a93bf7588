"""The signals of a brief: its "Key Signals" list; else its summary bullets (or its lead
sentence) and its "what to watch" sentences, each with the line it was found on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from monitor import text as textmod

_WATCH_CUES = re.compile(
    r"\b(what to watch|watch (?:for|next)|monitor (?:for|closely)|trigger|signal(?:s|ing|led)?\b|"
    r"escalat|would shift|is likely|it is likely|may lead|will (?:increase|inevitably)|"
    r"could (?:face|lead)|expect(?:s|ed)?\b|intends?\b|prepared to)",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^\s*key\s+signals\s*:?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[-•*]\s*[—–-]?\s*(?:\d+[.)]\s*)?")


@dataclass(frozen=True)
class Signal:
    """One signal sentence of a brief and how it was found (key_signal, summary, lead, watch)."""

    text: str
    kind: str
    line: int


def clean_line(s: str) -> str:
    return " ".join(s.replace("\u00a0", " ").split())


def find_signals(text: str, max_watch: int = 5) -> list[Signal]:
    """The signals of a brief: its Key Signals list, else summary/lead and watch sentences."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _HEADING.match(line):
            out = []
            for j in range(i + 1, len(lines)):
                raw = lines[j]
                if not raw.strip():
                    continue
                if not _BULLET.match(raw) or not raw.lstrip().startswith(("-", "•", "*")):
                    break
                body = clean_line(_BULLET.sub("", raw, count=1))
                if len(body) >= 10:
                    out.append(Signal(body, "key_signal", j + 1))
            if out:
                return out
    out = _summary(lines)
    seen = {s.text for s in out}
    watch: list[Signal] = []
    for s in _sentences_with_lines(lines):
        if s.text in seen or len(watch) >= max_watch:
            continue
        if _WATCH_CUES.search(s.text) and 40 <= len(s.text) <= 400:
            watch.append(Signal(s.text, "watch", s.line))
            seen.add(s.text)
    return out + watch


def _is_sentence(line: str) -> bool:
    line = line.strip()
    return 40 <= len(line) <= 260 and line[-1:] in ".!?" and len(textmod.sentences(line)) == 1


def _summary(lines: list[str]) -> list[Signal]:
    """Summary bullets: a short run (2–6) of one-sentence lines near the top; else the lead."""
    numbered = [(i, line) for i, line in enumerate(lines) if line.strip()][:25]
    run: list[tuple[int, str]] = []
    for i, line in numbered:
        if _is_sentence(line):
            run.append((i, line))
            continue
        # a summary block ends at a short line (a label, a byline), not at a long paragraph
        if 2 <= len(run) <= 6 and len(line.strip()) < 40:
            return [Signal(clean_line(t), "summary", k + 1) for k, t in run]
        run = []
    for i, line in numbered:  # the lead: first sentence of the first real paragraph
        if len(line.strip()) >= 80 and not line.lstrip().startswith("["):
            spans = textmod.sentences(line)
            if spans:
                s, e = spans[0]
                return [Signal(clean_line(line[s:e]), "lead", i + 1)]
    return []


def _sentences_with_lines(lines: list[str]) -> Iterator[Signal]:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if len(stripped) < 40 or stripped.startswith("[") or "http" in stripped:
            continue
        for s, e in textmod.sentences(line):
            yield Signal(clean_line(line[s:e]), "sentence", i + 1)
