"""The parts of a rule term, as the compiler makes them, kept by the term's content.

    term (words, exact, case, prefix) ─► parts: per word its kind, its stems or lemma keys,
                                          and the needles every form of it begins with

Most of compiling is here: a Russian word is analysed (its readings, its lemma, every form
of its lexeme for the needles) at about half a millisecond a word. The parts depend only on
the term's content and on the code and dictionaries that make them, so they are kept for the
process, bounded, and shared by every compile: a reload, ``rules test``, the web pages'
matchers, the examples checked at load. A changed term is another key: it is analysed afresh.

They are also kept on disk between processes (``read_cache`` / ``write_cache``, called
around the daemon's compiles), so a restart does not analyse the same words again:

    $MONITOR_CACHE_DIR, else $CACHE_DIRECTORY (systemd's CacheDirectory=), else
    $XDG_CACHE_HOME or ~/.cache, + /signal-monitor/term-parts-<fingerprint>.json

The fingerprint is a digest of the modules that make parts and of the analysers' versions:
any change to them is another file, and the old ones are removed. The file is JSON (nothing
in it is executed), read only when it belongs to this user and nobody else may write it, and
checked entry by entry; a file that fails any of that is ignored (logged) and rewritten.
``MONITOR_CACHE_DIR=off`` keeps nothing on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["TermKey", "cache_file", "clear", "parts", "read_cache", "write_cache"]

log = logging.getLogger(__name__)

# (words, exact, case, prefix)
TermKey = tuple[tuple[str, ...], bool, bool, bool]
Parts = tuple[tuple[str, Any, tuple[str, ...]], ...]

_CACHE: dict[TermKey, Parts] = {}
_CACHE_MAX = 500_000
_FORMAT = 1
_MAX_FILE_BYTES = 512 * 1024 * 1024
_SET_KINDS = frozenset("sl")  # STEM and LEMMA hold a set of keys; TOKEN and PREFIX a string
_KINDS = frozenset("sltp")
_state = {"made": 0, "read": False}
_lock = threading.Lock()


def parts(key: TermKey, make: Callable[[], Parts]) -> Parts:
    """The parts of the term ``key``, made by ``make()`` the first time."""
    got = _CACHE.get(key)
    if got is None:
        got = make()
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = got
        _state["made"] += 1
    return got


def clear() -> None:
    """Forget every term's parts (the next ``read_cache`` reads the disk again)."""
    _CACHE.clear()
    _state["made"] = 0
    _state["read"] = False


def made() -> int:
    """How many terms were analysed (not found in memory or on disk) since the last clear."""
    return _state["made"]


# -- on disk ------------------------------------------------------------------------------
def _fingerprint() -> str:
    from monitor import morph
    from monitor import text as textmod
    from monitor.matching import compiler, leaves

    h = hashlib.sha256(f"format {_FORMAT}".encode())
    for module in (compiler, leaves, morph, textmod):
        h.update(Path(module.__file__ or "").read_bytes())
    h.update(Path(__file__).read_bytes())
    for dist in ("pymorphy3", "pymorphy3-dicts-ru", "PyStemmer"):
        try:
            h.update(f"{dist} {metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist} -".encode())
    return h.hexdigest()[:20]


def cache_dir() -> Path | None:
    """Where term parts are kept between processes; None: nowhere (``MONITOR_CACHE_DIR=off``)."""
    own = os.environ.get("MONITOR_CACHE_DIR")
    if own is not None:
        return None if own.strip().lower() in ("", "off", "none", "0") else Path(own)
    systemd = os.environ.get("CACHE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "signal-monitor"


def cache_file() -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"term-parts-{_fingerprint()}.json"


def _trusted(path: Path) -> bool:
    st = path.stat()
    if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_FILE_BYTES:
        return False
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _entry(raw: Any) -> tuple[TermKey, Parts]:
    words, exact, case, prefix, got = raw
    if not (isinstance(words, list) and words and all(isinstance(w, str) for w in words)):
        raise ValueError("words")
    if not all(isinstance(x, bool) for x in (exact, case, prefix)) or not got:
        raise ValueError("flags")
    out = []
    for kind, value, needles in got:
        if kind not in _KINDS or not all(isinstance(n, str) for n in needles) or not needles:
            raise ValueError("part")
        if kind in _SET_KINDS:
            if not all(isinstance(v, str) for v in value):
                raise ValueError("keys")
            value = frozenset(value)
        elif not isinstance(value, str):
            raise ValueError("value")
        out.append((kind, value, tuple(needles)))
    return (tuple(words), exact, case, prefix), tuple(out)


def read_cache() -> int:
    """Read the parts kept on disk into memory (once a process); how many terms were read."""
    with _lock:
        if _state["read"]:
            return 0
        _state["read"] = True
        path = cache_file()
        if path is None or not path.exists():
            return 0
        try:
            if not _trusted(path):
                log.warning(
                    "term cache %s is not this user's own file (or others may write it): "
                    "not read; the rules' words are analysed afresh",
                    path,
                )
                return 0
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT:
                raise ValueError("format")
            entries = [_entry(raw) for raw in data["terms"]]
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning(
                "term cache %s could not be read (%s: %s); the rules' words are analysed "
                "afresh and the cache written again",
                path,
                type(exc).__name__,
                exc,
            )
            _state["made"] += 1  # so that write_cache replaces it
            return 0
        for key, value in entries[:_CACHE_MAX]:
            _CACHE.setdefault(key, value)
        return len(entries)


def write_cache() -> bool:
    """Write the parts held in memory to disk when some were made since; True if written.
    A folder that cannot be written is logged once at debug level and otherwise ignored."""
    with _lock:
        if not _state["made"]:
            return False
        path = cache_file()
        if path is None:
            return False
        terms = [
            [
                list(k[0]),
                k[1],
                k[2],
                k[3],
                [[kind, sorted(v) if kind in _SET_KINDS else v, list(n)] for kind, v, n in p],
            ]
            for k, p in list(_CACHE.items())
        ]
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".term-parts-", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"format": _FORMAT, "terms": terms}, f, ensure_ascii=False)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            for old in path.parent.glob("term-parts-*.json"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("term cache not written to %s: %s", path, exc)
            return False
        _state["made"] = 0
        return True
