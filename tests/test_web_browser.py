"""The review page in a real headless Chromium (Debian's package): filter, open, acknowledge.

Needs /usr/bin/chromium (`apt-get install -y chromium chromium-driver`); Playwright drives it
through ``executable_path`` and never downloads a browser of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers_hits import HitsDB, serve_review_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install -y chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def test_filter_open_and_acknowledge_a_hit(browser, hits_db: HitsDB, tmp_path: Path):
    with serve_review_page(hits_db, default_by="browser-user") as served:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(5000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(served.url + "/")
        total_new = len(hits_db.where(status="new"))
        assert page.locator(".listbar .range").inner_text().endswith(f"of {total_new}")

        # filter: high severity, one source
        page.select_option("select[name=severity]", "high")
        page.select_option("select[name=source]", "seeds")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**severity=high**")
        expected = [
            h
            for h in hits_db.where(status="new")
            if h["severity"] == "high" and h["source"] == "seeds"
        ]
        shown = page.locator("li.hit")
        assert shown.count() == min(50, len(expected)) > 0
        assert set(page.locator("li.hit .sev").all_inner_texts()) == {"HIGH"}  # upper-cased by CSS
        page.screenshot(path=str(tmp_path / "list.png"))

        # open the first hit
        first_id = int(shown.first.get_attribute("data-id"))
        shown.first.locator("a.title").click()
        page.wait_for_url(f"**/hits/{first_id}**")
        hit = next(h for h in hits_db.hits if h["id"] == first_id)
        assert page.locator("h1").inner_text() == hit["title"]
        assert page.locator("blockquote.snippet mark").count() >= 1

        # acknowledge it
        page.click("#ack")
        page.wait_for_selector(".statusline")
        assert page.locator(".statusline").inner_text().startswith("Acknowledged by browser-user")
        assert "browser-user" in page.locator(".statusline").inner_text()
        with hits_db.open() as store:
            row = store.get_hit_row(first_id)
        assert (row.hit.status, row.status_by) == ("acked", "browser-user")

        # back to the filtered list: the hit has left the inbox, the filters are kept
        page.click(".crumbs a")
        page.wait_for_url("**severity=high**")
        assert first_id not in [
            int(x) for x in page.locator("li.hit").evaluate_all("els => els.map(e => e.dataset.id)")
        ]
        assert errors == [], errors
        page.close()
