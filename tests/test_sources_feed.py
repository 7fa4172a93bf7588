"""Feed sources: real-world feeds, hostile bodies, identity, conditional GET, full text."""

from __future__ import annotations

import json
from datetime import timezone

import pytest

from helpers_sources import (  # noqa: F401
    FIXTURES,
    LOCAL,
    billion_laughs,
    peak_memory,
    release,
    rss,
    server,
    source_cfg,
    story_items,
    threaded_server,
)
from monitor.errors import FetchError
from monitor.sources import make_source
from monitor.sources.base import SourceState
from monitor.sources.feed import parse_feed
from monitor.sources.feedharden import harden

EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
FEED_FILES = sorted(name for name in EXPECTED if not name.startswith("_"))
MiB = 1024 * 1024


def feed_source(server, path="/feed", **kw):
    return make_source(source_cfg("feed", url=server.url_for(path), **kw), LOCAL)


def test_every_fixture_has_an_expectation():
    on_disk = {p.name for p in FIXTURES.iterdir()} - {"LICENSE", "expected.json"}
    assert on_disk == set(FEED_FILES) and len(FEED_FILES) == 31


@pytest.mark.parametrize("name", FEED_FILES)
def test_real_feeds_parse_into_sensible_items(name):
    expected = EXPECTED[name]
    body = (FIXTURES / name).read_bytes()
    if "error" in expected:
        with pytest.raises(FetchError, match=expected["error"]):
            parse_feed(body, source="real", url="https://example.com/feed")
        return
    parsed = parse_feed(body, source="real", url="https://example.com/feed")
    assert parsed.version == expected["version"]
    assert len(parsed.items) == expected["items"]
    if parsed.items:
        assert parsed.items[0].title == expected["first_title"]
    keys = [i.key for i in parsed.items]
    assert len(keys) == len(set(keys))
    for item in parsed.items:
        assert item.source == "real" and item.key
        assert item.title or item.text
        assert "<" not in item.text or "<" in item.text.replace(
            "<p>", ""
        )  # no leftover paragraph markup
        assert item.url is None or item.url.startswith(("http://", "https://"))
        assert item.published is None or item.published.tzinfo == timezone.utc
        assert item.language is None or item.language.isalpha() and len(item.language) in (2, 3)
        assert item.content_hash


def test_html_in_feed_content_becomes_clean_text():
    body = rss(
        [
            {
                "guid": "1",
                "title": "A &amp; B",
                "link": "https://example.org/1",
                "description": "<p>First <b>bold</b> para.</p><script>alert(1)</script><p>Second&nbsp;para.</p>",
            }
        ]
    )
    item = parse_feed(body, source="s").items[0]
    assert item.title == "A & B"
    assert item.text == "First bold para.\n\nSecond para."


def test_only_http_links_survive():
    body = rss(
        [
            {"guid": "1", "title": "x", "link": "javascript:alert(1)"},
            {"guid": "2", "title": "y", "link": "data:text/html,hi"},
            {"guid": "3", "title": "z", "link": "/relative/3"},
        ]
    )
    items = parse_feed(body, source="s", url="https://news.example.org/feed.xml").items
    assert [i.url for i in items] == [None, None, "https://news.example.org/relative/3"]


def test_identity_guid_then_link_then_content_hash():
    body = rss(
        [
            {"guid": "urn:g1", "link": "https://example.org/a", "title": "with guid"},
            {"link": "https://example.org/b", "title": "link only"},
            {"title": "neither", "description": "text"},
        ]
    )
    keys = [i.key for i in parse_feed(body, source="s").items]
    assert keys[0] == "urn:g1" and keys[1] == "https://example.org/b"
    assert keys[2].startswith("sha:")
    again = [i.key for i in parse_feed(body, source="s").items]
    assert again == keys  # stable across polls


def test_duplicate_guids_first_wins_with_a_warning():
    body = rss(
        [
            {"guid": "same", "title": "first"},
            {"guid": "same", "title": "second"},
            {"guid": "other", "title": "third"},
        ]
    )
    parsed = parse_feed(body, source="s")
    assert [i.title for i in parsed.items] == ["first", "third"]
    assert any("repeat an id" in w for w in parsed.warnings)


