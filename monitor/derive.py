"""Draft watch rules from a brief: one ``status: draft`` rule per signal it names.

    brief ─► signals: its "Key Signals" list; else its summary bullets (or lead sentence)
             and its "what to watch" sentences
          ─► per signal: quoted words, named actors, action words
          ─► expanded with the vocabularies (a word a vocabulary holds becomes $name) and
             with built-in Russian equivalents of common actors and actions
          ─► rules: all(any actors, any actions), derived_from {seed, signal}

A draft is a starting point for an analyst: it matches its own signal sentence (that is its
first example) and needs review, exclusions and no-match examples before going active.
"""

from __future__ import annotations

import io
import re
from importlib import resources
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor import text as textmod
from monitor.derive_signals import Signal, clean_line, find_signals
from monitor.rules import Group, MatchNode, Pattern, Term, Vocabulary

__all__ = ["Signal", "find_signals", "draft_rules", "derive_yaml"]

_EQUIVALENTS = "derive_terms.yaml"  # package data: actors and actions with Russian equivalents


def _load_equivalents() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The known actors and action words, each with its Russian equivalents (read once)."""
    text = resources.files("monitor").joinpath(_EQUIVALENTS).read_text(encoding="utf-8")
    data = YAML(typ="safe").load(text)
    tables = []
    for key in ("actors", "actions"):
        table = data.get(key) if isinstance(data, dict) else None
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in table.items()
        ):
            raise ValueError(f"{_EQUIVALENTS}: '{key}' must map each word to a list of words")
        tables.append({k: tuple(v) for k, v in table.items()})
    return tables[0], tables[1]


# known actors: English name → Russian equivalents (the vocabularies add more); action words
# worth watching, with Russian equivalents
ACTORS, ACTIONS = _load_equivalents()

_STOPWORDS = frozenset(
    """
a an the and or but nor of to in on at by for from with without about into over under
after before between through during against among as is are was were be been being has
have had do does did will would shall should can could may might must not no any some
each every all both either neither this that these those it its it's their them they he
she his her we our you your i me my who whom whose which what when where why how whether
than then there here also only just more most less least very such same other another
up down out off again further once own so too s t if yet still even though because
signs sign mention mentions details detail whether specific particular relevant regarding
towards toward versus via per including include includes new quiet public
constitutes highlights necessity potentially situation question increase tendency reliable
resulting insufficient consequently significant concrete effectively likely possibility
details required operational particular strategic strategically various number important
itself themselves something anything nothing everything indicate indicates indication
suggest suggests suggesting shows show shown level levels point points context framework
years year months month period stage today yesterday said says according noted added
""".split()
)

_LEADING = frozenset(
    """the a an any signs post operational despite however while although
