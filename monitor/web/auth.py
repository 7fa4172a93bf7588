"""Who is asking, and what their role lets them do.

A request proves who it is by, in this order: ``Authorization: Bearer`` (the shared
``MONITOR_WEB_TOKEN`` or a user's token from ``monitor users token``), ``Authorization:
Basic`` (the shared ``MONITOR_WEB_PASSWORD`` or a user's own password), the sign-in session
cookie, or the shared token's cookie (``/login?token=…``). With no shared secret and no
accounts the page is open (only ever on loopback) and whoever uses it is an admin. The
shared secret is for a one-person install: it is an admin too.

A wrong credential counts against the client's address in the ``LoginLimiter``; while
the address is over its limit, nothing it sends is even checked.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.accounts import digest, role_at_least, verify_password

if TYPE_CHECKING:
    from monitor.web.guard import LoginLimiter

SESSION_COOKIE = "monitor_session"
TOKEN_COOKIE = "monitor_token"


@dataclass(frozen=True)
class Access:
    """The shared secret of a one-person install. No secret at all (and no accounts) means
    open, which ``server`` allows only on a loopback address."""

    password: str | None = None  # HTTP basic auth; any user name unless ``user`` is set
    user: str | None = None
    token: str | None = None  # ``Authorization: Bearer``, or once via /login?token=… then a cookie

    @property
    def open(self) -> bool:
        return not (self.password or self.token)


@dataclass(frozen=True)
class Principal:
    name: str | None  # None: the open page or the shared token (the default name is used)
    role: str
    via: str  # open | shared | session | token | password

    def can(self, role: str) -> bool:
        return role_at_least(self.role, role)


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Authenticator:
    def __init__(self, store: Any, access: Access, limiter: LoginLimiter) -> None:
        self.store, self.access, self.limiter = store, access, limiter

    def accounts(self) -> bool:
        return bool(self.store.count_users() > 0)

    @property
    def open(self) -> bool:
        return self.access.open and not self.accounts()

    def check_limit(self, client: str) -> None:
        wait = self.limiter.retry_after(client)
        if wait:
            raise TooManyAttempts(wait)

    def failed(self, client: str) -> None:
        self.limiter.failed(client)

    def password(self, name: str, given: str, client: str) -> Principal | None:
        """A sign-in by name and password (the shared password, or an account's)."""
        self.check_limit(client)
        if (
            self.access.password
            and same(given, self.access.password)
            and (self.access.user is None or same(name, self.access.user))
        ):
            return Principal(name or None, "admin", "shared")
        user = self.store.get_user(name) if name else None
        known = verify_password(user.password_hash if user else None, given)
        if known and user is not None and not user.disabled:
            return Principal(user.name, user.role, "password")
        self.failed(client)
        return None

    def bearer(self, given: str, client: str) -> Principal | None:
        self.check_limit(client)
        if self.access.token and same(given, self.access.token):
            return Principal(None, "admin", "shared")
        user = self.store.token_user(digest(given)) if given else None
        if user is not None:
            return Principal(user.name, user.role, "token")
        self.failed(client)
        return None

    def identify(
        self, authorization: str, cookies: dict[str, str], client: str, now: datetime
    ) -> Principal | None:
        """The principal a request proves, or None. Raises TooManyAttempts."""
        scheme, _, value = authorization.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer":
            return self.bearer(value, client)
        if scheme == "basic":
            try:
                name, _, given = (
                    base64.b64decode(value, validate=True).decode("utf-8").partition(":")
                )
            except (ValueError, UnicodeDecodeError):
                self.check_limit(client)
                self.failed(client)
                return None
            return self.password(name, given, client)
        session = cookies.get(SESSION_COOKIE)
        if session:
            user = self.store.session_user(digest(session), now)
            if user is not None:
                return Principal(user.name, user.role, "session")
        shared = cookies.get(TOKEN_COOKIE)
        if shared and self.access.token and same(shared, self.access.token):
            return Principal(None, "admin", "shared")
        if self.open:
            return Principal(None, "admin", "open")
        return None
