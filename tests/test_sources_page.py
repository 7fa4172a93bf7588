"""Page sources: the text new since the last poll, as one item."""

from __future__ import annotations

import pytest

from helpers_sources import LOCAL, source_cfg
from monitor.errors import FetchError
from monitor.sources import make_source
from monitor.sources.base import SourceState


def page(*paragraphs: str, extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>Ministry statements</title><script>var t = 1;</script></head>"
        f"<body><nav>Home</nav><div id='news'>{body}</div>{extra}</body></html>"
    )


def page_source(server, **kw):
    return make_source(source_cfg("page", url=server.url_for("/page"), **kw), LOCAL)


def serve(server, html: str) -> None:
    server.clear()
    server.expect_request("/page").respond_with_data(html, content_type="text/html; charset=utf-8")


def test_first_poll_is_the_whole_page_then_only_the_new_paragraph(server):
    source = page_source(server)
    serve(server, page("Statement one.", "Statement two."))
    first = source.fetch(SourceState())
    assert len(first.items) == 1
    assert first.items[0].title == "Ministry statements"
    assert first.items[0].text == "Home\n\nStatement one.\n\nStatement two."
    assert "var t" not in first.items[0].text

    serve(server, page("Statement zero, added on top.", "Statement one.", "Statement two."))
    second = source.fetch(first.state)
    assert [i.text for i in second.items] == ["Statement zero, added on top."]
    assert second.items[0].key != first.items[0].key

    third = source.fetch(second.state)
    assert third.items == []


def test_a_paragraph_that_leaves_and_comes_back_is_not_new(server):
    source = page_source(server)
    serve(server, page("A.", "B."))
    state = source.fetch(SourceState()).state
    serve(server, page("A."))
    state = source.fetch(state).state
    serve(server, page("A.", "B."))
    assert source.fetch(state).items == []


def test_selector_narrows_the_page(server):
    serve(server, page("Inside.", extra="<div class='ads'><p>Buy now!</p></div>"))
    result = page_source(server, selector="#news").fetch(SourceState())
    assert result.items[0].text == "Inside."


def test_selector_matching_nothing_warns(server):
    serve(server, page("Inside."))
    result = page_source(server, selector=".missing").fetch(SourceState())
    assert result.items == [] and "matched nothing" in result.warnings[0]


def test_invalid_selector_is_a_fetch_error(server):
    serve(server, page("Inside."))
    with pytest.raises(FetchError, match="selector"):
        page_source(server, selector="p[[").fetch(SourceState())


def test_page_charset_from_meta(server):
    html = "<html><head><meta charset='windows-1251'><title>Новости</title></head><body><p>Баку</p></body></html>"
    server.expect_request("/page").respond_with_data(
        html.encode("windows-1251"), content_type="text/html"
    )
    item = page_source(server).fetch(SourceState()).items[0]
    assert (item.title, item.text) == ("Новости", "Баку")


def test_page_304_keeps_the_seen_paragraphs(server):
    server.expect_request("/page", headers={"If-None-Match": '"p1"'}).respond_with_data(
        "", status=304
    )
    server.expect_request("/page").respond_with_data(page("One."), headers={"ETag": '"p1"'})
    source = page_source(server)
    first = source.fetch(SourceState())
    second = source.fetch(first.state)
    assert second.not_modified and second.items == []
    assert second.state.data["seen"] == first.state.data["seen"]
