"""Helpers for the notifier's tests: a config in code, hits recorded through the real store
and router, a hand-driven clock, and a real SMTP server whose replies a test scripts."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from monitor.config import Config, config_from_dict
from monitor.models import Hit, Item, RuleMatch
from monitor.models import Entry
from monitor.pipeline import record
from monitor.store import Store

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


class Clock:
    """The dispatcher's clock, moved by the test (no sleeping)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def make_config(
    where: Any,
    channels: dict[str, Any],
    routes: list[dict[str, Any]] | None = None,
    **notify: Any,
) -> Config:
    """A config in code; ``where`` is a folder (a SQLite file in it) or a conftest
    ``Backend`` (its folder, and its storage: SQLite or PostgreSQL)."""
    tmp_path = Path(getattr(where, "folder", where))
    storage = getattr(where, "storage", None) or {"path": str(tmp_path / "monitor.db")}
    data: dict[str, Any] = {
        "storage": storage,
        "channels": channels,
        "routes": routes if routes is not None else [{"channels": list(channels)}],
        "notify": {"backoff_base": 10, "backoff_max": 600, "cooldown": 0, **notify},
    }
    return config_from_dict(data, base_dir=tmp_path)


_counter = iter(range(1, 10**9))


def record_hit(
    store: Store,
    config: Config,
    *,
    when: datetime = T0,
    title: str = "Baku agrees to free the eleven Russians",
    source: str = "newswire",
    rule_id: str = "detainees-release-return",
    rule_title: str = "Russians jailed in Baku — release or return",
    severity: str = "high",
    snippet: str = "Baku agrees in principle to **free** the eleven **Russians**",
    url: str | None = "https://news.example.org/a/1",
    tags: tuple[str, ...] = ("detainees",),
    why: str = "all of: russian citizens, Baku, release words",
    text: str = "",
) -> Hit:
    """Record one item and one rule match through the pipeline's unit of work (the real router)."""
    n = next(_counter)
    item = Item(
        source=source,
        key=f"item-{n}",
        title=title,
        text=text or snippet.replace("**", ""),
        url=url,
        published=when - timedelta(minutes=30),
    )
    match = RuleMatch(
        rule_id=rule_id,
        rule_title=rule_title,
        severity=severity,
        terms=("Russians", "Baku", "free"),
        spans=((0, 4),),
        snippet=snippet,
        why=why,
        tags=tags,
    )
    result = record(store, config, [Entry(item=item, matches=[match])], now=when)
    assert len(result.hits) == 1
    return result.hits[0]


def statuses(store: Store) -> list[tuple[str, str, str]]:
    return [
        (r["kind"], r["channel"], r["status"])
        for r in store.query("SELECT * FROM outbox ORDER BY id")
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedSmtp:
    """A real aiosmtpd server on 127.0.0.1. ``data_replies`` are answered to DATA in turn
    (then ``250 OK``); ``rcpt_reply`` to every RCPT when set. Accepted messages are kept."""

    def __init__(
        self,
        port: int | None = None,
        data_replies: list[str] | None = None,
        rcpt_reply: str | None = None,
    ) -> None:
        self.port = port or free_port()
        self.data_replies = list(data_replies or [])
        self.rcpt_reply = rcpt_reply
        self.messages: list = []
        self.attempted: list = []  # every message offered at DATA, refused or not
        self.raw: list[bytes] = []
        self.data_attempts = 0
        self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_attempts += 1
        self.attempted.append(
            message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        )
        if self.data_replies:
            return self.data_replies.pop(0)
        self.raw.append(
            envelope.original_content or envelope.content
        )  # as received, before any refolding
        self.messages.append(message_from_bytes(self.raw[-1], policy=policy.default))
        return "250 OK"

    def start(self) -> "ScriptedSmtp":
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self, to: str = "analyst@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=monitor@example.org&to={to}&mode=insecure"


def parts(msg) -> dict[str, str]:
    """The text parts of an email by content type (line ends as \\n)."""
    return {
        p.get_content_type(): p.get_content().replace("\r\n", "\n")
        for p in msg.walk()
        if p.get_content_maintype() == "text"
    }
