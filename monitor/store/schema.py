"""The database schema, as ordered migrations (sqlite-utils ``Migrations``).

An upgrade keeps an existing database: never edit a migration that has shipped;
append a new one. Every table is owned by this package; nothing else writes SQL.
"""

from __future__ import annotations

from typing import Callable

from sqlite_utils import Database, Migrations

migrations = Migrations("signal-monitor")

SCHEMA_VERSION_NAMES: list[str] = []


Step = Callable[[Database], None]


def _step(fn: Step) -> Step:
    SCHEMA_VERSION_NAMES.append(fn.__name__)
    migrations(name=fn.__name__)(fn)
    return fn


@_step
def m001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT,                       -- url or path
            interval REAL,
            etag TEXT,
            last_modified TEXT,
            state TEXT NOT NULL DEFAULT '{}',  -- JSON: the source's own memory
            last_poll_at TEXT,
            last_success_at TEXT,
            next_poll_at TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_error_at TEXT,
            failing INTEGER NOT NULL DEFAULT 0,  -- announced as failing on the ops channel
            disabled_reason TEXT,
            items_seen INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            url TEXT,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            published TEXT,
            language TEXT,
            author TEXT,
            content_hash TEXT,
            fingerprint INTEGER,               -- near-duplicate fingerprint (SimHash)
            story_id INTEGER,                  -- id of the first item of the same story
            fetched_at TEXT NOT NULL,
            UNIQUE (source, key)
        )
        """
    )
    db.execute("CREATE INDEX items_fetched_at ON items (fetched_at)")
    db.execute("CREATE INDEX items_story ON items (story_id)")
    db.table("items").enable_fts(
        ["title", "text"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    db.execute(
        """
        CREATE TABLE hits (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            rule_id TEXT NOT NULL,
            rule_title TEXT NOT NULL,
            severity TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            terms TEXT NOT NULL DEFAULT '[]',
            spans TEXT NOT NULL DEFAULT '[]',
            snippet TEXT NOT NULL DEFAULT '',
            why TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL,
            also_in TEXT NOT NULL DEFAULT '[]',   -- other sources that carried the same story
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new',   -- new | acked | dismissed
            status_reason TEXT,
            status_by TEXT,
            status_at TEXT,
            UNIQUE (rule_id, item_id)
        )
        """
    )
    db.execute("CREATE INDEX hits_created_at ON hits (created_at)")
    db.execute("CREATE INDEX hits_rule ON hits (rule_id, created_at)")
    db.execute(
        """
        CREATE TABLE hit_notes (
            id INTEGER PRIMARY KEY,
            hit_id INTEGER NOT NULL REFERENCES hits(id),
            action TEXT NOT NULL,              -- note | ack | dismiss | reopen
            text TEXT,
            by TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX hit_notes_hit ON hit_notes (hit_id)")
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            hit_id INTEGER REFERENCES hits(id),  -- NULL for digests, summaries, operations messages
            channel TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'hit',    -- hit | digest | summary | ops | test
            route TEXT,
            payload TEXT,                        -- JSON for non-hit messages
            digest_key TEXT,                     -- groups hits of one digest period
            status TEXT NOT NULL DEFAULT 'pending',  -- pending | inflight | sent | failed | suppressed
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            inflight_at TEXT,
            sent_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_attempt_at)")
    db.execute("CREATE INDEX outbox_hit ON outbox (hit_id)")
    db.execute(
        """
        CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            rule_id TEXT,
            source TEXT,
            expires_at TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            created_by TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT
        )
        """
    )


@_step
def m002_notify_delivery(db: Database) -> None:
    """The notifier's additions: per-URL delivery progress, and indexes for digests,
    rate limits and silences."""
    db.execute(
        "ALTER TABLE outbox ADD COLUMN delivered TEXT NOT NULL DEFAULT '{}'"
    )  # url key -> sent | failed
    db.execute(
        "CREATE INDEX outbox_digest ON outbox (channel, digest_key) WHERE digest_key IS NOT NULL"
    )
    db.execute(
        "CREATE INDEX outbox_channel_sent ON outbox (channel, sent_at) WHERE sent_at IS NOT NULL"
    )
    db.execute("CREATE INDEX silences_expires ON silences (expires_at)")


@_step
def m003_ops_status_at(db: Database) -> None:
    """For ``monitor status`` and retention: when each outbox row last changed status (kept
    by triggers, so no writer has to remember it), and an index for "does a hit keep
    this item?" (retention prunes items no hit refers to)."""
    db.execute("ALTER TABLE outbox ADD COLUMN status_at TEXT")
    db.execute("UPDATE outbox SET status_at = COALESCE(sent_at, inflight_at, created_at)")
    now = "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000+00:00'"  # the format of store.base.ts()
    db.execute(
        f"""CREATE TRIGGER outbox_status_at_update AFTER UPDATE OF status ON outbox
            WHEN NEW.status IS NOT OLD.status
            BEGIN UPDATE outbox SET status_at = {now} WHERE id = NEW.id; END"""
    )
    db.execute(
        """CREATE TRIGGER outbox_status_at_insert AFTER INSERT ON outbox WHEN NEW.status_at IS NULL
           BEGIN UPDATE outbox SET status_at = NEW.created_at WHERE id = NEW.id; END"""
    )
    db.execute("CREATE INDEX outbox_failed ON outbox (status_at) WHERE status = 'failed'")
    db.execute("CREATE INDEX hits_item ON hits (item_id)")


