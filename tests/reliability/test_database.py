"""The database under pressure from outside the daemon: another process holding the write
lock past the busy timeout, a long-running reader, a disk that fills up."""

from __future__ import annotations

import resource
import threading
from pathlib import Path

from helpers_ops import MonitorProcess
from reliability.helpers import (
    Db,
    FeedServer,
    SqliteHolder,
    WebhookSink,
    daemon_config,
    respond,
    rss,
    wait_until,
    zebra_items,
)


def _config(tmp_path: Path, feeds: FeedServer, webhook: WebhookSink, **sections) -> Path:
    return daemon_config(
        tmp_path,
        sources=[
            {
                "name": "wire",
                "kind": "feed",
                "url": feeds.url("/wire.xml"),
                "interval": "1s",
                "jitter": 0,
            }
        ],
        channels={"hook": {"urls": [webhook.url()]}},
        routes=[{"channels": ["hook"]}],
        **sections,
    )


def _gated(feeds: FeedServer, body: bytes) -> threading.Event:
    """The feed's first answer waits for the returned event; later ones are immediate."""
    go = threading.Event()

    def feed(h) -> None:
        go.wait(20)
        respond(h, 200, body)

    feeds.set_handler("/wire.xml", feed)
    return go


def _drained(tmp_path: Path, mon: MonitorProcess, webhook: WebhookSink, n: int) -> None:
    with Db(tmp_path / "data" / "monitor.db") as db:
        wait_until(lambda: db.outbox() == {"sent": n}, 30, what="every alert sent")
        assert mon.stop() == 0
        assert db.hit_tags() == {f"wire-{i}": 1 for i in range(n)}
        assert db.integrity() == "ok"
    assert webhook.tag_counts() == {f"wire-{i}": 1 for i in range(n)}


def test_write_lock_held_past_the_busy_timeout_then_the_poll_is_retried(
    tmp_path: Path, feeds, webhook
):
    go = _gated(feeds, rss(zebra_items("wire", range(3))))
    cfg = _config(
        tmp_path, feeds, webhook, storage={"path": "data/monitor.db", "busy_timeout": "0.3s"}
    )
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        feeds.wait(lambda: feeds.requests["/wire.xml"] == 1, what="the first poll")
        holder = SqliteHolder(tmp_path / "data" / "monitor.db", "write")
        try:
            assert holder.first == "locked"
            at = mon.mark()
            go.set()
            # three polls (one a second) fetch the feed and fail to record it, each after 0.3 s
            feeds.wait(
                lambda: feeds.requests["/wire.xml"] >= 4, timeout=20, what="polls while locked"
            )
            busy = [r for r in mon.records[at:] if "database busy" in str(r)]
            assert busy, mon.messages(at)
            with Db(tmp_path / "data" / "monitor.db") as db:
                assert db.count("items") == 0
        finally:
            holder.release()
            holder.close()
        assert mon.proc.poll() is None  # still running
        _drained(tmp_path, mon, webhook, 3)


def test_a_long_running_reader_does_not_block_the_daemons_writes(tmp_path: Path, feeds, webhook):
    go = _gated(feeds, rss(zebra_items("wire", range(3))))
    cfg = _config(
        tmp_path, feeds, webhook, storage={"path": "data/monitor.db", "busy_timeout": "0.3s"}
    )
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        feeds.wait(lambda: feeds.requests["/wire.xml"] == 1, what="the first poll")
        reader = SqliteHolder(tmp_path / "data" / "monitor.db", "read")
        try:
            assert reader.first == "0"  # its snapshot: no hits yet
            at = mon.mark()
            go.set()
            with Db(tmp_path / "data" / "monitor.db") as db:
                # written and sent while the reader's transaction stays open
                wait_until(
                    lambda: db.outbox() == {"sent": 3},
                    20,
                    what="hits written and sent past the reader",
                )
                assert db.count("hits") == 3
            assert not [m for m in mon.messages(at) if "busy" in m or "locked" in m]
            assert (
                reader.release() == "0"
            )  # the reader's snapshot never moved: it was open throughout
        finally:
            reader.close()
        _drained(tmp_path, mon, webhook, 3)


def test_disk_full_then_space_returns_the_missed_items_are_recorded(tmp_path: Path, feeds, webhook):
    """RLIMIT_FSIZE set on the running daemon (prlimit) makes every write that grows a file
    fail as a full disk would (EFBIG, which SQLite reports as a disk I/O error); raising it
    is "space returns"."""
    # ~30 KB of text per item, different in each (alike texts would be folded as one story)
    items = [
        dict(it, description=" ".join(f"w{n}x{j}" for j in range(4000)))
        for n, it in enumerate(zebra_items("wire", range(5)))
    ]
    go = _gated(feeds, rss(items))
    cfg = _config(tmp_path, feeds, webhook)
    db_path = tmp_path / "data" / "monitor.db"
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        feeds.wait(lambda: feeds.requests["/wire.xml"] == 1, what="the first poll")
        files = [p for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists()]
        limit = max(p.stat().st_size for p in files) + 8192
        resource.prlimit(
            mon.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY)
        )  # soft limit
        at = mon.mark()
        go.set()
        feeds.wait(
            lambda: feeds.requests["/wire.xml"] >= 3, timeout=20, what="polls on a full disk"
        )
        # SQLite reports EFBIG as an I/O error (SQLITE_IOERR_WRITE), ENOSPC as "disk is full"
        full = [
            r for r in mon.records[at:] if "disk I/O error" in str(r) or "disk is full" in str(r)
        ]
        assert full, [r.get("exc", "")[-300:] for r in mon.records[at:]]
        assert mon.proc.poll() is None  # logged, still running
        with Db(db_path) as db:
            assert db.count("items") == 0
        resource.prlimit(
            mon.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
        _drained(tmp_path, mon, webhook, 5)
