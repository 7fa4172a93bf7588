"""Accounts for the web app: users and roles, sign-in sessions, API tokens, the edit trail.

Secrets are never stored: a password as its argon2 hash (made by ``monitor.accounts``),
a session cookie and an API token as their SHA-256 (they are long random strings, so a
plain digest is enough and lets a lookup be an index search).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.store.base import StoreBase, parse_ts, ts


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str | None
    created_at: datetime | None
    updated_at: datetime | None = None
    disabled_at: datetime | None = None  # set: no sign-in or token of it is accepted

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


def _user(r: dict[str, Any]) -> User:
    return User(
        name=r["name"],
        role=r["role"],
        password_hash=r["password_hash"],
        created_at=parse_ts(r["created_at"]),
        updated_at=parse_ts(r.get("updated_at")),
        disabled_at=parse_ts(r.get("disabled_at")),
    )


class AccountQueries(StoreBase):
    # -- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str | None, now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, role, password_hash, ts(now)),
            )

    def update_user(
        self, name: str, now: datetime, *, role: str | None = None, password_hash: str | None = None
    ) -> bool:
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE users SET role = COALESCE(?, role), password_hash = COALESCE(?, password_hash), "
                "updated_at = ? WHERE name = ?",
                (role, password_hash, ts(now), name),
            )
            return cur.rowcount > 0

    def set_user_disabled(self, name: str, disabled: bool, now: datetime) -> bool:
        """Disable an account (its sign-ins end; its tokens are refused while it is) or
        enable it again. False when there is no such account."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE users SET disabled_at = ?, updated_at = ? WHERE name = ?",
                (ts(now) if disabled else None, ts(now), name),
            )
            if disabled:
                conn.execute('DELETE FROM web_sessions WHERE "user" = ?', (name,))
            return cur.rowcount > 0

    def end_sessions(self, name: str) -> int:
        """Sign an account out everywhere (after its password is reset)."""
        with self.transaction() as conn:
            return conn.execute('DELETE FROM web_sessions WHERE "user" = ?', (name,)).rowcount

    def count_admins(self) -> int:
        """Enabled accounts with the admin role."""
        return int(
            self.scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
            or 0
        )

    def remove_user(self, name: str) -> bool:
        with self.transaction() as conn:
            conn.execute('DELETE FROM web_sessions WHERE "user" = ?', (name,))
            conn.execute('DELETE FROM api_tokens WHERE "user" = ?', (name,))
            return conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def get_user(self, name: str) -> User | None:
        rows = self.query("SELECT * FROM users WHERE name = ?", (name,))
        return _user(rows[0]) if rows else None

    def list_users(self) -> list[User]:
        return [_user(r) for r in self.query("SELECT * FROM users ORDER BY name")]

    def count_users(self) -> int:
        return int(self.query("SELECT count(*) AS n FROM users")[0]["n"])

    # -- sessions ---------------------------------------------------------------------------
    def add_session(self, id_hash: str, user: str, now: datetime, expires_at: datetime) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (ts(now),))
            conn.execute(
                'INSERT INTO web_sessions (id_hash, "user", created_at, expires_at) VALUES (?, ?, ?, ?)',
                (id_hash, user, ts(now), ts(expires_at)),
            )

    def session_user(self, id_hash: str, now: datetime) -> User | None:
        rows = self.query(
            'SELECT u.* FROM web_sessions s JOIN users u ON u.name = s."user" '
            "WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
            (id_hash, ts(now)),
        )
        return _user(rows[0]) if rows else None

    def remove_session(self, id_hash: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))

    # -- API tokens -------------------------------------------------------------------------
    def add_token(self, token_hash: str, user: str, now: datetime) -> int:
        with self.transaction() as conn:
            new_id = conn.insert(
                'INSERT INTO api_tokens (token_hash, "user", created_at) VALUES (?, ?, ?)',
                (token_hash, user, ts(now)),
            )
            assert new_id is not None
            return new_id

    def token_user(self, token_hash: str) -> User | None:
        rows = self.query(
            'SELECT u.* FROM api_tokens t JOIN users u ON u.name = t."user" '
            "WHERE t.token_hash = ? AND u.disabled_at IS NULL",
            (token_hash,),
        )
        return _user(rows[0]) if rows else None

    def user_tokens(self, user: str) -> list[dict[str, Any]]:
        return self.query(
            'SELECT id, created_at, last_used_at FROM api_tokens WHERE "user" = ? ORDER BY id',
            (user,),
        )

    def revoke_token(self, user: str, token_id: int) -> bool:
        with self.transaction() as conn:
            return (
                conn.execute(
                    'DELETE FROM api_tokens WHERE "user" = ? AND id = ?', (user, token_id)
                ).rowcount
                > 0
            )

    def revoke_tokens(self, user: str) -> int:
        with self.transaction() as conn:
            return conn.execute('DELETE FROM api_tokens WHERE "user" = ?', (user,)).rowcount

    # -- the edit trail ---------------------------------------------------------------------
    def record_edit(
        self, kind: str, target: str, action: str, by: str | None, now: datetime, detail: str = ""
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO edits (kind, target, action, detail, by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, target, action, detail, by, ts(now)),
            )

    def list_edits(
        self, kind: str | None = None, target: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if target:
            where.append("target = ?")
            params.append(target)
        sql = "SELECT * FROM edits" + (" WHERE " + " AND ".join(where) if where else "")
        return self.query(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit))
