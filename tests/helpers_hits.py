"""A real temporary database holding a few hundred hits, written through ``Store.record``.

``hits_db`` gives each test its own copy (a file copy of one database built per session),
with a ``config.yaml`` beside it, and a manifest of what was recorded so tests can compute
the answers they expect instead of hard-coding them.

What is in it (deterministic, seeded):
  * 7 rules with different severities and tags, 4 sources, ~320 hits spread over 45 days
    (more of them recent), each item with a title, a body and real match spans;
  * item ``QUILLWORT_KEY`` whose body alone contains the word "quillwort";
  * one item whose title is ``<script>…`` and whose link is ``javascript:`` (escaping);
  * outbox rows (console for every hit, email for high/critical): some sent, some failed;
  * a few ``stock-noise`` hits dismissed as false positives by "analyst";
  * source health: one source failing with an error.
"""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


from monitor.config import ChannelConfig, Config, NotifyConfig, RouteConfig, SourceConfig
from monitor.models import Item, RuleMatch
from monitor.sources.base import SourceState
from monitor.models import Entry
from monitor.pipeline import record
from monitor.store import SqliteStore, Store

# id, title, severity, tags, terms (each appears in every matching item)
RULES: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "detainees-release",
        "Russians jailed in Baku — release or return",
        "high",
        ("detainees", "russia", "azerbaijan"),
        ("Baku", "release"),
    ),
    (
        "route-lease",
        "Route lease to the US for 49 or 99 years",
        "critical",
        ("route", "armenia", "us"),
        ("lease", "route"),
    ),
    (
        "rail-transit",
        "Rail transit of goods to Armenia via Azerbaijan",
        "medium",
        ("rail", "armenia"),
        ("rail", "transit"),
    ),
    (
        "hybrid-war",
        "Accusations of a hybrid war against Armenia",
        "medium",
        ("russia", "armenia"),
        ("hybrid", "war"),
    ),
    (
        "eaeu-pressure",
        "EAEU and CSTO pressure on Yerevan",
        "low",
        ("eaeu", "csto"),
        ("EAEU", "Yerevan"),
    ),
    (
        "extradition-refused",
        "Refused extradition of a wanted businessman",
        "high",
        ("extradition",),
        ("extradition", "refused"),
    ),
    (
        "stock-noise",
        "Exchange wording that is usually noise",
        "info",
        ("noise",),
        ("exchange", "return"),
    ),
]
SOURCES = ["caucasus-wire", "yerevan-daily", "baku-bulletin", "seeds"]
FAILING_SOURCE = "baku-bulletin"
QUILLWORT_KEY = "rail-quillwort"
XSS_TITLE = "<script>alert('owned')</script> Baku release row"

TITLES = [
    "{a} and {b}: officials weigh the next step",
    "Talks on {a} stall as {b} stays on the table",
    "Analysts: {b} is back after {a} remarks",
    "{a} — what the {b} statement means",
    "Minister comments on {a} and {b}",
]
BODIES = [
    "The statement came after a meeting in the capital. {a} was mentioned twice, and {b} once. "
    "Diplomats declined to comment further on the timetable.",
    "According to two officials, {b} is now expected before the end of the month; {a} remains disputed. "
    "The ministry did not respond to a request for comment.",
    "Local media reported that the question of {a} was raised again. A spokesperson said {b} "
    "would be discussed at the next round of consultations.",
]


@dataclass
class HitsDB:
    """The hit log: a SQLite file (``path``) or a PostgreSQL database (``url``)."""

    path: Path | None
    config_path: Path | None
    now: datetime
    hits: list[dict[str, Any]] = field(default_factory=list)
    url: str | None = None

    def where(self, **conditions: Any) -> list[dict[str, Any]]:
        return [h for h in self.hits if all(h[k] == v for k, v in conditions.items())]

    @property
    def target(self) -> str | Path:
        target = self.url or self.path
        assert target is not None
        return target

    def open(self) -> Store:
        return Store(self.target)


