"""Serve the review page with Hypercorn (an asyncio ASGI server).

Why Hypercorn: a connection that has not finished sending its request's headers within
``web.timeout`` is closed (its idle timer runs from the moment a connection opens), every
read has its own ``web.read_timeout``, and waiting connections hold no thread. Requests
run in a bounded pool of ``web.workers`` threads (anyio's thread limiter), since the store
is synchronous SQLite.

Safe by default: on a loopback address (127.0.0.1, ::1, localhost) the page is open to
whoever can reach that address on this machine, until accounts exist (``monitor users
add``). On any other address it refuses to start unless accounts exist or
``MONITOR_WEB_PASSWORD`` (HTTP basic auth; ``MONITOR_WEB_USER`` optionally fixes the user
name) or ``MONITOR_WEB_TOKEN`` is set. When one of them is set, it is required on every
address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

if TYPE_CHECKING:
    from monitor.config import WebConfig

from monitor.errors import ConfigError
from monitor.web.auth import Access

log = logging.getLogger(__name__)

PASSWORD_ENV = "MONITOR_WEB_PASSWORD"
USER_ENV = "MONITOR_WEB_USER"
TOKEN_ENV = "MONITOR_WEB_TOKEN"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_from_env(
    host: str, environ: dict[str, str] | None = None, accounts: bool = False
) -> Access:
    """The access rule for ``host``; raise ConfigError for a public address without a secret."""
    env = os.environ if environ is None else environ
    access = Access(
        password=env.get(PASSWORD_ENV) or None,
        user=env.get(USER_ENV) or None,
        token=env.get(TOKEN_ENV) or None,
    )
    if access.open and not accounts and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the review page on {host} without a secret: add an account "
            f"(monitor users add NAME --role admin), set {PASSWORD_ENV} (basic auth) or {TOKEN_ENV}, "
            f"or bind to 127.0.0.1"
        )
    return access


@dataclass(frozen=True)
class Limits:
    """The server's bounds (the ``web:`` section of the config has the same names)."""

    workers: int = 8
    timeout: float = 10.0
    read_timeout: float = 30.0
    backlog: int = 1024

    @classmethod
    def of(cls, web_config: WebConfig | None) -> "Limits":
        if web_config is None:
            return cls()
        return cls(
            workers=web_config.workers,
            timeout=web_config.timeout,
            read_timeout=web_config.read_timeout,
            backlog=web_config.backlog,
        )


def bind(host: str, port: int, backlog: int) -> socket.socket:
    """A listening socket (port 0 picks a free one: read ``getsockname()[1]``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class Server:
    """One listening socket served by Hypercorn; ``run()`` blocks, ``stop()`` ends it from any thread."""

    def __init__(self, app: Any, sock: socket.socket, limits: Limits = Limits()) -> None:
        self.app, self.sock, self.limits = app, sock, limits
        self.port = sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.started = threading.Event()

    def config(self) -> HypercornConfig:
        cfg = HypercornConfig()
        cfg.bind = [f"fd://{os.dup(self.sock.fileno())}"]  # Hypercorn owns (and closes) its copy
        cfg.backlog = self.limits.backlog
        cfg.keep_alive_timeout = self.limits.timeout  # also: how long a request's headers may take
        cfg.read_timeout = int(max(1, self.limits.read_timeout))
        cfg.accesslog = None  # guard.HostGuard writes the one access line, credentials masked
        cfg.errorlog = logging.getLogger("monitor.web.server")
        cfg.graceful_timeout = 2.0
        cfg.include_server_header = False
        return cfg

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.limits.workers
        self.started.set()
        await hypercorn_serve(
            self.app, self.config(), shutdown_trigger=self._stop.wait, mode="asgi"
        )

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        finally:
            self.sock.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
