"""A feed's bytes made safe for an XML parser before feedparser sees them: UTF-16/32 turned
into UTF-8 (its declaration too), and DOCTYPE and ENTITY declarations neutralised, so no
entity is ever expanded (a "billion laughs" feed parses as plain text)."""

from __future__ import annotations

import codecs
import re

from monitor.errors import FetchError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL_ENCODING = re.compile(
    rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2", re.IGNORECASE
)
_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _to_utf8_if_wide(body: bytes) -> bytes:
    """UTF-16/32 bodies become UTF-8 so the byte-level checks below see every declaration."""
    encoding = None
    for bom, enc in _BOMS:
        if body.startswith(bom):
            encoding = enc
            break
    if encoding is None:
        if body[:4] == b"<\x00?\x00":
            encoding = "utf-16-le"
        elif body[:4] == b"\x00<\x00?":
            encoding = "utf-16-be"
    if encoding is None:
        return body
    text = body.decode(encoding, errors="replace").lstrip("\ufeff")
    return _XML_DECL_ENCODING.sub(rb"\1\2utf-8\2", text.encode("utf-8"), count=1)


def _skip_quoted(body: bytes, i: int) -> int:
    end = body.find(body[i : i + 1], i + 1)
    if end < 0:
        raise FetchError("malformed feed: unterminated quoted string in DOCTYPE")
    return end + 1


def _doctype_end(body: bytes, i: int) -> tuple[int, bool]:
    """End offset of the DOCTYPE starting at ``i``, and whether it declared entities."""
    n = len(body)
    j = i + len(b"<!DOCTYPE")
    entities = False
    while j < n:
        c = body[j : j + 1]
        if c in (b'"', b"'"):
            j = _skip_quoted(body, j)
        elif c == b"[":  # internal subset: skip quoted values, comments and PIs
            j += 1
            while j < n and body[j : j + 1] != b"]":
                c = body[j : j + 1]
                if c in (b'"', b"'"):
                    j = _skip_quoted(body, j)
                elif body.startswith(b"<!--", j):
                    k = body.find(b"-->", j + 4)
                    j = n if k < 0 else k + 3
                elif body.startswith(b"<?", j):
                    k = body.find(b"?>", j + 2)
                    j = n if k < 0 else k + 2
                else:
                    if body[j : j + 8].upper() == b"<!ENTITY":
                        entities = True
                    j += 1
            j += 1
        elif c == b">":
            return j + 1, entities
        else:
            j += 1
    raise FetchError("malformed feed: unterminated DOCTYPE")


def harden(body: bytes) -> tuple[bytes, list[str]]:
    """Remove every DOCTYPE (with its entity declarations) before a parser sees the body.

    Entity declarations are how a 0.5 MB feed becomes gigabytes (billion laughs) and how
    external entities read local files; a feed needs neither. Declarations anywhere else
    in the body are neutralised to text.
    """
    warnings: list[str] = []
    body = _to_utf8_if_wide(body)
    if not _DECLARATION.search(body):
        return body, warnings
    i, n = 0, len(body)
    if body.startswith(codecs.BOM_UTF8):
        i = 3
    out = bytearray(body[:i])
    while i < n:
        ws = i
        while i < n and body[i] in b" \t\r\n":
            i += 1
        out += body[ws:i]
        if body.startswith(b"<?", i):
            k = body.find(b"?>", i + 2)
            k = n if k < 0 else k + 2
            out += body[i:k]
            i = k
        elif body.startswith(b"<!--", i):
            k = body.find(b"-->", i + 4)
            k = n if k < 0 else k + 3
            out += body[i:k]
            i = k
        elif body[i : i + 9].upper() == b"<!DOCTYPE":
            end, entities = _doctype_end(body, i)
            if entities:
                warnings.append("entity declarations removed from the feed (not allowed)")
            i = end
        else:
            break
    rest = body[i:]
    if _DECLARATION.search(rest):
        warnings.append("DOCTYPE/ENTITY declarations inside the feed neutralised")
        rest = _DECLARATION.sub(rb"&lt;!\1", rest)
    out += rest
    return bytes(out), warnings
