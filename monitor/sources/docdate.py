"""The date a document says it was published, for folder sources (better than a file's mtime).

    HTML        ── htmldate over the page's markup only (meta tags, structured data, <time>):
                   no extensive text search, never a fetch
    text / md   ── the head of the document: a ``Date:`` / ``Published:`` line (front matter
                   included), or a short byline line holding a date; parsed by dateparser
                   (English and Russian month names, ISO, ``20.11.2026``)

Long paragraphs are not searched: a date inside a sentence ("the agreement of 10 November
2020") is what the text is about, not when it was written.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

log = logging.getLogger(__name__)

HEAD_LINES = 12  # non-empty lines at the top of a text document that may carry its date
BYLINE_CHARS = 100  # a line longer than this is a paragraph, not a byline
_EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)

_LABEL = re.compile(
    r"^\W*(?:date|dated|published|posted|updated|last updated|дата|опубликовано|обновлено)\s*[:：]\s*(.+)$",
    re.IGNORECASE,
)
_MONTH_WORD = r"[A-Za-zА-Яа-яЁё]{3,}\.?"
_TIME = r"(?:,?\s*(?:at\s+|в\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?)?"
_DATE = re.compile(
    "|".join(
        (
            r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
            r"\d{1,2}\.\d{1,2}\.\d{4}" + _TIME,
            r"\d{1,2}\s+" + _MONTH_WORD + r",?\s+\d{4}" + _TIME,
            _MONTH_WORD + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}" + _TIME,
        )
    )
)
_PARSE_SETTINGS = {
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TO_TIMEZONE": "UTC",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "STRICT_PARSING": True,
    "DATE_ORDER": "DMY",
    "PREFER_DAY_OF_MONTH": "first",
}


def _plausible(dt: datetime | None, now: datetime) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    return dt if _EARLIEST <= dt <= now + timedelta(days=1) else None


def parse_date(text: str, now: datetime | None = None) -> datetime | None:
    """The first date written in ``text`` (a short string), in UTC; None when there is none."""
    import dateparser

    now = now or datetime.now(timezone.utc)
    for m in _DATE.finditer(text):
        found = dateparser.parse(m.group(0), languages=["en", "ru"], settings=_PARSE_SETTINGS)
        if (dt := _plausible(found, now)) is not None:
            return dt
    return None


def text_date(text: str, now: datetime | None = None) -> datetime | None:
    """The publication date in the head of a plain-text or markdown document."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:HEAD_LINES]
    for line in lines:  # a labelled date wins over a byline
        if (m := _LABEL.match(line)) and (dt := parse_date(m.group(1)[:BYLINE_CHARS], now)):
            return dt
    for line in lines:
        if len(line) <= BYLINE_CHARS and (dt := parse_date(line, now)):
            return dt
    return None


def html_date(markup: str, now: datetime | None = None) -> datetime | None:
    """The publication date an HTML page declares in its markup."""
    import htmldate
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(markup)  # a parsed tree: htmldate then never fetches anything
        found = htmldate.find_date(
            tree, extensive_search=False, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S"
        )
    except Exception as exc:  # a page htmldate cannot read simply has no date
        log.debug("no date from markup: %s", exc)
        return None
    if not found:
        return None
    return _plausible(datetime.fromisoformat(found), now or datetime.now(timezone.utc))


def prefer(found: datetime | None, mtime: datetime) -> datetime:
    """The document's own date, unless it only names the day the file was written (then the
    file's time of day is the better reading)."""
    if found is None:
        return mtime
    if found.date() == mtime.date() and found.time() == datetime.min.time():
        return mtime
    return found
