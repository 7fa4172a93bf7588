"""Matcher throughput against the per-rule regex baseline and the scanning floor.

    .venv/bin/python benchmarks/matching.py [--corpus heldout|news|adversarial|all] [--docs 2000]
        [--sizes 10,100,1000,10000] [--seed 7] [--naive-seconds 8] [--wall]

Three reproducible corpora of ~4 KB texts (2,000 by default), each with matches planted in 10%
of the documents (one term of each group of a random rule, put between two words of two
random sentences), and rule sets of N rules, each ``all: [any: 3–8 words/phrases, any: 3–8
more]``. ``--corpus all`` (the default) prints the news-heldout table, then the
news-own-sentences one, then the adversarial one, and ends with
``rules=1000 docs_per_s=N vs_naive=Xx vs_floor=Y`` for the **news-heldout** corpus (with one
``--corpus``, for that corpus).

news-heldout (``--corpus heldout``; the headline, the realistic case): real text whose rules
  fire where matches are planted, as watch rules on a stream do — rarely. The method, fixed
  before anything was measured on it:
  - the pool (below) is split first: its sentences and its titles are each shuffled with
    ``random.Random("heldout-split/<seed>")`` and cut in two halves, A and B (2,160
    sentences and 641 titles each side, with the default seed);
  - documents are composed from half A only, exactly as for news-own-sentences;
  - rule terms are drawn from half B only, with the vocabulary, the kinds (words, names,
    2–3-word phrases), the shares and the 1/(texts matched) weights computed on half B as
    news-own-sentences computes them on the whole pool;
  - minus every term half A contains in a form the matcher accepts: a word (or name) none
    of whose stems (``textmod.term_stems``) is the stem of a token of A; a phrase whose run
    of stems never occurs as consecutive tokens of A (its words alone may: a phrase of
    common words is still a phrase to confirm). The rules are real words with real shapes —
    the prefix collisions of real language stay in — but fire only where a match is planted,
    or where a document happens to contain a term anyway (a phrase across two sentences).
    With seed 7 this removes 5,874 of 9,217 words, 645 of 837 names and 1,257 of 17,709
    phrases: 3,343 words (192 names) and 16,452 phrases remain. The naive baseline's
    alternations hold the forms of the whole pool (A and B), as for news-own-sentences.

news-own-sentences (``--corpus news``): rule terms drawn from the same sentences the
  documents are made of, so every term is in ~1% of documents or more and the rules fire
  densely (see below). The pool and the method:
  Pool: every feed of tests/fixtures/feeds parsed with ``monitor.sources.feed.parse_feed``
  (30 of the 31 parse; one fixture is deliberately no feed), each item's text split into
  sentences with ``monitor.text.sentences``, plus the sentences of the three briefs in
  seeds/; sentences of 4+ words and at most 600 characters, duplicates dropped: 4,320
  sentences, and 1,282 item titles. English mostly, some German, Portuguese, Kannada.
  Documents: a random item title, then sentences taken in turn from the shuffled pool
  (reshuffled when used up) until 3,700–4,500 bytes, in paragraphs of 2–6 sentences.
  Rule terms, the method fixed before any speed was measured and kept:
  - vocabulary: the tokens as the matcher sees them (``monitor.text.flat_of``); the 300
    commonest token types of the pool (the function words of its languages) are no terms;
    a content word is any other alphabetic type of 3+ letters (13,659); a name is one written
    with a capital in at least 80% of its mid-sentence occurrences, twice or more (1,470);
    a phrase is 2–3 consecutive alphabetic tokens of a pool text whose first and last are
    content words (33,945);
  - a term is a phrase (25%), else a name (35% of the rest), else a content word;
  - within its kind, a term is drawn with weight 1 / (the pool texts it matches in any
    form of its stems): rare and common terms both occur, but each frequency band
    contributes about equally to what fires, so rules are not about the commonest words
    (with weights ∝ √count, or uniform over types, a 1,000-rule set fired 70 and 39 times per
    document; this choice was made on that firing count alone).
  The naive baseline must find what stemming finds, so each word of a term is, in its
  regex, the alternation of every token of the pool with one of the word's stems (what an
  analyst writing regexes for "release" writes as release|released|releases|releasing);
  tokens are runs of letters and digits, as in the matcher (an underscore separates).

adversarial (``--corpus adversarial``): the earlier corpus, kept as a stress test. Sentences
  of English function words (45% of tokens) and pseudo-words (a Zipf-like common
  vocabulary, 2% topic words); rule terms are topic pseudo-words whose stems never merge.
  Short stems of rule words ("meldo", "bun") begin frequent unrelated pseudo-words
  ("meldon", "bungotbot"): ~50 such token occurrences per document, each stemmed and
  refused — far more than the news corpus has.

For each N it measures, in this one process:

- ours:   ``monitor.matching.Matcher`` (compile time, memory, documents per second). The
          matcher learns from the stream (the words that only begin like a rule stem, see
          ``monitor.matching.learner``), so it is measured as it runs in the daemon: first over a past
          stream — 2,000 other documents of the same corpus and rules (another seed) — whose
          rate is the "cold" column (noting what it learns as it goes); then what it
          learned is compiled in (``Matcher.refresh()``, the daemon's learn job every five
          minutes) and it is measured on the benchmark's documents, new to it;
- naive:  what feed readers do — one compiled Python ``re`` per rule, searched in turn
          (run on a sample of the documents, it is slow);
- floor:  only finding which literal terms occur: one ``re2.Set`` of every term
          (``\\bterm\\b``, case-insensitive, no inflected forms), no rule logic.

It checks that ours and the naive baseline fire the same rules on every document both ran,
and prints hits per document, the share of documents with a hit, and that share among the
documents with nothing planted ("unplanted"). The raw scan's one-time tables (~0.15 s a
process) are built before the first compile. "mem MB" is the growth of this process's RSS
over the compile and the runs — after earlier sizes it can be negative; measured alone in a
fresh process at 10,000 rules: news-heldout 84 MB after compiling, 118 MB after both
streams; news-own-sentences 115 / 349 MB (the scan's automaton: phrases read across two
tokens, on text where every phrase occurs); RE2's budget for it is capped at 256 MB.

Rates are per CPU-second of this process (``--wall`` for wall-clock time): the contenders run
one after another on one core, and CPU time keeps other work on a shared machine out of it.
Measured on the project machine (2 cores, November 2026), default arguments; rates move by
~5–15% between runs, the floor's more — read the vs-floor column ±0.02:

  news-heldout  rules  cold docs/s  ours docs/s  naive docs/s  floor docs/s  vs naive  vs floor  hits/doc
                   10        34338        41588         678.1         95088       61x      0.44      0.11
                  100        18842        31762          70.1         71809      453x      0.44      0.10
                 1000         5464        17196           6.9         42148     2480x      0.41      0.11
                10000         1798        10655           0.7         19491    15145x      0.55      0.15
  (100 → 10,000 falls 3.0x; 10,000 rules compile in 1.35 s. Three runs before, at 1,000
  rules: 16633 / 17118 / 17556 docs/s, 0.40 / 0.43 / 0.40 of the floor. The code before this
  design, alongside: 3715 docs/s, 0.09, falling 13.7x)
  (December 2026, the matcher as a package, ``--corpus heldout --sizes 1000 --naive-seconds 1``
  back to back with the code before on a busy machine, two rounds: ours 16985 / 17139 docs/s
  against 16941 / 16462 before. The cold column now rises, 7706 / 7878 against 5487 / 5465:
  matching no longer recompiles the set mid-stream, only ``refresh()`` does)

  news-own-sentences
                   10        27271        32650         654.4         93627       50x      0.35      0.16
                  100         7258         9274          67.5         60236      137x      0.15      0.69
                 1000          860         1208           6.8         12697      179x      0.10      6.40
                10000           89          121           0.7          3045      176x      0.04     61.70
  (the code before: 5878 / 1111 / 121 docs/s at 100 / 1,000 / 10,000 rules)

  adversarial      10        44035        52723         812.2        127664       65x      0.41      0.10
                  100        27665        38454          78.3        101556      491x      0.38      0.11
                 1000         6373        20243           7.5         61087     2688x      0.33      0.11
                10000         1885        10093           0.8         42549    13313x      0.24      0.22
  (the code before: 42416 / 22375 / 10139 docs/s)

How, at 1,000 rules on news-heldout (~58 µs a document against the floor's ~24):

- one scan of the item's raw text: ``scantext.raw_scan_bytes`` (UTF-8, ASCII flattened by a
  byte table, ~5 µs) and the set (~23 µs). The patterns take the common non-ASCII
  punctuation (General Punctuation, the Latin-1 signs, €) where the flat text has a space and
  a letter's capitals where it has the letter; one more pattern finds any other character
  the flat text changes (~3 µs of the scan), and those items (2 of 2,000 here) are scanned
  again from their flat text. Flattening every item first cost ~17 µs more.
- a phrase is one atom, its words on consecutive tokens (phrases of one first word share
  it). As word atoms (a phrase needed each of its words), real text made ~270 atoms present
  a document and ~25 rules reached, most only to fail their phrase: ~380 µs a document.
- learned exclusions: a stem atom such as `` pub`` begins "public", "published": ~27 such
  atoms a 4 KB document found, each a rule stem beginning a word of another stem. Refused
  once, each word's rest is compiled into the atom's pattern as a continuation to skip
  (exact: a word's stem never changes); after a past stream, 6 atoms a document are still
  found, and 0.14 rules a document are reached (0.11 fire).
- the 10% of documents with a hit cost ~160 µs each: their flat text (15 µs), confirming
  the stems found, the exact evaluation and the evidence (terms, spans, snippet, why).

At 10,000 rules the same holds (the scan ~50 µs): 100 → 10,000 rules falls 3x, where the
floor falls 3.7x. On news-own-sentences (every document fires 6 rules at 1,000, 62 at 10,000)
the exact evaluation of the candidates is the cost, as before; its 10,000-rule scan is the
slow part of that row (~250 µs: the phrase patterns, where every phrase occurs, make RE2's
automaton ~230 MB of states). The adversarial corpus has no phrases worth the name and its
pseudo-word stems were made never to begin a frequent word by accident, so there is little to
learn; its rate at 1,000 rules is ~10% below the code before (the raw scan's wider patterns)
and at 0.33 of the floor. Next idea for the phrase automaton: read the first word of a
phrase by its usual endings ("", s, ed, ing, er …) and give the other forms an atom of their
own, so a phrase's thread dies at the end of a word that is not one of its forms.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import sys
import time
from collections import Counter
from itertools import product
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import re2  # noqa: E402

from monitor import text as textmod  # noqa: E402
from monitor import process  # noqa: E402
from monitor.matching import Matcher, scantext  # noqa: E402
from monitor.models import Item  # noqa: E402
from monitor.rules import Group, Rule, Term  # noqa: E402

# consonant-vowel-consonant syllables: a word space about as sparse as a real language's
SYLLABLES = [
    a + v + b for a in "bdfgklmnprstvz" for v in "aeiou" for b in ["", "n", "r", "s", "l", "t"]
]


# function words make up about 45% of the tokens of English news text
FUNCTION_WORDS = """the of and to a in that is for on with as was by at it from he said his
be has are have an not but this which were had they who been will their its or after more
would also than about up one new two over when out into there year could first some other
last all her we she can no people can just only government so if against him them our
because between while before what may where under said during most such these those
""".split()


def lexicon(rng: random.Random, size: int, taken: set[str]) -> list[str]:
    """Pseudo-words whose stems are unique and not a stem-prefix of another's stem."""
    out: list[str] = []
    stems: set[str] = {textmod.stem(w) for w in taken}
    while len(out) < size:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        if w in taken:
            continue
        s = textmod.stem(w)
        if s in stems:
            continue
        taken.add(w)
        stems.add(s)
        out.append(w)
    return out


