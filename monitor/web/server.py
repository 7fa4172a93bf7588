"""Serve the review page: a threaded WSGI server from the standard library.

Safe by default: on a loopback address (127.0.0.1, ::1, localhost) the page is open to
whoever can reach that address on this machine. On any other address it refuses to start
unless ``MONITOR_WEB_PASSWORD`` (HTTP basic auth; ``MONITOR_WEB_USER`` optionally fixes the
user name) or ``MONITOR_WEB_TOKEN`` is set. When one of them is set, it is required on
every address.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from monitor.errors import ConfigError
from monitor.web.app import Access

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


def access_from_env(host: str, environ: dict[str, str] | None = None) -> Access:
    """The access rule for ``host``; raise ConfigError for a public address without a secret."""
    env = os.environ if environ is None else environ
    access = Access(password=env.get(PASSWORD_ENV) or None, user=env.get(USER_ENV) or None,
                    token=env.get(TOKEN_ENV) or None)
    if access.open and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the review page on {host} without a secret: set {PASSWORD_ENV} "
            f"(basic auth) or {TOKEN_ENV}, or bind to 127.0.0.1"
        )
    return access


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's name)
        log.debug("web %s " + format, self.client_address[0], *args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class ThreadingWSGIServer6(ThreadingWSGIServer):
    address_family = socket.AF_INET6


def make_server(app, host: str = "127.0.0.1", port: int = 8080) -> ThreadingWSGIServer:
    """A bound server (port 0 picks a free one: read ``server.server_port``)."""
    cls = ThreadingWSGIServer6 if ":" in host else ThreadingWSGIServer
    server = cls((host.strip("[]"), port), _Handler)
    server.set_app(app)
    return server
