"""The page's outer defences, each in one place.

HostGuard     answer only to the names the page is served as (DNS rebinding): 421 otherwise;
              refuse a request body over MAX_BODY (413) before anything reads it
headers       the Content-Security-Policy and friends on every response
access log    one debug line per request, with every credential in the query masked
local_path    a redirect target only if it is a plain path on this site
LoginLimiter  failed sign-ins per client address, counted over a window
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import deque
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("monitor.web")

SECURITY_HEADERS = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
]
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SECRET_PARAMS = {"token", "password", "secret", "key", "api_key", "session"}
MAX_BODY = 4 * 1024 * 1024  # no request body is larger (a rule file is at most 1 MiB)


def host_name(value: str) -> str:
    """The name in a Host header, without the port, lower-cased (``[::1]:80`` → ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def allowed_hosts(bound: str, extra: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    """Loopback names, the address the page is bound to (unless it is 0.0.0.0 / ::), and ``extra``."""
    names = {*LOOPBACK_NAMES, *(host_name(h) for h in extra if h)}
    if bound and not is_wildcard(bound):
        names.add(host_name(bound) if not bound.count(":") > 1 else bound.strip("[]").lower())
    return frozenset(names)


def redact_query(query: str) -> str:
    """A query string fit for a log: the value of every credential-like parameter masked."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "****" if k.lower() in SECRET_PARAMS else v) for k, v in pairs])


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` as a redirect target only if it is a path on this site: it starts with one
    slash, names no scheme or host, and holds no backslash, space or control character."""
    value = value or ""
    if not value.startswith("/") or value.startswith("//"):
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


class LoginLimiter:
    """At most ``attempts`` failed sign-ins per client address in ``window`` seconds; while
    over the limit, every sign-in from it is refused, right or wrong."""

    def __init__(
        self, attempts: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic
    ):
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, who: str) -> deque[float]:
        now = self.clock()
        q = self._failures.setdefault(who, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, who: str) -> int:
        """Seconds until ``who`` may try again; 0 when it may now."""
        with self._lock:
            q = self._recent(who)
            if len(q) < self.attempts:
                return 0
            return max(1, int(q[0] + self.window - self.clock()) + 1)

    def failed(self, who: str) -> None:
        with self._lock:
            self._recent(who).append(self.clock())
            if len(self._failures) > 10_000:  # forget the quiet ones
                for key in [k for k, q in self._failures.items() if not q]:
                    del self._failures[key]


class HostGuard:
    """ASGI middleware: refuse a Host the page is not served as (421), add the security
    headers to every response, and write the access log line (debug, credentials masked)."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    @staticmethod
    async def refuse(send: Send, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        client = (scope.get("client") or ("-",))[0]
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        status_seen: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS if k.encode() not in have
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        length = headers.get(b"content-length", b"0")
        if host not in self.hosts:
            await self.refuse(
                send_with_headers,
                421,
                b"421 Misdirected Request: this server does not answer to that host name.\n",
            )
        elif not length.isdigit() or int(length) > MAX_BODY:
            await self.refuse(send_with_headers, 413, b"413 Content Too Large.\n")
        else:
            received = 0

            async def bounded_receive() -> Message:
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > MAX_BODY:  # a chunked body that grew past the limit
                    raise ValueError("request body too large")
                return message

            await self.app(scope, bounded_receive, send_with_headers)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "web %s %s %s%s -> %s",
                client,
                scope.get("method"),
                path,
                "?" + redact_query(query) if query else "",
                status_seen[0] if status_seen else "-",
            )
