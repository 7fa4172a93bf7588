"""Dialects of a message and the escaping of untrusted text in each.

Feed text is untrusted. Every value that comes from a feed is escaped on output for the
dialect it is rendered in; only the pieces built from it here and in the renderer (the
emphasised snippet, links to checked http(s) URLs, bold) are passed as already-safe
``Markup``:

    dialect    escaping of feed text                        emphasis     link
    text       pings defanged (@channel, <!here>)           **word**     the URL
    markdown   \\-escape of * _ [ ] ( ) < > ! | ~ # ` \\     **word**     [label](url)
    slack      & < > → &amp; &lt; &gt; (no <!channel>,       *word*       <url|label>
               no <@U…>, no <https://evil|bank>)
    html       Jinja2 autoescape                            <mark>       <a href="url">
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from markupsafe import Markup, escape as html_escape

from monitor.textfmt import clean, one_line

DIALECTS = ("text", "markdown", "slack", "html")

_MARKED = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_PINGS = re.compile(r"([@!])(channel|here|everyone)\b", re.IGNORECASE)
_SLACK_CONTROL = re.compile(r"<([!@#])")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>!|~#])")
_ZWSP = "\u200b"


def defang(text: str) -> str:
    """Break mass-mention words so no chat service turns them into a ping."""
    return _PINGS.sub(lambda m: f"{m.group(1)}{_ZWSP}{m.group(2)}", text)


def escape_text(text: str) -> str:
    return defang(clean(text))


def escape_markdown(text: str) -> str:
    return defang(_MD_SPECIAL.sub(r"\\\1", clean(text)))


def escape_slack(text: str) -> str:
    """Slack's own escaping: with & < > escaped no control sequence (<!channel>, <@U1>, <url|x>) survives."""
    return defang(clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _slack_url(url: str) -> str:
    return url.replace("&", "&amp;").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


@dataclass(frozen=True)
class Dialect:
    name: str
    escape: Callable[[str], str]
    bold: Callable[[str], str]
    mark: Callable[[str], str]
    link: Callable[[str, str], str]  # (url already checked, escaped label) -> markup


def _text_link(url: str, label: str) -> str:
    return url


DIALECT: dict[str, Dialect] = {
    "text": Dialect("text", escape_text, lambda s: s, lambda s: f"**{s}**", _text_link),
    "markdown": Dialect(
        "markdown",
        escape_markdown,
        lambda s: f"**{s}**",
        lambda s: f"**{s}**",
        lambda url, label: f"[{label}]({url.replace(')', '%29').replace('(', '%28')})",
    ),
    "slack": Dialect(
        "slack",
        escape_slack,
        lambda s: f"*{s}*",
        lambda s: f"*{s}*",
        lambda url, label: f"<{_slack_url(url)}|{label}>",
    ),
    "html": Dialect(
        "html",
        lambda s: str(html_escape(clean(s))),
        lambda s: f"<strong>{s}</strong>",
        lambda s: f"<mark>{s}</mark>",
        lambda url, label: f'<a href="{html_escape(url)}">{label}</a>',
    ),
}


def emphasise(snippet: str, dialect: Dialect) -> Markup:
    """The matcher's snippet (matched words as ``**word**``) with every part escaped and the
    matched words emphasised in the dialect's way."""
    out: list[str] = []
    pos = 0
    snippet = clean(snippet)
    for m in _MARKED.finditer(snippet):
        out.append(dialect.escape(snippet[pos : m.start()]))
        out.append(dialect.mark(dialect.escape(m.group(1))))
        pos = m.end()
    out.append(dialect.escape(snippet[pos:]))
    text = "".join(out)
    if dialect.name == "html":
        text = text.replace("\n", "<br>\n")
    return Markup(text)


def split_title(snippet: str, title: str) -> str:
    """The snippet with a line break where the item's title ends and its body begins, when
    the excerpt starts at the title (the matcher runs them together on one line)."""
    head = one_line(title)
    if not head:
        return snippet
    i = n = 0
    while i < len(snippet) and n < len(head):
        if snippet.startswith("**", i):
            i += 2
            continue
        if snippet[i] != head[n]:
            return snippet
        i, n = i + 1, n + 1
    while snippet.startswith("**", i):
        i += 2
    if n == len(head) and i < len(snippet) and snippet[i] == " ":
        return snippet[:i] + "\n" + snippet[i + 1 :]
    return snippet
