"""The project's only HTTP client: polite, bounded GETs for feeds, pages and articles.

    HttpClient(HttpConfig).get(url, etag=…, last_modified=…) ──► HttpResponse
        │  every hop: http/https only, redirects followed by hand (≤ max_redirects),
        │  every connection: host resolved, each address checked (no private, loopback,
        │  link-local … unless allow_private_networks), connected to a checked address
        │  body: read raw, decompressed here with a cap on the *decompressed* size
        └─ raises FetchError (retry later, ``retry_after`` from Retry-After on 429/503)
           or PermanentFetchError (410 Gone, refused address, refused scheme)

A 304 answer comes back as ``HttpResponse(not_modified=True)`` with an empty body.
``Cache-Control: max-age`` is reported as ``HttpResponse.max_age`` (a floor on the next poll).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from monitor import __version__
from monitor.config import HttpConfig
from monitor.errors import FetchError, PermanentFetchError
from monitor.httpheaders import RETRY_AFTER_MAX, parse_retry_after  # noqa: F401  (re-exported)
from monitor.sources.transport import GuardedTransport

log = logging.getLogger(__name__)

USER_AGENT = f"signal-monitor/{__version__}"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SENSITIVE_HEADERS = ("authorization", "cookie", "proxy-authorization")


class RefusedAddress(PermanentFetchError):
    """The host resolves to an address this client will not connect to (SSRF guard)."""


# -- address guard ---------------------------------------------------------------------


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local use: never public
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT ::ffff:0:a.b.c.d


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries: IPv4-mapped and -translated, IPv4-compatible,
    NAT64, 6to4, and both Teredo addresses (server and client)."""
    low = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    if addr.ipv4_mapped is not None:
        found.append(addr.ipv4_mapped)
    if addr in _IPV4_TRANSLATED or addr in _NAT64 or (addr in _IPV4_COMPATIBLE and int(addr) > 1):
        found.append(low)
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    return found


def _public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return addr.is_global and not addr.is_multicast


def address_allowed(ip: str) -> bool:
    """True when ``ip`` is a public unicast address (not private, loopback, link-local …),
    and, for IPv6, every IPv4 address it embeds is public too (``[::127.0.0.1]``,
    ``[64:ff9b::7f00:1]`` and the like reach loopback)."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr in _NAT64_LOCAL:
            return False
        inner = embedded_ipv4(addr)
        if inner:
            # the embedded address decides (a mapped public address is as public as itself)
            return all(_public(a) for a in inner) and (
                addr.ipv4_mapped is not None
                or addr in _NAT64
                or addr.sixtofour is not None
                or _public(addr)
            )
    return _public(addr)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    seen: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in seen:
            seen.append(ip)
    return seen


def check_host(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve ``host``; refuse it when any of its addresses is not public. Returns the addresses."""
    addresses = resolve(host, port)
    if not allow_private:
        bad = [ip for ip in addresses if not address_allowed(ip)]
        if bad:
            raise RefusedAddress(
                f"refused {host}: resolves to a private, loopback or link-local address ({bad[0]}); "
                "set http.allow_private_networks to allow it"
            )
    return addresses


# -- response --------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    url: str  # the final URL, after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    not_modified: bool = False
    elapsed: float = 0.0

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def max_age(self) -> float | None:
        return parse_max_age(self.headers.get("cache-control"))


def parse_max_age(value: str | None) -> float | None:
    """``Cache-Control: max-age=N`` → N seconds (None when absent, no-store or no-cache)."""
    if not value:
        return None
    directives = [d.strip().lower() for d in value.split(",")]
    if any(d in ("no-store", "no-cache") for d in directives):
        return None
    for d in directives:
        m = re.fullmatch(r"max-age\s*=\s*\"?(\d+)\"?", d)
        if m:
            return float(m.group(1))
    return None


# -- body decoding with a cap ---------------------------------------------------------


