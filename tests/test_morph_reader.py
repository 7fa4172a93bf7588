"""pymorphy3 reads its dictionaries with DAWG2's C extension where a wheel exists and with the
pure-Python dawg reader elsewhere: both must give every word the same analysis, since a rule's
needles are made from it and a document's tokens are looked up by it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT

_DUMP = r"""
import json, re, sys
if sys.argv[1] == "pure":
    sys.modules["dawg"] = None  # import dawg fails: pymorphy3 falls back to dawg_python
import pymorphy3.dawg
from monitor import morph
words = json.loads(sys.stdin.read())
print(json.dumps({
    "extension": pymorphy3.dawg.EXTENSION_AVAILABLE,
    "keys": [sorted(morph.lemma_keys(w)) for w in words],
    "needles": [list(morph.lexeme_needles(w)) for w in words[::7]],
    "lemmas": [morph.rule_lemma(w) for w in words[::7]],
}))
"""


def _words() -> list[str]:
    text = (ROOT / "tests" / "corpus" / "eval" / "dev.yaml").read_text(encoding="utf-8")
    found = sorted({w.lower() for w in re.findall(r"[а-яё]{2,}", text, re.I)})
    return found[::4]  # about 4,000 words, every kind of form


def _analyse(reader: str, words: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, reader],
        input=json.dumps(words),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=110,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_c_and_the_pure_python_dictionary_readers_analyse_every_word_alike():
    try:
        import dawg  # noqa: F401
    except ImportError:
        pytest.skip("DAWG2 has no wheel for this platform: only the pure-Python reader is here")
    words = _words()
    assert len(words) > 2000
    fast, pure = _analyse("fast", words), _analyse("pure", words)
    assert fast["extension"] is True and pure["extension"] is False
    assert fast["keys"] == pure["keys"]
    assert fast["needles"] == pure["needles"]
    assert fast["lemmas"] == pure["lemmas"]
    assert sum(1 for k in fast["keys"] if k) > 0.9 * len(words)  # the words were analysed
