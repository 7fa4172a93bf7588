"""HTML and untrusted text → clean plain text, for every source kind.

Block elements become paragraph breaks (a blank line), ``<br>`` a line break; scripts,
styles and other non-text elements are dropped; entities are decoded; whitespace is
collapsed. Links survive only when they are absolute http(s) URLs.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.textfmt import one_line


_PARA = "\ue000"  # private-use markers, placed before whitespace is collapsed
_LINE = "\ue001"
_DROP = "script,style,noscript,template,iframe,svg,math,object,embed,canvas,select,button"
_BLOCKS = (
    "p,div,section,article,header,footer,aside,nav,main,h1,h2,h3,h4,h5,h6,ul,ol,li,dl,dt,dd,"
    "table,thead,tbody,tr,blockquote,pre,figure,figcaption,hr,form,address,details,summary,"
    "fieldset,center"
)
_CELLS = "td,th"
_WS = re.compile(r"[\s\u200b\ufeff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANKS = re.compile(r"\n{3,}")
_CHARSET_HEADER = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def clean_text(text: str | None) -> str:
    """Plain text: control characters removed, spaces collapsed, blank lines at most one."""
    if not text:
        return ""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _mark_blocks(root: LexborNode) -> None:
    for node in root.css(_DROP):
        node.decompose()
    for node in root.css(_BLOCKS):
        node.insert_before(_PARA)
        node.insert_after(_PARA)
    for node in root.css(_CELLS):
        node.insert_after(" ")
    for node in root.css("br"):
        node.insert_before(_LINE)


def _render(raw: str) -> str:
    text = _WS.sub(" ", _CONTROL.sub("", raw))
    text = text.replace(_LINE, "\n").replace(_PARA, "\n\n")
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def html_to_text(html: str | None) -> str:
    """An HTML fragment or document as plain text with paragraphs separated by a blank line."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return clean_text(html)
    tree = LexborHTMLParser(html)
    root = tree.body if tree.body is not None else tree.root
    if root is None:
        return ""
    _mark_blocks(root)
    return _render(root.text(deep=True, separator=""))


def page_text(html: str, selector: str | None = None) -> tuple[str, str, int]:
    """``(title, text, matched)`` of a whole page, or of the parts matching a CSS ``selector``.

    ``matched`` is how many elements the selector matched (1 without a selector).
    Raises ValueError for an invalid selector.
    """
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = one_line(title_node.text()) if title_node is not None else ""
    root = tree.body if tree.body is not None else tree.root
    if root is None:
        return title, "", 0
    _mark_blocks(root)
    if not selector:
        return title, _render(root.text(deep=True, separator="")), 1
    try:
        nodes = tree.css(selector)
    except Exception as exc:  # selectolax raises its own ValueError/SelectolaxError
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from None
    parts = [_render(_PARA + n.text(deep=True, separator="") + _PARA) for n in nodes]
    return title, "\n\n".join(p for p in parts if p), len(nodes)


def paragraphs(text: str) -> list[str]:
    """Split plain text (as produced here) into its non-empty paragraphs."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Bytes of an HTML page as text: charset from the header, else ``<meta>``, else sniffed."""
    candidates: list[str] = []
    if body.startswith(b"\xef\xbb\xbf"):
        candidates.append("utf-8-sig")
    if content_type and (m := _CHARSET_HEADER.search(content_type)):
        candidates.append(m.group(1))
    if m2 := _META_CHARSET.search(body[:4096]):
        candidates.append(m2.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for enc in candidates:
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return decode_unknown(body)


# the legacy encodings news text is likely to come in; detection among fewer is surer
_LEGACY_ENCODINGS = [
    "cp1252",
    "cp1251",
    "koi8_r",
    "cp1250",
    "iso8859_2",
    "cp1253",
    "cp1254",
    "cp1256",
    "iso8859_15",
    "iso8859_5",
]


def decode_unknown(raw: bytes) -> str:
    """Bytes that are not UTF-8: the likeliest legacy encoding (charset-normalizer)."""
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000], cp_isolation=_LEGACY_ENCODINGS).best()
    return raw.decode(best.encoding if best else "cp1252", errors="replace")


def language_code(value: str | None) -> str | None:
    """``"en-US"`` / ``"en_gb"`` / ``"RU"`` → ``"en"`` / ``"en"`` / ``"ru"``; anything else → None."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None
