"""Scoring the shipped rules on the blind signal corpus (tests/corpus/eval/).

The corpus was written from the signal definitions alone (``SIGNALS.md``), never from the
rules, and split by a hash of each text's id into two halves before anyone read it:

- ``dev.yaml``: the half a rule writer may read (misses and false alerts are printed);
- ``test.yaml``: the half nobody tunes rules against. Only this script reads it, and for it
  only aggregate figures are printed — never a text, a title or an id.

Each entry is ``{id, lang, style, title, text, signals: [ids], may: [ids]}``; a signal id is
the id of the shipped rule for that signal, ``may`` holds borderline signals (a rule firing
for one is neither credited nor counted against).

Figures, over a half and per language:

- **recall**: texts with a signal on which a rule of one of its signals fired;
- **pair recall**: (text, labelled signal) pairs whose rule fired;
- **false-alert rate**: texts with no signal on which any rule fired;
- **attribution**: rules fired on texts with a signal that belong to a labelled signal
  (``may`` left out); and per signal, the share of its rule's firings on texts with a
  signal that are on texts labelled with it.

    python tests/signal_eval.py dev            # figures, per signal, and every miss
    python tests/signal_eval.py test           # figures only
    python tests/signal_eval.py test --record  # write the test half's figures to recorded.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "corpus" / "eval"
RECORDED = EVAL / "recorded.json"
HALVES = ("dev", "test")


@dataclass(frozen=True)
class Figures:
    texts: int
    positives: int
    negatives: int
    recall: float
    pair_recall: float
    false_alert_rate: float
    attribution: float


def load_half(half: str) -> list[dict]:
    if half not in HALVES:
        raise ValueError(f"unknown half {half!r}")
    return YAML(typ="safe").load((EVAL / f"{half}.yaml").read_text(encoding="utf-8"))


def fire_all(entries: list[dict], matcher=None) -> list[set[str]]:
    from monitor.matching import Matcher
    from monitor.models import Item
    from monitor.rules import load_rules

    if matcher is None:
        matcher = Matcher(load_rules([ROOT / "rules"]).active())
    return [
        {
            m.rule_id
            for m in matcher.match(
                Item(source="eval", key=e["id"], title=e["title"] or "", text=e["text"] or "")
            )
        }
        for e in entries
    ]


def figures(entries: list[dict], fired: list[set[str]]) -> Figures:
    pos = neg = caught = alerted = pairs = pairs_hit = attributed = attributable = 0
    for e, got in zip(entries, fired):
        want = set(e.get("signals") or ())
        may = set(e.get("may") or ())
        if want:
            pos += 1
            caught += bool(got & want)
            pairs += len(want)
            pairs_hit += len(got & want)
            counted = got - may
            attributable += len(counted | (got & want))
            attributed += len(got & want)
        else:
            neg += 1
            alerted += bool(got - may)
    return Figures(
        texts=len(entries),
        positives=pos,
        negatives=neg,
        recall=round(caught / pos, 3) if pos else 1.0,
        pair_recall=round(pairs_hit / pairs, 3) if pairs else 1.0,
        false_alert_rate=round(alerted / neg, 3) if neg else 0.0,
        attribution=round(attributed / attributable, 3) if attributable else 1.0,
    )


def by_language(entries: list[dict], fired: list[set[str]]) -> dict[str, Figures]:
    out = {"all": figures(entries, fired)}
    for lang in sorted({e["lang"] for e in entries}):
        idx = [i for i, e in enumerate(entries) if e["lang"] == lang]
        out[lang] = figures([entries[i] for i in idx], [fired[i] for i in idx])
    return out


def per_signal(
    entries: list[dict], fired: list[set[str]]
) -> dict[str, tuple[int, int, int, float]]:
    """signal → (true positives, false positives, misses, attribution) over a half. A
    signal's attribution: of the texts with a signal on which its rule fired (``may`` left
    out), the share labelled with it (its firing on texts with no signal is a false alert,
    counted by the false-alert rate)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    on_signal: Counter[str] = Counter()
    for e, got in zip(entries, fired):
        want = set(e.get("signals") or ())
        may = set(e.get("may") or ())
        for s in got & want:
            tp[s] += 1
        for s in got - want - may:
            fp[s] += 1
            on_signal[s] += bool(want)
        for s in want - got:
            fn[s] += 1
    return {
        s: (
            tp[s],
            fp[s],
            fn[s],
            round(tp[s] / (tp[s] + on_signal[s]), 3) if tp[s] + on_signal[s] else 1.0,
        )
        for s in sorted(set(tp) | set(fp) | set(fn))
    }


def _print_figures(half: str, figs: dict[str, Figures]) -> None:
    print(
        f"{half:5} {'lang':4} {'texts':>5} {'pos':>4} {'neg':>4} {'recall':>7} {'pairs':>7} "
        f"{'false':>7} {'attrib':>7}"
    )
    for lang, f in figs.items():
        print(
            f"{half:5} {lang:4} {f.texts:5} {f.positives:4} {f.negatives:4} {f.recall:7.3f} "
            f"{f.pair_recall:7.3f} {f.false_alert_rate:7.3f} {f.attribution:7.3f}"
        )


def main(argv: list[str]) -> int:
    half = argv[0] if argv else "dev"
    entries = load_half(half)
    fired = fire_all(entries)
    figs = by_language(entries, fired)
    _print_figures(half, figs)
    print(f"{'signal':42} {'tp':>3} {'fp':>3} {'fn':>3} {'attrib':>7}")
    for s, (tp, fp, fn, attrib) in per_signal(entries, fired).items():
        print(f"{s:42} {tp:3} {fp:3} {fn:3} {attrib:7.3f}")
    if half == "dev":
        for e, got in zip(entries, fired):
            want, may = set(e.get("signals") or ()), set(e.get("may") or ())
            missed, extra = want - got, got - want - may
            if missed or extra:
                print(
                    f"  {e['id']:8} {e['lang']} {e['style']:10} missed={sorted(missed)} "
                    f"extra={sorted(extra)}: {e['title'][:70]}"
                )
    if "--record" in argv:
        recorded = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
        recorded[half] = {lang: asdict(f) for lang, f in figs.items()}
        RECORDED.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n")
        print(f"recorded {half} in {RECORDED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