def zipf_weights(n: int) -> list[float]:
    return [1.0 / (i + 1) ** 1.05 for i in range(n)]


class AdversarialCorpus:
    """Pseudo-words: stems of rule words begin frequent unrelated words (see the docstring)."""

    name = "adversarial"

    def __init__(
        self,
        seed: int,
        n_docs: int,
        common: int = 6000,
        topic: int = 16000,
        topic_share: float = 0.02,
        planted_share: float = 0.1,
    ):
        self.rng = random.Random(seed)
        taken: set[str] = set(FUNCTION_WORDS)
        self.function = list(dict.fromkeys(FUNCTION_WORDS))
        self.function_weights = zipf_weights(len(self.function))
        self.common = lexicon(self.rng, common, taken)
        self.topic = lexicon(self.rng, topic, taken)
        self.common_weights = zipf_weights(common)
        self.n_docs = n_docs
        self.topic_share = topic_share
        self.planted_share = planted_share
        self.planted: set[int] = set()

    def describe(self) -> str:
        return "adversarial corpus: pseudo-words (function words 45%, Zipf-like common pseudo-words, 2% topic words)"

    def forms(self, word: str) -> list[str]:
        return [word]  # the lexicon has no two words of one stem

    def rules(self, n: int, seed: int) -> list[tuple[list[str], list[str]]]:
        rng = random.Random(seed * 1000 + n)

        def term() -> str:
            if rng.random() < 0.2:
                return f"{rng.choice(self.topic)} {rng.choice(self.topic)}"
            return rng.choice(self.topic)

        return [
            ([term() for _ in range(rng.randint(3, 8))], [term() for _ in range(rng.randint(3, 8))])
            for _ in range(n)
        ]

    def docs(self, rules: list[tuple[list[str], list[str]]], seed: int) -> list[Item]:
        rng = random.Random(seed)
        docs = []
        self.planted = set()
        for d in range(self.n_docs):
            words: list[str] = []
            target = rng.randint(600, 680)
            n_function = int(target * 0.45)
            n_topic = int(target * self.topic_share)
            words = rng.choices(self.function, weights=self.function_weights, k=n_function)
            words += rng.choices(
                self.common, weights=self.common_weights, k=target - n_function - n_topic
            )
            words += rng.choices(self.topic, k=n_topic)
            rng.shuffle(words)
            if rules and rng.random() < self.planted_share:
                a, b = rng.choice(rules)
                self.planted.add(d)
                for phrase in (rng.choice(a), rng.choice(b)):
                    pos = rng.randrange(len(words))
                    words[pos:pos] = phrase.split()
            sentences, i = [], 0
            while i < len(words):
                n = rng.randint(8, 24)
                chunk = words[i : i + n]
                i += n
                if len(chunk) > 4 and rng.random() < 0.4:
                    chunk[rng.randrange(1, len(chunk) - 1)] += ","
                s = " ".join(chunk)
                sentences.append(s[0].upper() + s[1:] + rng.choice(".....!?"))
            body = " ".join(sentences)
            title = " ".join(words[:8]).capitalize()
            docs.append(Item(source="bench", key=str(d), title=title, text=body))
        return docs