whether within according speaking seeing recognizing following this that these those
what monitor further meanwhile consequently nevertheless strategically""".split()
)

_QUOTED = re.compile(r"[“\"«]([^”\"»]{2,60}?)[”\"»]")
_NAME = re.compile(r"\b(?:[A-Z][\w’'.-]*[\w])(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'.-]*[\w])*")
_WORD = re.compile(r"[A-Za-z][a-z'’-]{3,}")
# -- words of a signal -----------------------------------------------------------------------


def _strip_possessive(name: str) -> str:
    return re.sub(r"[’']s$", "", name).strip(" .,")


def _actors(sentence: str, known: "_VocabIndex | None" = None) -> list[str]:
    found: list[str] = []
    for m in _NAME.finditer(sentence):
        name = _strip_possessive(m.group())
        first = name.split()[0]
        if m.start() == 0 or sentence[: m.start()].rstrip()[-1:] in '“"(—–-':
            # a capital at the start of a sentence says nothing: keep only known names
            is_known = _strip_possessive(first) in ACTORS or (known and known.find(first))
            if not is_known and first.split("-")[0].lower() in _LEADING | _STOPWORDS | {"post"}:
                name = " ".join(name.split()[1:])
            elif not is_known and len(name.split()) == 1:
                continue
        words = name.split()
        while words and words[0].lower() in _LEADING:
            words = words[1:]
        name = " ".join(words)
        if not name or len(name) < 2:
            continue
        for part in _split_known(name):
            if part not in found:
                found.append(part)
    # lower-case known actors ("foreign ministry", "border troops" are actions below)
    low = sentence.lower()
    for actor in ACTORS:
        if actor.islower() and actor in low and actor not in found:
            found.append(actor)
    return found


def _split_known(name: str) -> list[str]:
    """'Russia’s MFA' → [Russia, MFA]; 'Azerbaijani Foreign Minister Jeyhun Bayramov' → parts."""
    if re.fullmatch(r"(?:[A-Z]\.){2,}[A-Z]?\.?", name):  # U.S, U.S., U.K.
        name = name.replace(".", "")
    if name in ACTORS:
        return [name]
    parts = [_strip_possessive(p) for p in re.split(r"[’']s\s+", name)]
    out: list[str] = []
    for p in parts:
        if p in ACTORS:
            out.append(p)
            continue
        words = p.split()
        known = [w for w in words if _strip_possessive(w) in ACTORS]
        if known:
            out.extend(_strip_possessive(w) for w in known)
            rest = [w for w in words if w not in known]
            if len(rest) >= 2 and rest[-1][0].isupper():
                out.append(" ".join(rest[-2:]))  # a person: first and last name
        elif p:
            out.append(p)
    return out


def _actions(sentence: str, quoted: list[str], actors: list[str]) -> list[str]:
    taken = {w.lower() for a in actors for w in a.split()} | {q.lower() for q in quoted}
    out: list[str] = []
    low = sentence.lower()
    for phrase in ACTIONS:
        if " " in phrase and phrase in low and phrase not in taken:
            out.append(phrase)
            taken.update(phrase.split())
    for m in _WORD.finditer(sentence):
        w = m.group().strip("’'-").lower()
        if w in _STOPWORDS or w in taken or len(w) < 4 or m.group()[0].isupper():
            continue
        taken.add(w)
        out.append(w)
    # known actions first, then the longer (rarer) words, at most four of those
    known = [w for w in out if w in ACTIONS]
    other = sorted((w for w in out if w not in ACTIONS), key=len, reverse=True)
    return known + other[:4]


# -- vocabularies ----------------------------------------------------------------------------


class _VocabIndex:
    """Which vocabulary holds a word or phrase (compared as stemmed words)."""

    def __init__(self, vocabularies: dict[str, Vocabulary]):
        self.by_key: dict[tuple[str, ...], str] = {}
        for name, vocab in sorted(vocabularies.items()):
            for node in _leaves(vocab.terms):
                if isinstance(node, Term) and not node.prefix:
                    self.by_key.setdefault(self.key(node.text), name)

    @staticmethod
    def key(text: str) -> tuple[str, ...]:
        return tuple(textmod.stem(w) for w in textmod.words(text))

    def find(self, text: str) -> str | None:
        return self.by_key.get(self.key(text))


def _leaves(nodes: Iterable[MatchNode]) -> list[Term | Pattern]:
    out: list[Term | Pattern] = []
    for n in nodes:
        if isinstance(n, Group):
            out.extend(_leaves(n.children))
        elif isinstance(n, (Term, Pattern)):
            out.append(n)
    return out


def _expand(
    words: list[str], table: dict[str, tuple[str, ...]], vocab: _VocabIndex, limit: int
) -> list[str]:
    """Terms for a group: a vocabulary reference where one holds the word, else the word and
    its Russian equivalents."""
    out: list[str] = []
    for w in words:
        name = vocab.find(w)
        if name:
            ref = f"${name}"
            if ref not in out:
                out.append(ref)
            continue
        for t in (w, *table.get(w, table.get(w.lower(), ()))):
            if t not in out:
                out.append(t)
        if len(out) >= limit:
            break
    return out


# -- rules -----------------------------------------------------------------------------------


def _slug(words: list[str], n: int = 3) -> str:
    parts = []
    for w in words:
        s = re.sub(r"[^a-z0-9]+", "-", w.lower().lstrip("$")).strip("-")
        if s and s not in parts:
            parts.append(s)
        if len(parts) >= n:
            break
    return "-".join(parts) or "signal"


def _title(text: str, width: int = 90) -> str:
    text = text.rstrip(".")
    if len(text) <= width:
        return text
    cut = text[:width].rsplit(" ", 1)[0]
    return cut.rstrip(",;:—- ") + "…"


def seed_tag(seed: Path) -> str:
    m = re.match(r"^(\d+)", seed.name)
    return m.group(1) if m else re.sub(r"[^a-z0-9]+", "-", seed.stem.lower()).strip("-")[:16]


def draft_rules(
    seed: Path,
    text: str,
    vocabularies: dict[str, Vocabulary] | None = None,
    seed_label: str | None = None,
) -> list[dict[str, Any]]:
    """One draft rule (a plain mapping in the rule format) per signal of the brief."""
    index = _VocabIndex(vocabularies or {})
    tag = seed_tag(seed)
    rules: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    for n, sig in enumerate(find_signals(text), 1):
        quoted = [clean_line(q).strip(" ,.") for q in _QUOTED.findall(sig.text)]
        quoted = [q for q in dict.fromkeys(quoted) if textmod.words(q)]
        actors = [a for a in _actors(sig.text, index) if a not in quoted]
        actions = _actions(sig.text, quoted, actors)
        actor_terms = _expand(actors, ACTORS, index, limit=14)
        action_terms = _expand(
            quoted + actions[: max(0, 8 - len(quoted))], ACTIONS, index, limit=16
        )
        if actor_terms and action_terms:
            match: dict[str, Any] = {"all": [{"any": actor_terms}, {"any": action_terms}]}
        elif action_terms:
            match = (
                {"at_least": 2, "of": action_terms}
                if len(action_terms) >= 2
                else {"any": action_terms}
            )
        elif actor_terms:
            match = (
                {"at_least": 2, "of": actor_terms}
                if len(actor_terms) >= 2
                else {"any": actor_terms}
            )
        else:
            continue
        rid = f"draft-{tag}-{n:02d}-{_slug(quoted + actions + actors)}"
        while rid in used_ids:
            rid += "-x"
        used_ids.add(rid)
        rules.append(
            {
                "id": rid,
                "title": _title(sig.text),
                "description": f"Draft from the {sig.kind.replace('_', ' ')} at line {sig.line} of "
                f"{seed.name}: review the terms, add exclusions and no_match examples, "
                "then set status: active.",
                "severity": "medium",
                "tags": ["draft", f"seed-{tag}"],
                "status": "draft",
                "derived_from": {"seed": seed_label or str(seed), "signal": sig.text},
                "match": match,
                "examples": {"match": [sig.text]},
            }
        )
    return rules


def derive_yaml(
    seed: Path, vocabularies: dict[str, Vocabulary] | None = None, seed_label: str | None = None
) -> str:
    """The drafts of a brief as a rule file (YAML text), ready for ``monitor rules check``."""
    text = seed.read_text(encoding="utf-8")
    rules = draft_rules(seed, text, vocabularies, seed_label)
    doc = CommentedMap()
    doc["rules"] = CommentedSeq(_yamlify(r) for r in rules)
    doc.yaml_set_start_comment(
        f"Draft rules derived from {seed_label or seed} by `monitor rules derive`.\n"
        "Each rule is status: draft and matches its own signal sentence; review before activating.\n"
        + (
            "$names refer to vocabularies in the rules folder: load this file together with it.\n"
            if vocabularies
            else ""
        )
    )
    buf = io.StringIO()
    yaml = YAML()
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(doc, buf)
    return buf.getvalue()


def _yamlify(value: Any) -> Any:
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _yamlify(v)
        return m
    if isinstance(value, list):
        seq = CommentedSeq(_yamlify(v) for v in value)
        if all(isinstance(v, str) and len(v) < 40 for v in value):
            seq.fa.set_flow_style()
        return seq
    return value