class _Decoder:
    """Decompresses gzip / deflate a bounded piece at a time, never past ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.out = bytearray()
        self._d = self._new() if encoding else None
        self._raw_deflate_tried = False

    def _new(self) -> "zlib._Decompress":
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)  # deflate: zlib-wrapped

    def _too_big(self) -> FetchError:
        return FetchError(f"response body exceeds {self.limit} bytes (decompressed)")

    def feed(self, data: bytes) -> None:
        if self._d is None:
            if len(self.out) + len(data) > self.limit:
                raise self._too_big()
            self.out += data
            return
        while data:
            room = self.limit - len(self.out) + 1
            try:
                chunk = self._d.decompress(data, room)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._raw_deflate_tried and not self.out:
                    self._raw_deflate_tried = True  # some servers send raw deflate
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchError(f"corrupt {self.encoding} body: {exc}") from None
            self.out += chunk
            if len(self.out) > self.limit:
                raise self._too_big()
            if self._d.eof:  # a further gzip member may follow
                data = self._d.unused_data
                if data:
                    self._d = self._new()
            else:
                data = self._d.unconsumed_tail

    def finish(self) -> bytes:
        if self._d is not None and not self._d.eof:
            self.feed(b"")
            self.out += self._d.flush()
            if len(self.out) > self.limit:
                raise self._too_big()
        return bytes(self.out)


# -- the client ------------------------------------------------------------------------


class HttpClient:
    """One shared, thread-safe client per HttpConfig (connection pool, guard, limits)."""

    def __init__(self, config: HttpConfig | None = None) -> None:
        self.config = config or HttpConfig()
        self.user_agent = self.config.user_agent or USER_AGENT
        self._client = httpx.Client(
            transport=GuardedTransport(
                self._guard,
                httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=30),
            ),
            follow_redirects=False,
            trust_env=False,
        )

    def _guard(self, host: str, port: int) -> list[str]:
        return check_host(host, port, self.config.allow_private_networks)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        max_bytes: int | None = None,
        accept: str | None = None,
    ) -> HttpResponse:
        """GET ``url`` once, following at most ``max_redirects`` redirects by hand.

        ``timeout`` (default ``HttpConfig.timeout``) bounds each read and, together with the
        connect timeout, the whole fetch: a server that trickles bytes is cut off too.
        """
        cfg = self.config
        read_timeout = timeout if timeout is not None else cfg.timeout
        limit = max_bytes or cfg.max_bytes
        deadline = time.monotonic() + cfg.connect_timeout + read_timeout
        started = time.monotonic()
        req_headers = {
            "User-Agent": self.user_agent,
            "Accept-Encoding": "gzip, deflate",
            "Accept": accept or "*/*",
        }
        req_headers.update(headers or {})
        if etag:
            req_headers["If-None-Match"] = etag
        if last_modified:
            req_headers["If-Modified-Since"] = last_modified
        httpx_timeout = httpx.Timeout(read_timeout, connect=cfg.connect_timeout)

        current = url
        for _hop in range(cfg.max_redirects + 1):
            _check_scheme(current)
            try:
                with self._client.stream(
                    "GET", current, headers=req_headers, timeout=httpx_timeout
                ) as resp:
                    status = resp.status_code
                    if status in REDIRECT_STATUSES:
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchError(
                                f"HTTP {status} without a Location header", status=status
                            )
                        target = urljoin(current, location.strip())
                        if urlsplit(target).netloc != urlsplit(current).netloc:
                            for h in list(req_headers):
                                if h.lower() in _SENSITIVE_HEADERS:
                                    del req_headers[h]
                        log.debug("redirect %s → %s", current, target)
                        current = target
                        continue
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                    if status == 304:
                        resp.read()  # no body by definition; lets the connection be reused
                        return HttpResponse(
                            str(resp.url),
                            status,
                            resp_headers,
                            b"",
                            True,
                            time.monotonic() - started,
                        )
                    _raise_for_status(status, resp_headers, current)
                    body = _read_body(
                        resp, resp_headers.get("content-encoding", ""), limit, deadline
                    )
                    return HttpResponse(
                        str(resp.url), status, resp_headers, body, False, time.monotonic() - started
                    )
            except FetchError:
                raise
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out fetching {current} ({type(exc).__name__})") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot fetch {current}: {type(exc).__name__}: {exc}") from None
        raise FetchError(f"more than {cfg.max_redirects} redirects from {url}")


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentFetchError(f"refused URL scheme {scheme or '(none)'!r}: only http and https")


def _raise_for_status(status: int, headers: dict[str, str], url: str) -> None:
    if 200 <= status < 300:
        return
    if status == 410:
        raise PermanentFetchError(f"HTTP 410 Gone: {url} was removed", status=status)
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"))
        hint = f", retry after {retry_after:.0f}s" if retry_after is not None else ""
        raise FetchError(f"HTTP {status} from {url}{hint}", status=status, retry_after=retry_after)
    raise FetchError(f"HTTP {status} from {url}", status=status)


def _read_body(resp: httpx.Response, encoding: str, limit: int, deadline: float) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        encoding = ""
    elif encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(f"unsupported Content-Encoding {encoding!r}")
    declared = resp.headers.get("content-length")
    if not encoding and declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(f"response body exceeds {limit} bytes (Content-Length {declared})")
    decoder = _Decoder(encoding, limit)
    for chunk in resp.iter_raw():  # as received (a chunk size would buffer past the deadline)
        decoder.feed(chunk)
        if time.monotonic() > deadline:
            raise FetchError("timed out: the whole response took too long")
    return decoder.finish()


_shared: dict[HttpConfig, HttpClient] = {}
_shared_lock = threading.Lock()


def shared_client(config: HttpConfig | None = None) -> HttpClient:
    """The process-wide client for ``config`` (sources with the same settings share a pool)."""
    config = config or HttpConfig()
    with _shared_lock:
        client = _shared.get(config)
        if client is None:
            client = _shared[config] = HttpClient(config)
        return client


def fetch(url: str, config: HttpConfig | None = None, **kwargs: Any) -> HttpResponse:
    """``shared_client(config).get(url, **kwargs)``: the one-call form."""
    return shared_client(config).get(url, **kwargs)