ROOT = Path(__file__).resolve().parents[1]
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
SEEDS = ROOT / "seeds"


def _sentences(text: str) -> list[str]:
    """Whole sentences of a text (the project's splitter), on one line, 4 words to 600 chars."""
    out = []
    for s, e in textmod.sentences(text):
        sent = " ".join(text[s:e].split())
        if len(sent.split()) >= 4 and len(sent) <= 600:
            out.append(sent)
    return out


_POOL: tuple[int, list[str], list[str]] | None = None


def load_pool() -> tuple[int, list[str], list[str]]:
    """(feeds parsed, item titles, sentences) of the repository's feed fixtures and briefs."""
    global _POOL
    if _POOL is None:
        from monitor.sources.feed import parse_feed  # the project's own parser

        feeds = 0
        titles: list[str] = []
        sentences: list[str] = []
        for path in sorted(FEEDS.iterdir()):
            if path.suffix not in (".rss", ".atom"):
                continue
            try:
                feed = parse_feed(path.read_bytes(), source=path.stem)
            except Exception:  # noqa: BLE001 — one fixture is deliberately no feed at all
                continue
            feeds += 1
            for item in feed.items:
                title = " ".join(item.title.split())
                if len(title.split()) >= 2:
                    titles.append(title)
                sentences += _sentences(item.text)
        for path in sorted(SEEDS.glob("*.txt")):
            sentences += _sentences(path.read_text(encoding="utf-8"))
        _POOL = (feeds, list(dict.fromkeys(titles)), list(dict.fromkeys(sentences)))
    return _POOL


