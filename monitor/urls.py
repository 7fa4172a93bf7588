"""The one test of a link that may be shown, stored or clicked. Imports nothing of ours.

Feed text is untrusted: only an absolute ``http``/``https`` URL with a host survives;
``javascript:``, ``data:``, ``file:``, relative links with no base, and URLs carrying
whitespace, control characters or markup are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urljoin, urlsplit

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
    if len(url) > MAX_URL or any(
        c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>"' for c in url
    ):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def item_link(url: str | None) -> str | None:
    """The link of a stored item, as alerts and the page show it: an http(s) URL (see
    :func:`safe_url`), or the ``file://`` URL of a file a folder source read. Only folder
    sources store ``file:`` URLs — feed and page links pass :func:`safe_url` when they are
    read — so a file URL here names a file in a watched folder; it is shown with an absolute
    path and no control characters or markup, or not at all."""
    good = safe_url(url)
    if good is not None or not url:
        return good
    url = url.strip()
    if len(url) > MAX_URL or any(
        c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>"' for c in url
    ):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if (
        parts.scheme.lower() != "file"
        or parts.netloc not in ("", "localhost")
        or not parts.path.startswith("/")
    ):
        return None
    return url


# -- labels for channel URLs ---------------------------------------------------------------

# ``${VAR}`` / ``${VAR:-default}``: group 1 the name, 2 the default. The one pattern for it
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEY = re.compile(r"(pass|pwd|secret|token|key|auth|sig|cred)", re.IGNORECASE)
MASK = "****"
_MARK = re.compile(r"envref(\d+)x")
_ONLY_MARKS = re.compile(r"(?:envref\d+x)+")


def redact_url(template: str, secrets: Iterable[str] = (), *, keep_refs: bool = False) -> str:
    """The label under which a channel URL is stored, shown and logged: written from the URL
    as the config file spells it, before ``${VAR}`` expansion. Scheme, host and port stay
    readable; every part that came from ``${…}`` (user, password, host, path segment, query
    key or value, ``+Header`` value) becomes ``****``, and so do a password, the value of a
    query key that names a secret (``token=``, ``-apikey=``, ``+X-Api-Key=``), and any part
    holding one of ``secrets`` (what the URL's own plugin calls secret), even when written
    out. The fragment is dropped. The one function for this, so no place shows more.

    ``keep_refs``: the URL as an editor shows it — each ``${VAR}`` reference stays as
    written (a name, never its value) and the fragment is kept; whatever is written out in
    a secret's place is still ``****``."""
    known = [x for x in secrets if x and len(x) >= 3]
    marks: list[str] = []

    def mark(m: re.Match[str]) -> str:
        marks.append(m.group(0))
        return f"envref{len(marks) - 1}x"

    text = ENV_REF.sub(mark, template)

    def restore(part: str) -> str:
        return _MARK.sub(lambda m: marks[int(m.group(1))], part)

    def hide(part: str) -> str:
        if keep_refs:
            return MASK if any(x in unquote(_MARK.sub("", part)) for x in known) else restore(part)
        if _MARK.search(part) or any(x in unquote(part) for x in known):
            return MASK
        return part

    def secret(part: str) -> str:
        """A password or a secret query value: shown only as a reference."""
        return restore(part) if keep_refs and _ONLY_MARKS.fullmatch(part) else MASK

    scheme, sep, rest = text.partition("://")
    if not sep:
        return f"{hide(text.split(':', 1)[0]) or '(no scheme)'}:{MASK}"
    rest, hash_, fragment = rest.partition("#")
    netloc, slash, tail = rest.partition("/")
    if not slash and "?" in netloc:
        netloc, _, query = netloc.partition("?")
        path = ""
    else:
        path, _, query = tail.partition("?")
    userinfo, at, hostport = netloc.rpartition("@")
    label = hide(scheme) + "://"
    if at:
        user, colon, password = userinfo.partition(":")
        label += hide(user) + (":" + secret(password) if colon else "") + "@"
    if hostport.startswith("[") and "]" in hostport:  # an IPv6 literal
        host, _, after = hostport.partition("]")
        host += "]"
        colon, port = (":", after[1:]) if after.startswith(":") else ("", "")
    else:
        host, colon, port = hostport.partition(":")
    label += hide(host) + (":" + hide(port) if colon else "")
    if slash:
        label += "/" + "/".join(hide(seg) for seg in path.split("/"))
    if query:
        pairs = []
        for pair in query.split("&"):
            key, eq, value = pair.partition("=")
            if eq and _SECRET_KEY.search(restore(key) if keep_refs else key):
                value = secret(value)
            elif eq:
                value = hide(value)
            pairs.append(hide(key) + (eq + value if eq else ""))
        label += "?" + "&".join(pairs)
    if keep_refs and hash_:
        label += "#" + hide(fragment)
    return label
