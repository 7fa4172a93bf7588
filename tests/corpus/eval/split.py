"""Split the blind corpus into its two halves, once, before anyone reads it.

    python tests/corpus/eval/split.py incoming/*.yaml
    python tests/corpus/eval/split.py --dev incoming2/*.yaml   # a later batch, all for dev

Each text goes to ``dev.yaml`` or ``test.yaml`` by the first byte of the SHA-256 of its id
(even: dev), so the split depends on nothing a reader could choose. Entries are checked
(languages, styles, signal ids known to SIGNALS.md) and written in a stable order; the
counts per half, language and signal are printed — never a text.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
STYLES = {
    "headline",
    "brief",
    "wire",
    "analysis",
    "liveblog",
    "transcript",
    "telegram",
    "longread",
    "digest",
}


def half_of(entry_id: str) -> str:
    return "dev" if hashlib.sha256(entry_id.encode()).digest()[0] % 2 == 0 else "test"


def main(paths: list[str]) -> int:
    """``--dev``: a later blind batch, written after the test half was fixed, goes to the dev
    half whole (appended): the test half stays the one split before anyone read anything."""
    dev_only = "--dev" in paths
    paths = [p for p in paths if p != "--dev"]
    known = set(re.findall(r"^### `([a-z0-9-]+)`", (HERE / "SIGNALS.md").read_text(), re.M))
    yaml = YAML(typ="safe")
    halves: dict[str, list[dict]] = {"dev": [], "test": []}
    if dev_only:
        halves = {"dev": list(yaml.load((HERE / "dev.yaml").read_text(encoding="utf-8")))}
    seen: set[str] = {e["id"] for h in halves.values() for e in h}
    for p in paths:
        for e in yaml.load(Path(p).read_text(encoding="utf-8")):
            entry = {
                "id": str(e["id"]),
                "lang": e["lang"],
                "style": e.get("style") if e.get("style") in STYLES else "brief",
                "title": str(e.get("title") or ""),
                "text": str(e.get("text") or ""),
                "signals": sorted(e.get("signals") or []),
                "may": sorted(set(e.get("may") or []) - set(e.get("signals") or [])),
            }
            unknown = (set(entry["signals"]) | set(entry["may"])) - known
            if entry["id"] in seen or entry["lang"] not in ("en", "ru") or unknown:
                sys.exit(
                    f"{p}: bad entry {entry['id']}: duplicate, language or signals {sorted(unknown)}"
                )
            seen.add(entry["id"])
            halves["dev" if dev_only else half_of(entry["id"])].append(entry)
    out = YAML()
    out.default_flow_style = None
    out.width = 100
    for half, entries in halves.items():
        entries.sort(key=lambda x: x["id"])
        with (HERE / f"{half}.yaml").open("w", encoding="utf-8") as f:
            f.write(f"# The {half} half of the blind signal corpus (see tests/signal_eval.py).\n")
            if half == "test":
                f.write(
                    "# Nobody edits rules against this file: only tests/signal_eval.py reads it.\n"
                )
            out.dump(entries, f)
        langs = Counter(e["lang"] for e in entries)
        sigs = Counter(s for e in entries for s in e["signals"])
        neg = sum(not e["signals"] for e in entries)
        print(
            f"{half}: {len(entries)} texts ({dict(langs)}), {neg} negatives; per signal {dict(sorted(sigs.items()))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
