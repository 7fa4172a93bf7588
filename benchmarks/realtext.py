"""Matching on real text with rules whose words really occur: the case a news stream makes.

    .venv/bin/python benchmarks/realtext.py [--sizes 100,1000,10000] [--docs 2000] [--seed 7]

The other corpora of ``benchmarks/matching.py`` keep rule terms rare (news-heldout fires on
a tenth of the documents). Here the words are the stream's own:

- **documents**: about 4 KB each, made of whole items of real feed text — the feed fixtures
  in tests/fixtures/feeds (English, German, Portuguese, …), the briefs in seeds/, and the
  project's own labelled news texts (the rule corpora and the dev half of the blind corpus,
  English and Russian) — drawn at random and joined until 4,000 characters;
- **rules**: ``all: [any 3–8, any 3–8]`` whose terms (a fifth of them two-word phrases) are
  drawn from the documents' own vocabulary, weighted from rare to common (the 300
  commonest word types, function words, are left out); a quarter of the rules add a
  ``none:`` clause, a quarter are ``sentence: [...]`` and a quarter ``near: [...] within 8``
  (with a ``none:`` too), as real watch rules are;
- **the per-rule regex baseline**: one Python ``re`` per term (every form of its words the
  pool holds, as the matcher would take them: Snowball stems for English, lemmas for
  Russian) and the rule's logic in Python, on the folded text — checked to fire the same
  rules on every document both run; **the floor**: one ``re2.Set`` of every term's literal
  words over the folded text (finding them, deciding nothing).

Per size it prints load + compile time (the YAML read and validated, and compiled with the
cyclic collector paused and then settled, as the daemon does: ``monitor.process``),
resident memory after compiling, documents per second (steady state: after a past stream
of other documents and ``refresh()``), the baseline's and the floor's rates, hits per
document, the slowest single document, and the share of the matcher's time spent finding
candidates against evaluating them and building evidence. Rates are documents per CPU
second of this one process (``--wall`` for wall-clock).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import re2  # noqa: E402
from ruamel.yaml import YAML  # noqa: E402

from monitor import morph  # noqa: E402
from monitor import process  # noqa: E402
from monitor import text as textmod  # noqa: E402
from monitor.matching import Matcher, wordparts  # noqa: E402
from monitor.models import Item  # noqa: E402
from monitor.rules import load_rules  # noqa: E402

CLOCK = time.process_time
DOC_CHARS = 4000
STOP_TYPES = 300
_WORD = re.compile(r"[^\W_]+")


# -- the pool of real text ----------------------------------------------------------------


def pool() -> list[str]:
    """Items of real text: feed fixture items, the briefs, the labelled news texts."""
    from monitor.sources.feed import parse_feed

    out: list[str] = []
    for path in sorted((ROOT / "tests/fixtures/feeds").iterdir()):
        if path.suffix not in (".rss", ".atom"):
            continue
        try:
            feed = parse_feed(path.read_bytes(), source=path.stem)
        except Exception:  # noqa: BLE001 — one fixture is deliberately no feed at all
            continue
        out += [f"{i.title}\n\n{i.text}" for i in feed.items if len(i.text) > 80]
    out += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    yaml = YAML(typ="safe")
    for path in [
        "tests/corpus/corpus.yaml",
        "tests/corpus/heldout.yaml",
        "tests/corpus/blind2.yaml",
        "tests/corpus/eval/dev.yaml",
    ]:
        out += [
            f"{e['title']}\n\n{e['text']}"
            for e in yaml.load((ROOT / path).read_text(encoding="utf-8"))
        ]
    return list(dict.fromkeys(t for t in out if t.strip()))


def documents(items: list[str], n: int, rng: random.Random) -> list[str]:
    docs = []
    for _ in range(n):
        parts: list[str] = []
        size = 0
        while size < DOC_CHARS:
            p = rng.choice(items)
            parts.append(p)
            size += len(p) + 2
        docs.append("\n\n".join(parts))
    return docs


class Vocabulary:
    """The pool's word types by frequency, its two-word phrases, and each word's forms."""

    def __init__(self, items: list[str]):
        tokens = Counter()
        bigrams = Counter()
        for t in items:
            ws = textmod.words(t)
            tokens.update(ws)
            bigrams.update(zip(ws, ws[1:]))
        ranked = [w for w, _ in tokens.most_common() if len(w) > 2 and not w.isdigit()]
        self.words = ranked[STOP_TYPES:]
        stop = set(ranked[:STOP_TYPES])
        self.phrases = [
            f"{a} {b}"
            for (a, b), c in bigrams.most_common()
            if c > 1 and a not in stop and b not in stop and len(a) > 2 and len(b) > 2
        ]
        self._types = list(tokens)
        self._by_key: dict[str, set[str]] | None = None

    def _index(self) -> dict[str, set[str]]:
        if self._by_key is None:
            by: dict[str, set[str]] = {}
            for t in self._types:
                by.setdefault(textmod.stem(t), set()).add(t)
                if textmod.is_cyrillic(t):
                    for k in morph.lemma_keys(t):
                        by.setdefault(k, set()).add(t)
            self._by_key = by
        return self._by_key

    def forms(self, word: str) -> set[str]:
        """Every form of the pool the matcher takes for this rule word."""
        by = self._index()
        lemma = morph.rule_lemma(word) if textmod.is_cyrillic(word) else None
        if lemma is not None:
            return set(by.get(lemma, ())) | {word}
        out = {word}
        for s in textmod.term_stems(word):
            out |= by.get(s, set())
        if textmod.is_cyrillic(word) and (guess := morph.guessed_lemma(word)) is not None:
            out |= by.get(guess, set())  # a word the dictionary does not know: the guessed lemma
        return out

    def draw(self, rng: random.Random, k: int) -> list[str]:
        """k terms over the frequency ranks, rare to common, a fifth of them phrases. A rank is
        drawn as ``N·√u`` (u uniform): a rank in the commoner quarter one time in sixteen,
        in the rarer half three times in four. Documents of ~4 KB made of many items then meet
        ~8 rules per 1,000 (P(rank) ~ 1/rank, the classic Zipf draw, makes nearly every rule
        fire on every document: their words are the stream's commonest)."""
        out = []
        for _ in range(k):
            pool = self.phrases if rng.random() < 0.2 and self.phrases else self.words
            rank = int(len(pool) * rng.random() ** 0.5)
            out.append(pool[min(rank, len(pool) - 1)])
        return list(dict.fromkeys(out))


# -- rules --------------------------------------------------------------------------------


def rule_specs(vocab: Vocabulary, n: int, rng: random.Random) -> list[dict]:
    specs = []
    for i in range(n):
        kind = ("plain", "none", "sentence", "near")[i % 4]
        a = vocab.draw(rng, rng.randint(3, 8))
        b = [t for t in vocab.draw(rng, rng.randint(3, 8)) if t not in a] or [vocab.words[-1 - i]]
        none = vocab.draw(rng, rng.randint(1, 3)) if kind != "plain" else []
        none = [t for t in none if t not in a and t not in b]
        specs.append({"id": f"r{i:05d}", "kind": kind, "a": a, "b": b, "none": none})
    return specs


def rules_yaml(specs: list[dict]) -> str:
    out = ["rules:"]
    for s in specs:
        q = lambda terms: "[" + ", ".join(f'"{t}"' for t in terms) + "]"  # noqa: E731
        out.append(f"  - id: {s['id']}\n    title: {s['id']}\n    match:")
        if s["kind"] in ("plain", "none"):
            out.append(f"      all:\n        - any: {q(s['a'])}\n        - any: {q(s['b'])}")
        elif s["kind"] == "sentence":
            out.append(f"      sentence: [{q(s['a'])}, {q(s['b'])}]")
        else:
            out.append(f"      near: [{q(s['a'])}, {q(s['b'])}]\n      within: 8")
        if s["none"]:
            out.append(f"      none: {q(s['none'])}")
    return "\n".join(out) + "\n"


# -- the per-rule regex baseline ----------------------------------------------------------


class Naive:
    """Each rule with Python ``re``: a pattern per term (its words' forms), its logic in Python."""

    def __init__(self, specs: list[dict], vocab: Vocabulary):
        self.cache: dict[str, re.Pattern] = {}
        self.vocab = vocab
        self.rules = [
            (
                s,
                [self.term(t) for t in s["a"]],
                [self.term(t) for t in s["b"]],
                [self.term(t) for t in s["none"]],
            )
            for s in specs
        ]

    def term(self, term: str) -> re.Pattern:
        got = self.cache.get(term)
        if got is None:
            words = textmod.words(term)
            alts = [
                "(?:"
                + "|".join(sorted(map(re.escape, self.vocab.forms(w)), key=len, reverse=True))
                + ")"
                for w in words
            ]
            got = self.cache[term] = re.compile(
                r"(?<![^\W_])" + r"[\W_]+".join(alts) + r"(?![^\W_])"
            )
        return got

    def fires(self, text: str) -> set[str]:
        folded = textmod.fold(text)
        sentences = None
        out = set()
        for s, a, b, none in self.rules:
            if any(p.search(folded) for p in none):
                continue
            if s["kind"] in ("plain", "none"):
                if any(p.search(folded) for p in a) and any(p.search(folded) for p in b):
                    out.add(s["id"])
                continue
            sa = [m.span() for p in a for m in p.finditer(folded)]
            if not sa:
                continue
            sb = [m.span() for p in b for m in p.finditer(folded)]
            if not sb:
                continue
            if s["kind"] == "sentence":
                if sentences is None:
                    sentences = [st for st, _ in textmod.sentences(text)] or [0]
                import bisect

                which = {bisect.bisect_right(sentences, x) - 1 for x, _ in sa}
                if any(bisect.bisect_right(sentences, x) - 1 in which for x, _ in sb):
                    out.add(s["id"])
            # as the matcher does, one place may stand for both arguments (overlapping spans)
            elif any(
                len(_WORD.findall(folded, min(e1, e2), max(s1, s2))) <= 8
                for s1, e1 in sa
                for s2, e2 in sb
            ):
                out.add(s["id"])
        return out


def floor_set(specs: list[dict]):
    terms = sorted({tuple(textmod.words(t)) for s in specs for t in s["a"] + s["b"]})
    options = re2.Options()
    options.max_mem = 1 << 30
    s = re2.Set.SearchSet(options)
    for t in terms:
        s.Add(r"\b" + r"\W+".join(re2.escape(w) for w in t) + r"\b")
    s.Compile()
    return s


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rate(fn, items: list, min_seconds: float = 1.0, max_seconds: float | None = None):
    results, n, t0 = [], 0, CLOCK()
    for it in items:
        results.append(fn(it))
        n += 1
        if max_seconds is not None and CLOCK() - t0 > max_seconds:
            break
    while CLOCK() - t0 < min_seconds:
        for it in items:
            fn(it)
            n += 1
    return results, n / (CLOCK() - t0)


# -- one size -----------------------------------------------------------------------------


def run(n_rules: int, vocab: Vocabulary, items: list[str], args) -> dict:
    rng = random.Random(args.seed + n_rules)
    specs = rule_specs(vocab, n_rules, rng)
    docs = [
        Item(source="bench", key=str(i), title="", text=t)
        for i, t in enumerate(documents(items, args.docs, rng))
    ]
    past = [
        Item(source="bench", key=f"p{i}", title="", text=t)
        for i, t in enumerate(documents(items, args.docs, random.Random(args.seed + 99)))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bench.yaml").write_text(rules_yaml(specs), encoding="utf-8")
        gc.collect()
        process.trim_heap()
        before = rss_mb()
        t0 = time.perf_counter()
        # as the daemon loads rules at start, and settles after
        with process.compiling(freeze=True):
            rules = load_rules([tmp]).active()
            wordparts.read_cache()  # the term cache, as the daemon reads it (once)
            matcher = Matcher(rules)
            wordparts.write_cache()
        process.settle(collect=False)  # as the daemon at start
        load_s = time.perf_counter() - t0
    mem = rss_mb() - before

    for d in past:  # a past stream, then what it taught compiled in (the daemon's learn job)
        matcher.match(d)
    matcher.refresh()
    slowest = 0.0
    ours = []
    t0 = CLOCK()
    for d in docs:
        t = time.perf_counter()
        ours.append({m.rule_id for m in matcher.match(d)})
        slowest = max(slowest, time.perf_counter() - t)
    ours_rate = len(docs) / (CLOCK() - t0)
    _, cand_rate = rate(lambda d: matcher.prefilter.candidates(d.document), docs, min_seconds=0.5)
    full_rate, evidence_ms = with_evidence(matcher, docs)

    prof = cProfile.Profile()
    prof.enable()
    for d in docs[:300]:
        matcher.match(d)
    prof.disable()
    stats = pstats.Stats(prof)
    total = evidence = 0.0
    for (_file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == "match" and "matching" in _file:
            total = max(total, ct)
        if name in ("_result", "_evidence"):  # eager (before) or when read (now)
            evidence += ct

    naive = Naive(specs, vocab)
    naive_hits, naive_rate = rate(
        lambda d: naive.fires(d.document), docs, min_seconds=0, max_seconds=args.naive_seconds
    )
    agree = all(o == n for o, n in zip(ours, naive_hits))
    fl = floor_set(specs)
    _, floor_rate = rate(lambda d: fl.Match(textmod.fold(d.document)), docs, min_seconds=0.5)
    cand_share = (1 / cand_rate) / (1 / ours_rate) if ours_rate else 0.0
    return {
        "rules": n_rules,
        "load": load_s,
        "mem": mem,
        "ours": ours_rate,
        "naive": naive_rate,
        "naive_docs": len(naive_hits),
        "floor": floor_rate,
        "agree": agree,
        "hits": sum(map(len, ours)) / len(ours),
        "slowest_ms": slowest * 1e3,
        "cand": min(cand_share, 1.0),
        "evidence": evidence / total if total else float("nan"),
        "full": full_rate,
        "evidence_ms": evidence_ms,
    }


def with_evidence(matcher: Matcher, docs: list[Item]) -> tuple[float, float]:
    """Documents per second when every hit's evidence is read too (as the daemon stores
    it), and the milliseconds per hit that reading costs on top of deciding the hits."""
    hits = 0
    t0 = CLOCK()
    for d in docs:
        for m in matcher.match(d):
            hits += 1
            m.why, m.snippet  # noqa: B018 — reading the evidence is the point
    full = CLOCK() - t0
    t0 = CLOCK()
    for d in docs:
        matcher.match(d)
    bare = CLOCK() - t0
    return len(docs) / full, max(full - bare, 0.0) / max(hits, 1) * 1e3


def shipped(items: list[str], args) -> None:
    """The project's own rules on the same kind of documents."""
    rng = random.Random(args.seed)
    docs = [
        Item(source="bench", key=str(i), title="", text=t)
        for i, t in enumerate(documents(items, args.docs, rng))
    ]
    t0 = time.perf_counter()
    with process.compiling(freeze=True):  # as the daemon at start
        matcher = Matcher(load_rules([ROOT / "rules"]).active())
    process.settle(collect=False)  # as the daemon at start
    load_s = time.perf_counter() - t0
    for d in docs:
        matcher.match(d)
    matcher.refresh()
    _, ours = rate(matcher.match, docs, min_seconds=1.0)
    full, per_hit = with_evidence(matcher, docs)
    hits = sum(len(matcher.match(d)) for d in docs) / len(docs)
    print(
        f"shipped rules ({matcher.rule_count}): load+compile {load_s:.2f} s, {ours:,.0f} docs/s, "
        f"{full:,.0f} docs/s with evidence, {hits:.2f} hits/doc, evidence {per_hit:.3f} ms a hit",
        flush=True,
    )


def main() -> int:
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--naive-seconds", type=float, default=20.0)
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--no-shipped", action="store_true", help="skip the shipped rules' row")
    args = ap.parse_args()
    if args.wall:
        CLOCK = time.perf_counter
    items = pool()
    vocab = Vocabulary(items)
    print(
        f"== real-text corpus: {len(items)} items of real text, {len(vocab.words)} word types "
        f"and {len(vocab.phrases)} phrases for rule terms; {args.docs} documents of ~4 KB; seed {args.seed}"
    )
    cache = wordparts.cache_file()
    print(
        f"   term cache: {cache if cache is not None else 'off'} "
        f"({'holds words from an earlier run' if cache is not None and cache.exists() else 'empty: this run fills it, the next loads faster'})"
    )
    print(
        f"{'rules':>6} {'load+compile s':>14} {'mem MB':>7} {'ours docs/s':>11} {'naive docs/s':>12} "
        f"{'floor docs/s':>12} {'vs naive':>8} {'vs floor':>8} {'hits/doc':>8} {'slowest ms':>10} "
        f"{'candidates':>10} {'evidence':>8} {'agree':>5} {'w/ evidence':>11} {'ms/hit':>6}"
    )
    if not args.no_shipped:
        shipped(items, args)
    rows = []
    for n in map(int, args.sizes.split(",")):
        r = run(n, vocab, items, args)
        rows.append(r)
        print(
            f"{r['rules']:6} {r['load']:14.2f} {r['mem']:7.1f} {r['ours']:11.0f} {r['naive']:12.1f} "
            f"{r['floor']:12.0f} {r['ours'] / r['naive']:7.0f}x {r['ours'] / r['floor']:8.2f} "
            f"{r['hits']:8.2f} {r['slowest_ms']:10.1f} {r['cand']:10.0%} {r['evidence']:8.0%} "
            f"{'yes' if r['agree'] else 'NO':>5} {r['full']:11.0f} {r['evidence_ms']:6.3f}",
            flush=True,
        )
    if len(rows) > 1:
        import math

        a, b = rows[0], rows[-1]
        exp = math.log((1 / b["ours"]) / (1 / a["ours"])) / math.log(b["rules"] / a["rules"])
        print(
            f"time per document grows with exponent {exp:.2f} from {a['rules']} to {b['rules']} rules"
        )
    last = rows[-1]
    print(
        f"rules={last['rules']} docs_per_s={last['ours']:.0f} vs_naive={last['ours'] / last['naive']:.0f}x "
        f"agree={'yes' if all(r['agree'] for r in rows) else 'no'}"
    )
    return 0 if all(r["agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