@_step
def m005_arch(db: Database) -> None:
    """Indexed same-story lookups and uniqueness as constraints.

    ``story_bands``: a hit's fingerprint band keys (see ``monitor.dedup.bands``), so the
    earlier copies of a story are found through an index instead of by reading every hit of
    the rule in the window; filled for the hits of the last 30 days. One delivery per hit
    and channel is a unique index (a second row for the same pair is refused)."""
    from monitor.dedup import bands

    db.execute(
        """CREATE TABLE story_bands (
               hit_id INTEGER NOT NULL REFERENCES hits(id) ON DELETE CASCADE,
               rule_id TEXT NOT NULL,
               band_key INTEGER NOT NULL,
               fingerprint INTEGER NOT NULL,       -- the hit's item's, so a lookup reads the index alone
               created_at TEXT NOT NULL,
               PRIMARY KEY (hit_id, band_key)
           )"""
    )
    db.execute(
        "CREATE INDEX story_bands_lookup ON story_bands (rule_id, band_key, created_at, hit_id, fingerprint)"
    )
    db.execute("CREATE INDEX story_bands_created ON story_bands (created_at)")
    rows = db.execute(
        """SELECT h.id, h.rule_id, h.created_at, i.fingerprint FROM hits h JOIN items i ON i.id = h.item_id
           WHERE i.fingerprint IS NOT NULL AND i.fingerprint != 0
             AND h.created_at >= strftime('%Y-%m-%dT%H:%M:%f', 'now', '-30 days')"""
    ).fetchall()
    db.conn.executemany(
        "INSERT INTO story_bands(hit_id, rule_id, band_key, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)",
        [
            (hit_id, rule_id, key, fp, created)
            for hit_id, rule_id, created, fp in rows
            for key in bands(fp + (1 << 64) if fp < 0 else fp)
        ],
    )
    db.execute(
        "CREATE UNIQUE INDEX outbox_one_per_hit_channel ON outbox (hit_id, channel) WHERE hit_id IS NOT NULL"
    )


@_step
def m006_web(db: Database) -> None:
    """The team web app: accounts with roles, sign-in sessions, API tokens (only their
    SHA-256 is kept), and an audit trail of rule, source and account edits."""
    db.execute(
        """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,                -- viewer | analyst | admin
            password_hash TEXT,                -- argon2id; NULL: token only
            created_at TEXT NOT NULL,
            updated_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE web_sessions (
            id_hash TEXT PRIMARY KEY,          -- sha256 of the cookie value
            user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX web_sessions_expires ON web_sessions (expires_at)")
    db.execute(
        """CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,   -- sha256 of the token
            user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_used_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE edits (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                -- rule | source | user
            target TEXT NOT NULL,              -- a file, a source name, a user name
            action TEXT NOT NULL,              -- save | add | edit | enable | disable | remove | token
            detail TEXT NOT NULL DEFAULT '',
            by TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX edits_target ON edits (kind, target, created_at)")


@_step
def m007_firsthour(db: Database) -> None:
    """A disabled source remembers the settings it was disabled under, so a config change
    gives it another try; a dismissal keeps a free-text comment beside its category."""
    db.execute(
        "ALTER TABLE sources ADD COLUMN config_fingerprint TEXT"
    )  # the settings now configured
    db.execute(
        "ALTER TABLE sources ADD COLUMN disabled_config TEXT"
    )  # ... and when it was disabled
    db.execute("ALTER TABLE hits ADD COLUMN status_comment TEXT")


@_step
def m008_user_disabled(db: Database) -> None:
    """An account can be disabled (by an admin, from the review page) and enabled again:
    while it is, none of its sign-ins or tokens is accepted."""
    db.execute("ALTER TABLE users ADD COLUMN disabled_at TEXT")


@_step
def m009_cluster(db: Database) -> None:
    """Several daemons on one database: a registry of the daemons (each renews its own
    lease by its heartbeat), a lease row per source being polled, and who claimed each
    delivery in flight (so a start-up recovers only the rows of a daemon that is gone)."""
    db.execute(
        """CREATE TABLE daemons (
            id TEXT PRIMARY KEY,               -- host-pid-random, new at every start
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            version TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT 'daemon',  -- daemon | once (`monitor run --once`)
            rules_hash TEXT NOT NULL DEFAULT '',  -- a digest of the rule set it has loaded
            rule_count INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL,
            last_beat TEXT NOT NULL,
            expires_at TEXT NOT NULL,          -- alive until then, unless it beats again
            stopped_at TEXT
        )"""
    )
    db.execute("CREATE INDEX daemons_expires ON daemons (expires_at)")
    db.execute(
        """CREATE TABLE source_leases (
            source TEXT PRIMARY KEY,           -- sources.name, being polled
            daemon TEXT NOT NULL,              -- daemons.id of the poller
            claimed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL           -- renewed by the poller's heartbeat
        )"""
    )
    db.execute("CREATE INDEX source_leases_daemon ON source_leases (daemon)")
    db.execute("CREATE INDEX sources_next_poll ON sources (next_poll_at)")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")  # daemons.id while in flight


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending
