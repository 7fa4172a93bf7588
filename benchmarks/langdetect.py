"""Item language detection, measured: accuracy on short headlines and mixed texts.

Candidates: the stop-word heuristic this project used before, lingua-language-detector
(high- and low-accuracy modes) and py3langid, each restricted to the languages the
matcher may be asked about. Data: ``benchmarks/data/languages.tsv`` (hand-written
six-word headlines in 14 languages; Russian texts with Ukrainian names and words in them;
English texts quoting Russian) and, when present, the dev half of the blind signal corpus
(titles alone, and whole texts). Prints, per set, the share detected right and how many were detected wrong (a
wrong answer makes a rule limited to languages skip the item; "don't know" does not), the
time per call and the memory the detector added.

    .venv/bin/python benchmarks/langdetect.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODES = "en ru uk be bg sr de fr es it pt tr nl hy ka az".split()


def _heuristic():
    # the detector as it was (script, then common words), from the project's history
    import subprocess

    old = subprocess.run(
        ["git", "show", "83219f4:monitor/langdetect.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    space: dict = {"__name__": "old_langdetect"}
    exec(compile(old, "old_langdetect", "exec"), space)
    return space["detect_language"]


def _lingua(low: bool):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in CODES]
    b = LanguageDetectorBuilder.from_languages(*langs)
    if low:
        b = b.with_low_accuracy_mode()
    d = b.build()

    def detect(text: str) -> str | None:
        got = d.detect_language_of(text)
        return got.iso_code_639_1.name.lower() if got else None

    return detect


def _langid():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
    ident.set_languages(CODES)
    return lambda text: ident.classify(text)[0]


def _monitor():
    from monitor.langdetect import detect_language

    return detect_language


def data() -> dict[str, list[tuple[str, str]]]:
    sets: dict[str, list[tuple[str, str]]] = {"headlines": [], "mixed": []}
    for line in (ROOT / "benchmarks/data/languages.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        lang, text = line.split("\t", 1)
        sets["mixed" if len(text.split()) > 8 else "headlines"].append((lang, text))
    dev = ROOT / "tests/corpus/eval/dev.yaml"
    if dev.exists():
        from ruamel.yaml import YAML

        entries = YAML(typ="safe").load(dev.read_text(encoding="utf-8"))
        sets["corpus titles"] = [(e["lang"], e["title"]) for e in entries if e["title"].strip()]
        sets["corpus texts"] = [(e["lang"], f"{e['title']}\n\n{e['text']}") for e in entries]
    return sets


def main() -> None:
    sets = data()
    which = {
        "before (heuristic)": _heuristic,
        "lingua high": lambda: _lingua(False),
        "lingua low": lambda: _lingua(True),
        "py3langid": _langid,
        "monitor now": _monitor,
    }
    only = sys.argv[1:]
    print(
        f"{'detector':20} "
        + " ".join(f"{k[:14]:>14}" for k in sets)
        + f" {'µs/call':>8} {'load s':>7}"
    )
    for name, make in which.items():
        if only and name not in only:
            continue
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        detect = make()
        detect("warm up the models: Baku и Москва")
        load = time.perf_counter() - t
        cells, n, spent = [], 0, 0.0
        for rows in sets.values():
            t = time.perf_counter()
            got = [detect(text) for _, text in rows]
            spent += time.perf_counter() - t
            n += len(rows)
            ok = sum(g == lang for g, (lang, _) in zip(got, rows))
            wrong = sum(g is not None and g != lang for g, (lang, _) in zip(got, rows))
            cells.append(f"{ok / len(rows):.3f} ({wrong} wrong)")
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        print(
            f"{name:20} "
            + " ".join(f"{c:>14}" for c in cells)
            + f" {spent / n * 1e6:8.0f} {load:7.2f}  (+{grown:.0f} MB)"
        )


if __name__ == "__main__":
    main()
