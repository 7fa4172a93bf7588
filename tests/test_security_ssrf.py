"""SSRF guard (issue 13, item 10): every IPv6 spelling that embeds a private or loopback
IPv4 address is refused by the one address guard, before any connection."""

from __future__ import annotations

import pytest

from monitor.config import HttpConfig
from monitor.sources.http import HttpClient, RefusedAddress, address_allowed

EMBEDDING_PRIVATE = [
    "::127.0.0.1",
    "::7f00:1",
    "::10.0.0.1",
    "::192.168.1.1",  # IPv4-compatible
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:0:127.0.0.1",
    "::ffff:0:10.1.2.3",  # IPv4-translated (SIIT)
    "64:ff9b::7f00:1",
    "64:ff9b::10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix
    "64:ff9b:1::7f00:1",
    "64:ff9b:1:7f00:1::",
    "64:ff9b:1::8.8.8.8",  # NAT64 local use (RFC 8215)
    "2002:7f00:1::",
    "2002:a00:1::1",
    "2002:c0a8:101::1",
    "2002:a9fe:a9fe::",  # 6to4
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:7f00:1:8000:63bf:f7f7:f7f7",  # Teredo, server 127.0.0.1
    "::127.0.0.1%eth0",
]
PUBLIC = [
    "8.8.8.8",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("ip", EMBEDDING_PRIVATE)
def test_ipv6_forms_embedding_a_private_ipv4_address_are_refused(ip):
    assert address_allowed(ip) is False


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_and_forms_embedding_a_public_one_are_allowed(ip):
    assert address_allowed(ip) is True


def test_embedded_ipv4_finds_the_loopback_in_each_form():
    import ipaddress

    from monitor.sources.http import embedded_ipv4

    loop = ipaddress.IPv4Address("127.0.0.1")
    for ip in ("::127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"):
        assert loop in embedded_ipv4(ipaddress.IPv6Address(ip)), ip


@pytest.mark.parametrize(
    "host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[::ffff:7f00:1]", "[2002:7f00:1::1]"]
)
def test_the_client_refuses_such_urls_before_connecting(host):
    with HttpClient(HttpConfig(connect_timeout=1, timeout=1)) as client:
        with pytest.raises(RefusedAddress, match="private, loopback or link-local"):
            client.get(f"http://{host}:9/feed.xml")
