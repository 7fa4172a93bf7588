"""``folder`` sources: new or changed files under a directory, one item per file.

    walk(path, patterns, recursive) ──► file changed since last poll? ──► Item

The state maps each file's path (relative to the folder) to its content hash; a new file,
or a file whose content changed, becomes an item keyed ``relpath@hash`` (so an edited file
is a new item). ``.txt``/``.md``: the first non-empty line is the title, the rest the text;
``.html``/``.htm``: the ``<title>`` and the page text; ``.eml``: the subject and the body.
Hidden files and folders are skipped; symbolic links to folders are not followed.
"""

from __future__ import annotations

import re

import email
import email.policy
import email.utils
import fnmatch
import hashlib
import logging
import os
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from monitor.config import HttpConfig, SourceConfig
from monitor.errors import FetchError
from monitor.models import Item, content_hash
from monitor.sources.base import FetchResult, SourceState
from monitor.sources.htmltext import clean_text, decode_html, decode_unknown, html_to_text, one_line, page_text

log = logging.getLogger(__name__)


def decode_text(raw: bytes) -> str:
    """File bytes as text: UTF-8 (with or without BOM), else the detected charset."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return decode_unknown(raw)


def read_text_file(raw: bytes, markdown: bool = False) -> tuple[str, str]:
    """``(title, text)`` of a .txt/.md file.

    The first non-empty line is the title, the rest the text, except after a one-word
    kicker line ("Analysis", a site name): then a headline-like next line (4 to 30 words,
    no closing full stop) is the title, or, when the next line is a paragraph of 12 words
    or more, its first sentence (shortened to 120 characters) is.
    """
    lines = clean_text(decode_text(raw)).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return "", ""

    def strip(line: str) -> str:
        line = line.strip()
        return line.lstrip("#").strip() if markdown else line

    title = strip(lines[0])
    nxt = next((i for i in range(1, min(len(lines), 4)) if lines[i].strip()), None)
    if len(title.split()) == 1 and nxt is not None:
        lead = strip(lines[nxt])
        words = len(lead.split())
        if 4 <= words <= 30 and not lead.endswith("."):
            return one_line(lead), clean_text("\n".join(lines[:nxt] + lines[nxt + 1 :]))
        if words >= 12:
            sentence = re.split(r"(?<=[.!?])\s", lead, maxsplit=1)[0]
            if len(sentence) > 120:
                sentence = sentence[:119].rsplit(" ", 1)[0] + "…"
            return one_line(sentence), clean_text("\n".join(lines))
    return one_line(title), clean_text("\n".join(lines[1:]))


def read_html_file(raw: bytes) -> tuple[str, str]:
    title, text, _ = page_text(decode_html(raw))
    return title, text


def read_email_file(raw: bytes) -> tuple[str, str, str | None, datetime | None]:
    """``(subject, body, from, date)`` of an .eml file; the plain part preferred to HTML."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    subject = one_line(str(msg.get("subject", "")))
    body = ""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is not None:
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            payload = part.get_payload(decode=True) or b""
            content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
        body = html_to_text(content) if part.get_content_subtype() == "html" else clean_text(content)
    author = one_line(str(msg.get("from", ""))) or None
    published = None
    if msg.get("date"):
        try:
            published = email.utils.parsedate_to_datetime(str(msg["date"]))
            if published.tzinfo is None:
                published = published.replace(tzinfo=timezone.utc)
            published = published.astimezone(timezone.utc)
        except (TypeError, ValueError, IndexError):
            published = None
    return subject, body, author, published


class FolderSource:
    kind = "folder"

    def __init__(self, cfg: SourceConfig, http: HttpConfig | None = None, base_dir: Path | None = None,
                 client: object | None = None) -> None:
        if cfg.path is None:
            raise ValueError("a folder source needs a path")
        path = Path(cfg.path).expanduser()
        self.root = path if path.is_absolute() else Path(base_dir or ".") / path
        self.cfg = cfg
        self.name = cfg.name
        self.max_bytes = cfg.max_bytes or (http or HttpConfig()).max_bytes

    def files(self) -> list[tuple[str, Path]]:
        """``(relative path, path)`` of every matching file, sorted."""
        found: list[tuple[str, Path]] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if self.cfg.recursive else []
            for fn in filenames:
                if fn.startswith(".") or not any(fnmatch.fnmatch(fn.lower(), p.lower()) for p in self.cfg.patterns):
                    continue
                path = Path(dirpath) / fn
                if path.is_file():
                    found.append((path.relative_to(self.root).as_posix(), path))
        return sorted(found)

    def fetch(self, state: SourceState) -> FetchResult:
        if not self.root.is_dir():
            raise FetchError(f"folder not found: {self.root}")
        old: dict[str, str] = dict(state.data.get("files", {}))
        current: dict[str, str] = {}
        items: list[Item] = []
        warnings: list[str] = []
        for rel, path in self.files():
            try:
                with path.open("rb") as fh:
                    raw = fh.read(self.max_bytes + 1)
                mtime = path.stat().st_mtime
            except OSError as exc:
                warnings.append(f"cannot read {rel}: {exc.strerror or exc}")
                continue
            if len(raw) > self.max_bytes:
                warnings.append(f"{rel} is larger than {self.max_bytes} bytes: only the start is read")
                raw = raw[: self.max_bytes]
            digest = hashlib.sha256(raw).hexdigest()[:32]
            current[rel] = digest
            if old.get(rel) == digest:
                continue
            try:
                item = self._item(rel, raw, digest, mtime)
            except Exception as exc:  # one unreadable file must not stop the folder
                warnings.append(f"cannot parse {rel}: {type(exc).__name__}: {exc}")
                continue
            if item is not None:
                items.append(item)
        return FetchResult(items=items, state=SourceState(data={"files": current}), warnings=warnings)

    def _item(self, rel: str, raw: bytes, digest: str, mtime: float) -> Item | None:
        suffix = Path(rel).suffix.lower()
        author = None
        published: datetime | None = datetime.fromtimestamp(mtime, tz=timezone.utc)
        if suffix in (".html", ".htm", ".xhtml"):
            title, text = read_html_file(raw)
        elif suffix == ".eml":
            title, text, author, dated = read_email_file(raw)
            published = dated or published
        else:
            title, text = read_text_file(raw, markdown=suffix in (".md", ".markdown"))
        if not title and not text:
            return None
        return Item(
            source=self.name,
            key=f"{rel}@{digest}",
            title=title or Path(rel).stem,
            text=text,
            url=None,
            published=published,
            language=self.cfg.language,
            author=author,
            content_hash=content_hash(title, text),
        )
