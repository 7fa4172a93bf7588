"""The project's HTTP client against a real local server: limits, statuses, guard."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug import Response

from helpers_sources import LOCAL, gzip_bomb, http_date, peak_memory
from monitor import __version__
from monitor.config import HttpConfig
from monitor.errors import FetchError, PermanentFetchError
from monitor.sources.http import (
    HttpClient,
    RefusedAddress,
    address_allowed,
    parse_max_age,
    parse_retry_after,
)

MiB = 1024 * 1024


@pytest.fixture
def client():
    with HttpClient(LOCAL) as c:
        yield c


def test_get_sends_user_agent_and_returns_body(server, client):
    server.expect_request(
        "/a", headers={"User-Agent": f"signal-monitor/{__version__}"}
    ).respond_with_data("hello", headers={"ETag": '"v1"', "Cache-Control": "public, max-age=600"})
    resp = client.get(server.url_for("/a"))
    assert resp.body == b"hello"
    assert resp.etag == '"v1"'
    assert resp.max_age == 600.0
    assert not resp.not_modified


def test_conditional_get_sends_validators_and_reports_304(server, client):
    server.expect_request(
        "/feed",
        headers={"If-None-Match": '"abc"', "If-Modified-Since": "Tue, 01 Oct 2024 10:00:00 GMT"},
    ).respond_with_data("", status=304, headers={"ETag": '"abc"'})
    resp = client.get(
        server.url_for("/feed"), etag='"abc"', last_modified="Tue, 01 Oct 2024 10:00:00 GMT"
    )
    assert resp.not_modified and resp.body == b"" and resp.status == 304


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_on_429_and_503(server, client, status):
    server.expect_request("/busy").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "120"}
    )
    with pytest.raises(FetchError) as err:
        client.get(server.url_for("/busy"))
    assert err.value.status == status
    assert err.value.retry_after == 120.0
    assert not isinstance(err.value, PermanentFetchError)


def test_retry_after_http_date(server, client):
    when = datetime.now(timezone.utc) + timedelta(minutes=10)
    server.expect_request("/busy").respond_with_data(
        "", status=429, headers={"Retry-After": http_date(when)}
    )
    with pytest.raises(FetchError) as err:
        client.get(server.url_for("/busy"))
    assert 590 <= err.value.retry_after <= 600


def test_gone_is_permanent(server, client):
    server.expect_request("/old").respond_with_data("", status=410)
    with pytest.raises(PermanentFetchError, match="410"):
        client.get(server.url_for("/old"))


def test_server_error_is_retryable(server, client):
    server.expect_request("/err").respond_with_data("boom", status=500)
    with pytest.raises(FetchError) as err:
        client.get(server.url_for("/err"))
    assert err.value.status == 500 and err.value.retry_after is None
    assert not isinstance(err.value, PermanentFetchError)


def test_redirects_are_followed_and_limited(server):
    server.expect_request("/r0").respond_with_data("", status=301, headers={"Location": "/r1"})
    server.expect_request("/r1").respond_with_data("", status=302, headers={"Location": "/final"})
    server.expect_request("/final").respond_with_data("arrived")
    with HttpClient(LOCAL) as c:
        resp = c.get(server.url_for("/r0"))
    assert resp.body == b"arrived" and resp.url.endswith("/final")
    with HttpClient(LOCAL.model_copy(update={"max_redirects": 1})) as c:
        with pytest.raises(FetchError, match="more than 1 redirects"):
            c.get(server.url_for("/r0"))


def test_redirect_to_another_scheme_is_refused(server, client):
    server.expect_request("/evil").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(PermanentFetchError, match="scheme"):
        client.get(server.url_for("/evil"))


def test_non_http_scheme_is_refused(client):
    with pytest.raises(PermanentFetchError, match="scheme"):
        client.get("file:///etc/passwd")


def test_private_addresses_refused_by_default(server):
    server.expect_request("/a").respond_with_data("secret")
    with HttpClient(HttpConfig()) as c:
        with pytest.raises(RefusedAddress, match="allow_private_networks"):
            c.get(server.url_for("/a"))
        with pytest.raises(RefusedAddress):
            c.get(f"http://localhost:{server.port}/a")
    assert len(server.log) == 0  # the guard refuses before connecting


def test_each_redirect_hop_connects_through_the_guard(server):
    # the guard sits where connections are made, so a hop to another host name is
    # resolved and checked like the first request: allowed here, refused by default
    server.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{server.port}/x"}
    )
    server.expect_request("/x").respond_with_data("via localhost")
    with HttpClient(LOCAL) as c:
        assert c.get(server.url_for("/hop")).body == b"via localhost"
    with HttpClient(HttpConfig()) as c, pytest.raises(RefusedAddress):
        c.get(f"http://localhost:{server.port}/x")


@pytest.mark.parametrize(
    "ip, allowed",
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("not an ip", False),
    ],
)
def test_address_allowed(ip, allowed):
    assert address_allowed(ip) is allowed


def test_stall_after_headers_times_out_and_others_are_unaffected(server, release):
    def stall(request):
        def body():
            yield b""  # the headers go out, then nothing
            release.wait(30)
            yield b"too late"

        return Response(
            body(), headers={"Content-Length": "1000"}, content_type="application/rss+xml"
        )

    server.expect_request("/stall").respond_with_handler(stall)
    server.expect_request("/quick").respond_with_data("fine")
    cfg = LOCAL.model_copy(update={"timeout": 0.5, "connect_timeout": 0.5})
    with HttpClient(cfg) as c, ThreadPoolExecutor(2) as pool:
        t0 = time.monotonic()
        stalled = pool.submit(c.get, server.url_for("/stall"))
        quick = pool.submit(c.get, server.url_for("/quick"))
        assert quick.result().body == b"fine"
        quick_done = time.monotonic() - t0
        with pytest.raises(FetchError, match="timed out"):
            stalled.result()
        stalled_done = time.monotonic() - t0
    assert quick_done < 0.5 < stalled_done < 2.0


def test_trickling_server_hits_the_total_deadline(server, release):
    def trickle(request):
        def body():
            for _ in range(100):
                yield b"x"
                release.wait(0.2)  # each byte within the read timeout, the whole far beyond

        return Response(body(), content_type="text/plain")

    server.expect_request("/trickle").respond_with_handler(trickle)
    cfg = LOCAL.model_copy(update={"timeout": 0.5, "connect_timeout": 0.5})
    t0 = time.monotonic()
    with HttpClient(cfg) as c, pytest.raises(FetchError, match="too long"):
        c.get(server.url_for("/trickle"))
    assert time.monotonic() - t0 < 2.0


def test_gzip_bomb_is_capped_with_low_memory(server, client):
    bomb = gzip_bomb(200 * MiB)
    assert len(bomb) < 1 * MiB
    server.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with peak_memory() as mem, pytest.raises(FetchError, match="exceeds"):
        client.get(server.url_for("/bomb"), max_bytes=5 * MiB)
    assert mem["peak"] < 30 * MiB, mem


def test_gzip_body_within_the_cap_is_decompressed(server, client):
    import gzip

    server.expect_request("/gz").respond_with_data(
        gzip.compress(b"abc" * 1000), headers={"Content-Encoding": "gzip"}
    )
    assert client.get(server.url_for("/gz")).body == b"abc" * 1000


def test_deflate_body_raw_or_wrapped(server, client):
    import zlib

    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    server.expect_request("/raw").respond_with_data(
        raw.compress(b"raw deflate") + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    server.expect_request("/zlib").respond_with_data(
        zlib.compress(b"zlib deflate"), headers={"Content-Encoding": "deflate"}
    )
    assert client.get(server.url_for("/raw")).body == b"raw deflate"
    assert client.get(server.url_for("/zlib")).body == b"zlib deflate"


def test_huge_streamed_body_is_capped_with_low_memory(server, client):
    chunk = b"a" * MiB
    sent = []

    def huge(request):
        def body():
            for _ in range(100):  # 100 MB, chunked, no Content-Length
                sent.append(1)
                yield chunk

        return Response(body(), content_type="text/plain")

    server.expect_request("/huge").respond_with_handler(huge)
    with peak_memory() as mem, pytest.raises(FetchError, match="exceeds 10485760 bytes"):
        client.get(server.url_for("/huge"))
    assert mem["peak"] < 40 * MiB, mem
    assert len(sent) < 100  # the client stopped reading long before the end


def test_declared_length_over_the_cap_is_refused_before_reading(server, client):
    server.expect_request("/big").respond_with_data(b"a" * (2 * MiB))
    with pytest.raises(FetchError, match="Content-Length"):
        client.get(server.url_for("/big"), max_bytes=MiB)


def test_parse_retry_after_and_max_age():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(http_date(now + timedelta(seconds=90)), now=now) == 90.0
    assert parse_retry_after(http_date(now - timedelta(seconds=90)), now=now) == 0.0
    assert parse_retry_after("99999999") == 7 * 86400.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_max_age("public, max-age=300") == 300.0
    assert parse_max_age("no-cache, max-age=300") is None
    assert parse_max_age("private") is None
