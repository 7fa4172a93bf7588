"""Hostile drop folders (issue 13, items 1 and 6): a link never makes the daemon read a file
outside its folder; a file name that is not UTF-8 is keyed safely and never stops the
others; a source that keeps failing shows as failing."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import monitor_cmd
from monitor.config import HttpConfig, load_config
from monitor.health import evaluate
from monitor.models import utcnow
from monitor.pipeline import Runtime, run_source
from monitor.sources import folder as folder_mod
from monitor.sources import make_source
from monitor.sources.base import SourceState
from monitor.store import Store
from helpers_sources import source_cfg
from yaml_helpers import write_config

SECRET = "hunter2-smtp-password-xyzzy"
ZEBRA = (
    "rules:\n  - id: zebra\n    title: Zebra\n    severity: low\n    match:\n      any: [zebra]\n"
)


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "good.txt").write_text(
        "Good news\n\nA zebra crossing was painted.\n", encoding="utf-8"
    )
    return folder


def folder_source(tmp_path: Path, **kw):
    return make_source(source_cfg("folder", path="drop", **kw), HttpConfig(), tmp_path)


def all_text(result) -> str:
    return "\n".join(f"{i.key} {i.title} {i.text}" for i in result.items)


def test_symlinks_to_files_and_folders_are_skipped_and_said_once(
    tmp_path: Path, drop: Path, caplog
):
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(f"Secret\n\nSMTP_PASSWORD={SECRET}\n", encoding="utf-8")
    secret.chmod(0o600)
    (drop / "env.txt").symlink_to("/proc/self/environ")
    (drop / "passwd.txt").symlink_to("/etc/passwd")
    (drop / "secret.txt").symlink_to(secret)
    (drop / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (drop / "linked-dir").symlink_to(outside, target_is_directory=True)
    os.environ["MONITOR_TEST_SECRET"] = SECRET  # what /proc/self/environ would reveal
    source = folder_source(tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="monitor.sources.folder"):
            first = source.fetch(SourceState())
            second = folder_source(tmp_path).fetch(SourceState())  # a new poll, a new source object
    finally:
        del os.environ["MONITOR_TEST_SECRET"]
    for result in (first, second):
        assert [i.title for i in result.items] == ["Good news"]
        assert SECRET not in all_text(result) and "root:" not in all_text(result)
        assert list(result.state.data["files"]) == ["good.txt"]
    said = [r.getMessage() for r in caplog.records]
    for name in ("env.txt", "passwd.txt", "secret.txt", "dangling.txt", "linked-dir"):
        lines = [m for m in said if f"{name} is a symbolic link" in m]
        assert len(lines) == 1, (name, said)  # once, not once per poll
    assert source.files() == [("good.txt", drop / "good.txt")]


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(tmp_path: Path, drop: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    source = folder_source(tmp_path)
    walk = source.walk()
    rel, read = next(walk)
    assert rel == "good.txt"
    (drop / "good.txt").unlink()
    (drop / "good.txt").symlink_to(secret)  # the race: listed as a file, opened as a link
    with pytest.raises(OSError):
        read(1000)
    walk.close()
    assert SECRET not in all_text(source.fetch(SourceState()))


def test_a_fifo_named_like_a_document_does_not_hang_the_poll(tmp_path: Path, drop: Path):
    os.mkfifo(drop / "pipe.txt")
    done = threading.Event()
    out = {}

    def poll():
        out["result"] = folder_source(tmp_path).fetch(SourceState())
        done.set()

    threading.Thread(target=poll, daemon=True).start()
    assert done.wait(5), "the poll blocked on a FIFO"
    assert [i.title for i in out["result"].items] == ["Good news"]


def _config(tmp_path: Path, **extra) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "zebra.yaml").write_text(ZEBRA, encoding="utf-8")
    return write_config(
        tmp_path,
        sources=[{"name": "drop", "kind": "folder", "path": "drop"}],
        channels={"console": {"type": "console"}},
        routes=[{"channels": ["console"]}],
        **extra,
    )


def _bad_name(drop: Path) -> None:
    fd = os.open(os.fsencode(drop) + b"/caf\xe9 zebra.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, "Zebra news\n\nA zebra was seen at the café.\n".encode("utf-8"))
    os.close(fd)


def test_a_file_name_that_is_not_utf8_is_keyed_safely_and_the_others_are_read(
    tmp_path: Path, drop: Path
):
    _bad_name(drop)
    runtime = Runtime.from_config(load_config(_config(tmp_path)))
    with Store(runtime.config.db_path) as store:
        store.sync_sources(runtime.config.sources)
        report = run_source(runtime, store, runtime.config.source("drop"))
        assert report.ok, report.error
        assert report.new_items == 2 and report.hits == 2
        keys = sorted(store.source_state("drop").data["files"])
        assert keys == ["caf\\xe9 zebra.txt", "good.txt"]
        again = run_source(runtime, store, runtime.config.source("drop"))
        assert again.ok and again.new_items == 0  # keyed stably: not read as new every poll
        health = evaluate(store, runtime.config, utcnow(), expect_daemon=False)
        assert [s["health"] for s in health.sources] == ["ok"]


def test_run_once_on_a_folder_with_a_non_utf8_name_exits_cleanly(tmp_path: Path, drop: Path):
    _bad_name(drop)
    cfg = _config(tmp_path)
    proc = subprocess.run(
        monitor_cmd("--config", str(cfg), "run", "--once"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "polled 1 source(s): 2 new item(s), 2 hit(s)" in proc.stderr
    listing = subprocess.run(
        monitor_cmd("--config", str(cfg), "sources"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert listing.returncode == 0 and "not polled yet" not in listing.stdout, listing.stdout


def test_a_source_that_keeps_failing_unexpectedly_shows_as_failing(
    tmp_path: Path, drop: Path, monkeypatch
):
    """The second line of defence: any error while recording a poll (here the store refusing
    an un-sanitised name, as before the fix) is counted on the source, which turns failing."""
    _bad_name(drop)
    monkeypatch.setattr(folder_mod, "safe_name", lambda name: name)
    runtime = Runtime.from_config(
        load_config(_config(tmp_path, scheduler={"failure_threshold": 3}))
    )
    with Store(runtime.config.db_path) as store:
        store.sync_sources(runtime.config.sources)
        for n in range(1, 4):
            report = run_source(runtime, store, runtime.config.source("drop"))  # never raises
            assert not report.ok and "UnicodeEncodeError" in report.error
            assert store.source_row("drop").consecutive_failures == n
        assert store.source_row("drop").failing
        health = evaluate(store, runtime.config, utcnow(), expect_daemon=False)
        assert [s["health"] for s in health.sources] == ["failing"]


def test_the_configured_folder_may_itself_be_a_link(tmp_path: Path, drop: Path):
    """Only links inside the folder are untrusted; the folder named in the config is the operator's."""
    real = tmp_path / "real-drop"
    drop.rename(real)
    drop.symlink_to(real, target_is_directory=True)
    assert [i.title for i in folder_source(tmp_path).fetch(SourceState()).items] == ["Good news"]