class NewsCorpus:
    """Documents of real sentences from the feeds and briefs in the repository (see the docstring).

    ``heldout=False`` ("news-own-sentences"): rule terms from the same texts the documents
    are made of. ``heldout=True`` ("news-heldout"): the pool split in two first; documents
    from half A, rule terms from half B minus every term half A contains.
    """

    STOP_TYPES = 300  # the commonest token types of the pool: function words, no rule terms
    PHRASE_SHARE = 0.25  # a term is a 2–3-word phrase …
    NAME_SHARE = 0.35  # … else a name (capitalised mid-sentence) … else any content word
    WEIGHT_POWER = -1.0  # a term is drawn with weight (pool texts it matches) ** WEIGHT_POWER

    def __init__(self, seed: int, n_docs: int, planted_share: float = 0.1, heldout: bool = False):
        self.n_docs = n_docs
        self.planted_share = planted_share
        self.planted: set[int] = set()
        self.heldout = heldout
        self.name = "news-heldout" if heldout else "news-own-sentences"
        self.feeds, all_titles, all_sentences = load_pool()
        self.excluded = (0, 0, 0)
        if heldout:
            # the split comes first: seeded, sentences and titles each halved at random
            split = random.Random(f"heldout-split/{seed}")
            sents, tits = all_sentences[:], all_titles[:]
            split.shuffle(sents)
            split.shuffle(tits)
            self.sentences, b_sentences = sents[: len(sents) // 2], sents[len(sents) // 2 :]
            self.titles, b_titles = tits[: len(tits) // 2], tits[len(tits) // 2 :]
            vocab_texts = b_sentences + b_titles
            # half A as the matcher sees it: the stem of every token, and every run of 2–3 stems
            a_stems: set[str] = set()
            a_runs: set[tuple[str, ...]] = set()
            for t in self.sentences + self.titles:
                st = [textmod.stem(w) for w in textmod.flat_of(t).split()]
                a_stems.update(st)
                for n in (2, 3):
                    a_runs.update(tuple(st[i : i + n]) for i in range(len(st) - n + 1))
        else:
            self.sentences, self.titles = all_sentences, all_titles
            vocab_texts = self.sentences + self.titles

        # vocabulary: flat tokens (as the matcher sees them), with their cased forms
        counts: Counter[str] = Counter()
        cased: dict[str, Counter[str]] = {}
        upper_mid: Counter[str] = Counter()
        lower_mid: Counter[str] = Counter()
        tokenised: list[list[tuple[str, str]]] = []
        for sent in vocab_texts:
            low = textmod.flat_of(sent).split()
            cas = sent.translate(textmod.FLAT_CASED_TABLE).split()
            if len(cas) != len(low):
                cas = low
            toks = list(zip(low, cas))
            tokenised.append(toks)
            for i, (w, c) in enumerate(toks):
                counts[w] += 1
                cased.setdefault(w, Counter())[c] += 1
                if i > 0:
                    if c[:1].isupper():
                        upper_mid[w] += 1
                    else:
                        lower_mid[w] += 1
        self.vocabulary = len(counts)
        stop = {w for w, _ in counts.most_common(self.STOP_TYPES)}

        def content(w: str) -> bool:
            return w.isalpha() and len(w) >= 3 and w not in stop

        words = sorted(w for w in counts if content(w))
        names = [w for w in words if upper_mid[w] >= 2 and upper_mid[w] >= 4 * lower_mid[w]]
        phrases: Counter[tuple[str, ...]] = Counter()
        display: dict[tuple[str, ...], str] = {}
        for toks in tokenised:
            for n in (2, 3):
                for i in range(len(toks) - n + 1):
                    win = toks[i : i + n]
                    if (
                        content(win[0][0])
                        and content(win[-1][0])
                        and all(w.isalpha() for w, _ in win)
                    ):
                        key = tuple(w for w, _ in win)
                        phrases[key] += 1
                        display.setdefault(key, " ".join(c for _, c in win))
        if heldout:
            # no term half A contains, in any form the matcher accepts: a word none of whose
            # stems is the stem of a token of A; a phrase whose run of stems A never has
            def in_a(key: tuple[str, ...]) -> bool:
                if len(key) == 1:
                    return not a_stems.isdisjoint(textmod.term_stems(key[0]))
                return any(run in a_runs for run in product(*map(textmod.term_stems, key)))

            before = (len(words), len(names), len(phrases))
            words = [w for w in words if not in_a((w,))]
            names = [w for w in names if not in_a((w,))]
            phrases = Counter({k: n for k, n in phrases.items() if not in_a(k)})
            self.excluded = (
                before[0] - len(words),
                before[1] - len(names),
                before[2] - len(phrases),
            )
        # how many texts of the pool a term matches in (any form of its stems): its weight
        stem_of = {w: textmod.stem(w) for w in counts}
        family: Counter[str] = Counter()
        for toks in tokenised:
            family.update({stem_of[w] for w, _ in toks})
        phrase_texts: Counter[tuple[str, ...]] = Counter()
        for key, n in phrases.items():
            phrase_texts[tuple(stem_of[w] for w in key)] += n

        def weight(n: int) -> float:
            return n**self.WEIGHT_POWER

        self.display = {w: cased[w].most_common(1)[0][0] for w in words}
        self.words, self.word_weights = words, [weight(family[stem_of[w]]) for w in words]
        self.names, self.name_weights = names, [weight(family[stem_of[w]]) for w in names]
        keys = sorted(phrases)
        self.phrases = [display[k] for k in keys]
        self.phrase_weights = [weight(phrase_texts[tuple(stem_of[w] for w in k)]) for k in keys]
        # every token form of the whole pool, by stem: what a word of a rule matches in this corpus
        self._by_stem: dict[str, set[str]] = {}
        for t in all_sentences + all_titles:
            for w in textmod.flat_of(t).split():
                self._by_stem.setdefault(textmod.stem(w), set()).add(w)

    def describe(self) -> str:
        n_seeds = len(list(SEEDS.glob("*.txt")))
        if self.heldout:
            return (
                f"news-heldout corpus (the realistic case): documents from half A of the pool "
                f"({len(self.sentences)} sentences, {len(self.titles)} titles of {self.feeds} feeds and "
                f"{n_seeds} briefs); rule terms from half B, minus what A contains "
                f"(-{self.excluded[0]} words, -{self.excluded[1]} names, -{self.excluded[2]} phrases): "
                f"{len(self.words)} content words ({len(self.names)} names) and {len(self.phrases)} phrases"
            )
        return (
            f"news-own-sentences corpus (rule terms from the documents' own sentences: dense firing): "
            f"{len(self.sentences)} sentences and {len(self.titles)} titles of "
            f"{self.feeds} feeds in tests/fixtures/feeds and the {n_seeds} briefs in seeds/; "
            f"rule terms from {len(self.words)} content words ({len(self.names)} names) "
            f"and {len(self.phrases)} phrases"
        )

    def forms(self, word: str) -> list[str]:
        """The tokens of the pool a rule word matches (same stem): the baseline's alternation."""
        out = {word}
        for s in textmod.term_stems(word):
            out |= self._by_stem.get(s, set())
        return sorted(out, key=lambda f: (-len(f), f))

    def rules(self, n: int, seed: int) -> list[tuple[list[str], list[str]]]:
        rng = random.Random(seed * 1000 + n)

        def term() -> str:
            r = rng.random()
            if r < self.PHRASE_SHARE:
                return rng.choices(self.phrases, weights=self.phrase_weights)[0]
            if r < self.PHRASE_SHARE + (1 - self.PHRASE_SHARE) * self.NAME_SHARE:
                return self.display[rng.choices(self.names, weights=self.name_weights)[0]]
            return self.display[rng.choices(self.words, weights=self.word_weights)[0]]

        return [
            ([term() for _ in range(rng.randint(3, 8))], [term() for _ in range(rng.randint(3, 8))])
            for _ in range(n)
        ]

    def docs(self, rules: list[tuple[list[str], list[str]]], seed: int) -> list[Item]:
        rng = random.Random(seed)
        order = list(range(len(self.sentences)))
        rng.shuffle(order)
        pos = 0
        docs = []
        self.planted = set()
        for d in range(self.n_docs):
            target = rng.randint(3700, 4500)
            body: list[str] = []
            size = 0
            while size < target:
                if pos == len(order):
                    rng.shuffle(order)
                    pos = 0
                sent = self.sentences[order[pos]]
                pos += 1
                body.append(sent)
                size += len(sent.encode()) + 1
            if rules and rng.random() < self.planted_share:
                a, b = rng.choice(rules)
                self.planted.add(d)
                for phrase in (rng.choice(a), rng.choice(b)):
                    i = rng.randrange(len(body))
                    words = body[i].split(" ")
                    k = rng.randint(1, len(words))
                    words[k:k] = [phrase]
                    body[i] = " ".join(words)
            paragraphs, i = [], 0
            while i < len(body):
                n = rng.randint(2, 6)
                paragraphs.append(" ".join(body[i : i + n]))
                i += n
            docs.append(
                Item(
                    source="bench",
                    key=str(d),
                    title=rng.choice(self.titles),
                    text="\n\n".join(paragraphs),
                )
            )
        return docs


def make_rules(spec: list[tuple[list[str], list[str]]]) -> list[Rule]:
    def group(terms: list[str]) -> Group:
        return Group(
            "any", tuple(Term(text=t, words=tuple(textmod.words(t)), scope="both") for t in terms)
        )

    return [
        Rule(
            id=f"r{i}",
            title=f"rule {i}",
            severity="medium",
            match=Group("all", (group(a), group(b))),
            path="bench",
        )
        for i, (a, b) in enumerate(spec)
    ]


def naive_patterns(spec: list[tuple[list[str], list[str]]], forms) -> list[tuple[str, re.Pattern]]:
    """One regex per rule; each word of a term is the alternation of its forms in the corpus."""

    def word(w: str) -> str:
        fs = forms(w)
        return re.escape(fs[0]) if len(fs) == 1 else "(?:" + "|".join(map(re.escape, fs)) + ")"

    def alt(terms: list[str]) -> str:
        return "|".join(r"[\W_]+".join(map(word, textmod.words(t))) for t in terms)

    # a token is a run of letters and digits (an underscore separates, as in the matcher)
    start, end = r"(?<![^\W_])", r"(?![^\W_])"
    return [
        (
            f"r{i}",
            re.compile(
                rf"\A(?=.*?{start}(?:{alt(a)}){end})(?=.*?{start}(?:{alt(b)}){end})", re.I | re.S
            ),
        )
        for i, (a, b) in enumerate(spec)
    ]


def floor_set(spec: list[tuple[list[str], list[str]]]):
    terms = sorted({tuple(textmod.words(t)) for a, b in spec for t in a + b})
    options = re2.Options()
    options.max_mem = 1 << 30
    options.case_sensitive = False
    s = re2.Set.SearchSet(options)
    for t in terms:
        s.Add(r"\b" + r"\W+".join(re2.escape(w) for w in t) + r"\b")
    s.Compile()
    return s, len(terms)


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# CPU time of this process by default (see the module docstring); --wall for wall-clock
CLOCK = time.process_time


def timed(fn, items, min_seconds: float = 0.0, max_seconds: float | None = None):
    """Run fn over items (repeating to last min_seconds); (results of first pass, items/s, n)."""
    results = []
    t0 = CLOCK()
    n = 0
    for it in items:
        results.append(fn(it))
        n += 1
        if max_seconds is not None and CLOCK() - t0 > max_seconds:
            break
    elapsed = CLOCK() - t0
    while elapsed < min_seconds:
        for it in items:
            fn(it)
            n += 1
        elapsed = CLOCK() - t0
    return results, n / elapsed, len(results)


def run(n_rules: int, corpus, seed: int, naive_seconds: float) -> dict:
    spec = corpus.rules(n_rules, seed)
    # a past stream: other documents of the same corpus and rules (another seed)
    past = corpus.docs(spec, seed + n_rules + 7919)
    docs = corpus.docs(spec, seed + n_rules)  # (last: corpus.planted is theirs)
    rules = make_rules(spec)

    gc.collect()
    before = rss_mb()
    t0 = CLOCK()
    with process.compiling(freeze=True):  # as the daemon loads rules at start
        matcher = Matcher(rules)
    compile_s = CLOCK() - t0
    process.settle(collect=False)  # as the daemon at start
    mem = rss_mb() - before

    # cold: the past stream, the matcher noting the words that begin like its stems as it
    # goes (compiled in only by refresh(), as in the daemon)
    _, cold_rate, _ = timed(matcher.match, past)
    # what it learned compiled in, as the daemon's learn job does every few minutes; then
    # the measured stream, new documents, warmed with 200 of them
    matcher.refresh()
    process.trim_heap()
    for d in docs[:200]:
        matcher.match(d)
    ours, ours_rate, _ = timed(
        lambda d: {m.rule_id for m in matcher.match(d)}, docs, min_seconds=2.0
    )
    mem_after = rss_mb() - before

    naive = naive_patterns(spec, corpus.forms)
    texts = [d.document for d in docs]
    naive_hits, naive_rate, naive_n = timed(
        lambda t: {rid for rid, p in naive if p.search(t)}, texts, max_seconds=naive_seconds
    )
    naive_n = max(naive_n, 1)

    fset, n_terms = floor_set(spec)
    for t in texts[:200]:
        fset.Match(t)
    _, floor_rate, _ = timed(fset.Match, texts, min_seconds=1.0)

    disagree = [i for i in range(naive_n) if ours[i] != naive_hits[i]]
    return {
        "rules": n_rules,
        "terms": n_terms,
        "atoms": matcher.atom_count,
        "compile_s": compile_s,
        "mem_mb": max(mem, mem_after),
        "ours": ours_rate,
        "cold": cold_rate,
        "learned": matcher.excluded_count,
        "naive": naive_rate,
        "naive_docs": naive_n,
        "floor": floor_rate,
        "hits_per_doc": sum(map(len, ours)) / len(ours),
        "docs_with_hits": sum(1 for h in ours if h) / len(ours),
        "disagree": disagree,
        "unplanted_hit": (
            sum(1 for i, h in enumerate(ours) if h and i not in corpus.planted)
            / max(1, len(ours) - len(corpus.planted))
        ),
        "bytes": sum(len(t.encode()) for t in texts) / len(texts),
    }


def table(corpus, rows: list[dict], args) -> bool:
    print(f"== {corpus.describe()}")
    print(
        f"   {args.docs} docs, {rows[0]['bytes'] / 1024:.1f} KB average; seed {args.seed}; "
        f"rates are documents per {'wall-clock' if args.wall else 'CPU'} second of this one process"
    )
    header = (
        f"{'rules':>6} {'terms':>6} {'compile s':>9} {'mem MB':>7} {'cold docs/s':>11} {'ours docs/s':>11} "
        f"{'naive docs/s':>12} {'(docs)':>6} {'floor docs/s':>12} {'vs naive':>9} {'vs floor':>8} "
        f"{'hits/doc':>8} {'docs hit':>8} {'unplanted':>9} {'agree':>6}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for r in rows:
        agree = "yes" if not r["disagree"] else f"NO({len(r['disagree'])})"
        ok &= not r["disagree"]
        print(
            f"{r['rules']:>6} {r['terms']:>6} {r['compile_s']:>9.3f} {r['mem_mb']:>7.1f} {r['cold']:>11.0f} {r['ours']:>11.0f} "
            f"{r['naive']:>12.1f} {r['naive_docs']:>6} {r['floor']:>12.0f} {r['ours'] / r['naive']:>8.0f}x "
            f"{r['ours'] / r['floor']:>8.2f} {r['hits_per_doc']:>8.2f} {r['docs_with_hits']:>8.0%} "
            f"{r['unplanted_hit']:>9.0%} {agree:>6}"
        )
    by = {r["rules"]: r for r in rows}
    if 100 in by and 10000 in by:
        print(f"throughput 100 → 10,000 rules falls {by[100]['ours'] / by[10000]['ours']:.1f}x")
    if not ok:
        print(
            "DISAGREEMENT between matcher and baseline:",
            {r["rules"]: r["disagree"][:10] for r in rows if r["disagree"]},
        )
    print()
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--corpus",
        choices=("heldout", "news", "adversarial", "all"),
        default="all",
        help="heldout: real sentences, rule terms from held-out sentences (the headline); "
        "news: rule terms from the documents' own sentences; adversarial: pseudo-words",
    )
    ap.add_argument(
        "--naive-seconds",
        type=float,
        default=8.0,
        help="time budget of the naive baseline per size",
    )
    ap.add_argument(
        "--wall", action="store_true", help="measure wall-clock time instead of CPU time"
    )
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter

    kinds = ["heldout", "news", "adversarial"] if args.corpus == "all" else [args.corpus]
    scantext.raw_scan_unsafe()  # the raw scan's one-time tables, not in a compile
    ok = True
    results = {}
    for kind in kinds:
        if kind == "adversarial":
            corpus = AdversarialCorpus(args.seed, args.docs)
        else:
            corpus = NewsCorpus(args.seed, args.docs, heldout=(kind == "heldout"))
        rows = [run(int(n), corpus, args.seed, args.naive_seconds) for n in args.sizes.split(",")]
        ok &= table(corpus, rows, args)
        results[kind] = rows
    rows = results[kinds[0]]  # the held-out corpus when it ran: the headline figure
    by = {r["rules"]: r for r in rows}
    key = by.get(1000) or rows[-1]
    print(
        f"rules={key['rules']} docs_per_s={key['ours']:.0f} vs_naive={key['ours'] / key['naive']:.0f}x "
        f"vs_floor={key['ours'] / key['floor']:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
