"""The one test of a link that may be shown, stored or clicked. Imports nothing of ours.

Feed text is untrusted: only an absolute ``http``/``https`` URL with a host survives;
``javascript:``, ``data:``, ``file:``, relative links with no base, and URLs carrying
whitespace, control characters or markup are dropped.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

MAX_URL = 4096


def safe_url(url: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL (resolved against ``base`` when given), or None."""
    if not url:
        return None
    url = url.strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>"' for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