def test_language_from_item_then_feed_then_http_then_config():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de-DE"><title>t</title>
      <entry xml:lang="ru"><id>1</id><title>Privet</title><summary>text</summary></entry>
      <entry><id>2</id><title>Hallo</title><summary>text</summary></entry></feed>"""
    items = parse_feed(atom, source="s").items
    assert [i.language for i in items] == ["ru", "de"]
    plain = rss([{"guid": "1", "title": "t"}])
    assert parse_feed(plain, source="s").items[0].language is None  # the matcher detects
    assert (
        parse_feed(plain, source="s", headers={"Content-Language": "fr-FR"}).items[0].language
        == "fr"
    )
    assert (
        parse_feed(rss([{"guid": "1", "title": "t"}], language="en-us"), source="s")
        .items[0]
        .language
        == "en"
    )
    assert parse_feed(plain, source="s", language="az").items[0].language == "az"


def test_published_is_aware_utc():
    body = rss([{"guid": "1", "title": "t", "pubDate": "Tue, 01 Oct 2024 12:30:00 +0300"}])
    published = parse_feed(body, source="s").items[0].published
    assert published.tzinfo == timezone.utc and (published.hour, published.minute) == (9, 30)


def test_json_feed():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "language": "en",
            "items": [
                {
                    "id": 1,
                    "url": "https://example.org/1",
                    "title": "One",
                    "content_html": "<p>Hi <i>there</i></p>",
                    "date_published": "2024-10-01T12:00:00Z",
                    "authors": [{"name": "Ann"}],
                },
                {"id": "2", "url": "javascript:x", "content_text": "Just text"},
            ],
        }
    ).encode()
    items = parse_feed(body, source="s").items
    assert [(i.key, i.title, i.text, i.url, i.author, i.language) for i in items] == [
        ("1", "One", "Hi there", "https://example.org/1", "Ann", "en"),
        ("2", "", "Just text", None, None, "en"),
    ]
    assert items[0].published.tzinfo == timezone.utc and items[0].published.hour == 12


def test_harden_removes_doctype_even_with_tricky_quotes():
    body = (
        b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE rss [ <!ENTITY a "]> <!ENTITY b \'x\'>"> ]>'
        b'<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    )
    out, warnings = harden(body)
    assert b"ENTITY" not in out and b"DOCTYPE" not in out
    assert out.endswith(b'<rss version="2.0"><channel><title>&a;</title></channel></rss>')
    assert warnings


def test_harden_handles_utf16_bodies():
    text = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x [<!ENTITY e "boom">]><rss version="2.0"><channel><title>Ü</title><item><guid>1</guid><title>&e;</title></item></channel></rss>'
    out, _ = harden(text.encode("utf-16"))
    assert b"ENTITY" not in out and b'encoding="utf-8"' in out
    parsed = parse_feed(text.encode("utf-16"), source="s")
    assert parsed.title == "Ü" and "boom" not in parsed.items[0].title


def test_entity_expansion_feed_is_refused_with_low_memory(server):
    body = billion_laughs()
    assert len(body) < MiB
    server.expect_request("/laughs").respond_with_data(body, content_type="application/rss+xml")
    with peak_memory() as mem:
        result = feed_source(server, "/laughs").fetch(SourceState())
    assert mem["peak"] < 40 * MiB, mem
    assert any("entity declarations removed" in w for w in result.warnings)
    for item in result.items:
        assert "lollol" not in item.title and "xxxx" not in item.text
        assert len(item.document) < 200_000


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"\x00\x01garbage\xff\xfe not xml at all", "application/octet-stream"),
        (
            b"<!doctype html><html><head><title>Login</title></head><body><p>Please sign in</p></body></html>",
            "text/html",
        ),
        (b"", "application/rss+xml"),
    ],
)
def test_garbage_and_html_bodies_are_reported_not_crashed(server, body, content_type):
    server.expect_request("/bad").respond_with_data(body, content_type=content_type)
    with pytest.raises(FetchError, match="not a feed"):
        feed_source(server, "/bad").fetch(SourceState())


def test_truncated_feed_yields_its_items_with_a_warning(server):
    whole = rss(story_items(3))
    server.expect_request("/cut").respond_with_data(whole[: whole.index(b"<item>", 300) + 40])
    result = feed_source(server, "/cut").fetch(SourceState())
    assert result.items and any("malformed" in w for w in result.warnings)


def test_feed_of_1000_items(server):
    server.expect_request("/big").respond_with_data(
        rss(story_items(1000)), content_type="application/rss+xml"
    )
    result = feed_source(server, "/big").fetch(SourceState())
    assert len(result.items) == 1000
    assert len({i.key for i in result.items}) == 1000
    assert result.items[999].title == "Story 999" and result.items[999].text == "Body of story 999."


def test_conditional_get_304_means_no_parse_and_no_items(server):
    server.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v1"'}
    )
    server.expect_request("/feed").respond_with_data(
        rss(story_items(2)),
        headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Oct 2024 10:00:00 GMT"},
    )
    source = feed_source(server)
    first = source.fetch(SourceState())
    assert len(first.items) == 2 and first.state.etag == '"v1"'
    assert first.state.last_modified == "Tue, 01 Oct 2024 10:00:00 GMT"
    second = source.fetch(first.state)
    assert second.not_modified and second.items == [] and second.warnings == []
    assert second.state.etag == '"v1"' and second.state.data == first.state.data
    request = server.log[-1][0]
    assert request.headers["If-Modified-Since"] == "Tue, 01 Oct 2024 10:00:00 GMT"


def test_validators_of_another_url_are_not_sent(server):
    server.expect_request("/new").respond_with_data(rss(story_items(1)))
    stale = SourceState(etag='"old"', data={"url": "https://elsewhere.example/feed"})
    result = feed_source(server, "/new").fetch(stale)
    assert len(result.items) == 1
    assert "If-None-Match" not in server.log[-1][0].headers


def test_ttl_and_max_age_set_the_earliest_next_poll(server):
    server.expect_request("/ttl").respond_with_data(
        rss(story_items(1), ttl=90), headers={"Cache-Control": "max-age=600"}
    )
    assert feed_source(server, "/ttl").fetch(SourceState()).min_next_poll == 90 * 60
    server.expect_request("/age").respond_with_data(
        rss(story_items(1)), headers={"Cache-Control": "max-age=600"}
    )
    assert feed_source(server, "/age").fetch(SourceState()).min_next_poll == 600


def test_full_text_fetches_new_articles_once(server):
    article = (
        "<html><head><title>A</title></head><body><nav>Home | World</nav><article><h1>Headline</h1>"
        + "".join(
            f"<p>Paragraph {i} of the full article about the talks in Baku, with enough words "
            f"to count as the main text of the page.</p>"
            for i in range(8)
        )
        + "</article><footer>Copyright</footer></body></html>"
    )
    server.expect_request("/article/1").respond_with_data(article, content_type="text/html")
    server.expect_request("/article/2").respond_with_data("", status=404)
    items = [
        {
            "guid": "1",
            "title": "Talks",
            "link": server.url_for("/article/1"),
            "description": "Short summary.",
        },
        {
            "guid": "2",
            "title": "Gone",
            "link": server.url_for("/article/2"),
            "description": "Other summary.",
        },
    ]
    server.expect_request("/feed").respond_with_data(rss(items))
    source = feed_source(server, full_text=True)
    first = source.fetch(SourceState())
    talks, gone = first.items
    assert "Paragraph 7 of the full article" in talks.text and "Copyright" not in talks.text
    assert gone.text == "Other summary."
    assert any("full text unavailable" in w and "/article/2" in w for w in first.warnings)
    assert sorted(first.state.data["full_text_done"]) == ["1", "2"]
    fetched = sum(1 for req, _ in server.log if req.path.startswith("/article/"))
    second = source.fetch(first.state)
    assert (
        sum(1 for req, _ in server.log if req.path.startswith("/article/")) == fetched
    )  # not again
    assert [i.key for i in second.items] == ["1", "2"]


def test_a_body_cut_before_the_closing_tag_leaves_its_last_entry_for_the_next_poll():
    from monitor.sources.feed import parse_feed

    whole = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><guid>a</guid><title>First</title><description>Complete.</description></item>"
        b"<item><guid>b</guid><title>Second</title><description>Cut here and the rest"
    )
    parsed = parse_feed(whole, source="s")
    assert [i.key for i in parsed.items] == ["a"]
    assert any("closing tag" in w for w in parsed.warnings)
    full = whole + b" is here.</description></item></channel></rss>\n<!-- served by x -->\n"
    assert [i.key for i in parse_feed(full, source="s").items] == ["a", "b"]
