"""The rules' analysed words kept on disk between processes (monitor.matching.wordparts): a
second process compiles the same rules without analysing a word, fires the same rules, and a
cache file that is broken, foreign or for other code is never trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# a fresh process: load the config, compile (reading and writing the cache as the daemon
# does), and print how many words it analysed and which rules fire on each text
_RUN = r"""
import json, logging, sys
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
from monitor.pipeline import Runtime
from monitor.matching import wordparts
from monitor.models import Item
runtime = Runtime.load(sys.argv[1])
texts = json.loads(sys.argv[2])
fired = [sorted(m.rule_id for m in runtime.matcher.match(Item(source="t", key=str(i), title="",
         text=t))) for i, t in enumerate(texts)]
print(json.dumps({"made": wordparts.made(), "fired": fired, "file": str(wordparts.cache_file())}))
"""

TEXTS = [
    "Баку согласился освободить задержанных граждан России, сообщил МИД.",
    "Azerbaijan agreed to release the jailed Russian citizens, the ministry said.",
    "Ереван отказал в экстрадиции Рубена Татуляна, заявила Генпрокуратура.",
    "The weather in Baku was sunny on Tuesday.",
]


RULES = """\
rules:
  - id: release
    title: Release of the jailed Russians
    match:
      all:
        - any: [освободить, отпустить, release, free, "hand over"]
        - any: [граждане России, россиянин, Russian citizens, Russians]
    examples:
      match: [Баку освободит граждан России, Baku will release the Russian citizens]
      no_match: [Баку освободил площадь]
  - id: extradition
    title: Extradition refused
    match:
      all:
        - any: [экстрадиция, выдача, extradition, extradite]
        - any: [отказать, отклонить, refuse, reject, deny]
    examples:
      match: [Ереван отказал в экстрадиции, Armenia refused the extradition]
      no_match: [экстрадиция обсуждается]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The default config with two small rules of its own (fast to compile)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "watch.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(
        (ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return tmp_path


def _run(project: Path, cache: Path | str) -> tuple[dict, str]:
    env = {**os.environ, "MONITOR_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(project / "config.yaml"), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=110,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_a_second_process_analyses_no_word_and_fires_the_same_rules(project, tmp_path):
    cache = tmp_path / "cache"
    first, _ = _run(project, cache)
    assert first["made"] == 0  # written: nothing left unsaved
    written = Path(first["file"])
    assert written.parent == cache and written.exists()
    assert oct(written.stat().st_mode & 0o777) == "0o600"
    assert len(json.loads(written.read_text(encoding="utf-8"))["terms"]) > 10

    off, _ = _run(project, "off")  # nothing on disk: every word analysed
    assert off["made"] > 10
    second, _ = _run(project, cache)
    assert second["made"] == 0
    assert second["fired"] == off["fired"] == first["fired"]
    assert second["fired"][0] and second["fired"][1] and second["fired"][2]
    assert second["fired"][3] == []


def test_an_edited_rule_word_is_analysed_and_added(project, tmp_path):
    cache = tmp_path / "cache"
    _run(project, cache)
    rule = project / "rules" / "extra.yaml"
    rule.write_text(
        "rules:\n  - id: grain-extra\n    title: Grain\n    match:\n      any: [пшеничный]\n"
        "    examples:\n      match: [пшеничные поставки]\n      no_match: [поставки]\n",
        encoding="utf-8",
    )
    got, _ = _run(project, cache)
    assert got["made"] == 0  # the new word analysed, then written with the rest
    terms = json.loads(Path(got["file"]).read_text(encoding="utf-8"))["terms"]
    assert ["пшеничный"] in [t[0] for t in terms]


@pytest.mark.parametrize(
    "damage",
    [
        "not json at all {",
        '{"format": 1, "terms": [[["освободить"], false, false, false, [["l", ["=x"], []]]]]}',
        '{"format": 1, "terms": [[["освободить"], false, false, false, [["?", "x", [" x"]]]]]}',
        '{"format": 99, "terms": []}',
        "[1, 2, 3]",
    ],
)
def test_a_damaged_cache_is_ignored_reported_and_rewritten(project, tmp_path, damage):
    cache = tmp_path / "cache"
    clean, _ = _run(project, cache)
    path = Path(clean["file"])
    path.write_text(damage, encoding="utf-8")
    got, err = _run(project, cache)
    assert "could not be read" in err and str(path) in err
    assert got["fired"] == clean["fired"]
    assert len(json.loads(path.read_text(encoding="utf-8"))["terms"]) > 10  # rewritten


def test_a_cache_others_may_write_is_not_read(project, tmp_path):
    cache = tmp_path / "cache"
    clean, _ = _run(project, cache)
    path = Path(clean["file"])
    data = json.loads(path.read_text(encoding="utf-8"))
    for t in data["terms"]:  # a planted file that would make every Russian word miss
        t[4] = [[k, ["=planted"] if k == "l" else v, n] for k, v, n in t[4]]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o666)
    got, err = _run(project, cache)
    assert "not this user's own file" in err
    assert got["fired"] == clean["fired"]


def test_a_cache_for_other_code_is_not_read_and_is_removed(project, tmp_path):
    cache = tmp_path / "cache"
    clean, _ = _run(project, cache)
    stale = cache / "term-parts-0123456789abcdef0000.json"
    stale.write_text('{"format": 1, "terms": []}', encoding="utf-8")
    rule = project / "rules" / "extra.yaml"  # a new word: the cache is written again
    rule.write_text(
        "rules:\n  - id: grain-extra\n    title: Grain\n    match:\n      any: [ячменный]\n"
        "    examples:\n      match: [ячменные поставки]\n      no_match: [поставки]\n",
        encoding="utf-8",
    )
    _run(project, cache)
    assert not stale.exists()
    assert Path(clean["file"]).exists()