def _spans(document: str, terms: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    low = document.lower()
    spans = []
    for term in terms:
        start = low.find(term.lower())
        while start != -1:
            spans.append((start, start + len(term)))
            start = low.find(term.lower(), start + len(term))
    return tuple(sorted(spans))


def _snippet(text: str, terms: tuple[str, ...]) -> str:
    out = text[:220]
    for term in terms:
        low = out.lower()
        i = low.find(term.lower())
        if i != -1:
            out = out[:i] + "**" + out[i : i + len(term)] + "**" + out[i + len(term) :]
    return out + ("…" if len(text) > 220 else "")


def build_hits_db(
    path: Path | str, now: datetime, count: int = 320, seed: int = 7
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    manifest: list[dict[str, Any]] = []
    store = Store(path)
    if isinstance(store, SqliteStore):
        store.conn.execute("PRAGMA synchronous = OFF")  # test data only: no fsync per poll
    store.sync_sources(
        [
            SourceConfig(name=n, kind="folder", path=Path(n))
            if n == "seeds"
            else SourceConfig(name=n, kind="feed", url=f"https://{n}.example.org/rss")
            for n in SOURCES
        ]
    )

    # every hit to the console, high and critical ones by email too; nothing held back
    routing = Config(
        channels={
            "console": ChannelConfig(type="console"),
            "email": ChannelConfig(urls=["mailto://alerts@example.org"]),
        },
        routes=[
            RouteConfig(channels=["console"]),
            RouteConfig(min_severity="high", channels=["email"]),
        ],
        notify=NotifyConfig(cooldown=0),
    )

    specs = []
    for n in range(count):
        age = timedelta(days=45) * (rng.random() ** 2) + timedelta(minutes=5)
        rule = RULES[n % len(RULES)] if n % 5 else rng.choice(RULES)
        specs.append((n, now - age, rule, rng.choice(SOURCES)))
    specs.sort(key=lambda s: s[1])  # record oldest first, as the daemon would
    for n, created, (rule_id, rule_title, severity, tags, terms), source in specs:
        a, b = terms
        key = f"{rule_id}-{n}"
        title = rng.choice(TITLES).format(a=a.capitalize(), b=b)
        body = rng.choice(BODIES).format(a=a, b=b)
        url: str | None = f"https://{source}.example.org/news/{n}"
        if n == 17:
            rule_id, rule_title, severity, tags, terms = RULES[2]
            key, title = QUILLWORT_KEY, "Rail transit resumes on the northern line"
            body = "Freight rail transit resumed on Monday; inspectors counted quillwort along the embankment."
        elif n == 23:
            rule_id, rule_title, severity, tags, terms = RULES[0]
            key, title, url = "xss-item", XSS_TITLE, "javascript:alert(1)"
            body = "Reports from Baku say a release is near. <img src=x onerror=alert(2)>"
        item = Item(
            source=source,
            key=key,
            title=title,
            text=body,
            url=url,
            published=created - timedelta(minutes=rng.randint(1, 90)),
            language="en",
        )
        match = RuleMatch(
            rule_id=rule_id,
            rule_title=rule_title,
            severity=severity,
            terms=terms,
            spans=_spans(item.document, terms),
            snippet=_snippet(body, terms),
            why=f"all of: any[{terms[0]}], any[{terms[1]}]",
            tags=tags,
        )
        result = record(store, routing, [Entry(item=item, matches=[match])], now=created)
        for hit in result.hits:
            manifest.append(
                {
                    "id": hit.id,
                    "rule": rule_id,
                    "severity": severity,
                    "source": source,
                    "tags": tags,
                    "created_at": created,
                    "title": title,
                    "url": url,
                    "body": body,
                    "key": key,
                }
            )

    # deliveries: older ones sent, the newest email deliveries failed
    for row in store.query("SELECT id, channel, created_at FROM outbox ORDER BY id"):
        if row["channel"] == "email" and row["id"] % 7 == 0:
            store.mark_failed(row["id"], "SMTP 550: mailbox unavailable")
        elif row["id"] % 3:
            store.mark_sent(row["id"], now)
    # a few noise hits dismissed as false positives
    noise = [h["id"] for h in manifest if h["rule"] == "stock-noise"][::4]
    store.dismiss_hits(noise, "false-positive", by="analyst", now=now)
    for h in manifest:
        if h["id"] in noise:
            h["status"] = "dismissed"
        h.setdefault("status", "new")
    # source health
    for name in SOURCES:
        store.record_poll_success(
            name, SourceState(), now - timedelta(minutes=10), now + timedelta(minutes=20), 5
        )
    for _ in range(6):
        store.record_poll_failure(
            FAILING_SOURCE,
            "HTTP 503 Service Unavailable",
            now - timedelta(minutes=3),
            now + timedelta(minutes=30),
        )
    store.set_source_failing(FAILING_SOURCE, True)
    store.close()
    return manifest


@dataclass
class Served:
    """The review page on a real local server, over a ``HitsDB``."""

    db: HitsDB
    url: str
    store: Store


@contextmanager
def serve_review_page(
    db: HitsDB, access=None, default_by: str = "tester", config=None, limiter=None, poll=None
):
    """Start the review page on 127.0.0.1 and a free port (Hypercorn in a thread); stop it afterwards."""
    from monitor.web.app import create_app
    from monitor.web.server import Server, bind

    store = Store(db.target)
    if poll is True:
        from monitor.cli.web import source_poller

        poll = source_poller(config, store)
    app = create_app(
        store,
        access=access,
        default_by=default_by,
        config=config,
        limiter=limiter,
        poll=poll,
        rules=lambda: [("quiet-rule", "A rule that never fires", "low")],
    )
    server = Server(app, bind("127.0.0.1", 0, 64))
    thread = threading.Thread(target=server.run, name="review-page", daemon=True)
    thread.start()
    server.started.wait(5)
    try:
        yield Served(db=db, url=f"http://127.0.0.1:{server.port}", store=store)
    finally:
        server.stop()
        thread.join(timeout=10)
        store.close()
