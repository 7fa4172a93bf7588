"""Folder sources: one item per new or changed file; the shipped seeds/ folder."""

from __future__ import annotations

import shutil
from datetime import timezone

import pytest

from conftest import ROOT
from helpers_sources import source_cfg
from monitor.config import HttpConfig, load_config
from monitor.errors import FetchError
from monitor.sources import make_source
from monitor.sources.base import SourceState


def folder_source(tmp_path, **kw):
    return make_source(source_cfg("folder", path="docs", **kw), HttpConfig(), tmp_path)


def test_default_config_seeds_source_reads_the_shipped_seeds(project):
    cfg = load_config(project / "config.yaml")
    seeds = next(s for s in cfg.sources if s.kind == "folder")
    source = make_source(seeds, cfg.http, cfg.base_dir)
    result = source.fetch(SourceState())
    files = sorted(p.name for p in (project / "seeds").iterdir() if p.suffix == ".txt")
    assert len(result.items) == len(files) and result.warnings == []
    first = next(i for i in result.items if i.key.startswith(files[0]))
    lines = [
        ln
        for ln in (project / "seeds" / files[0]).read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    assert first.title == lines[0].strip()
    assert lines[1].strip()[:40] in first.text
    assert first.published.tzinfo == timezone.utc
    assert source.fetch(result.state).items == []  # nothing changed


def test_new_and_changed_files_become_items_with_new_keys(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Title A\n\nBody of A.\n", encoding="utf-8")
    source = folder_source(tmp_path)
    first = source.fetch(SourceState())
    assert [(i.title, i.text) for i in first.items] == [("Title A", "Body of A.")]
    (docs / "a.txt").write_text("Title A\n\nBody of A, corrected.\n", encoding="utf-8")
    (docs / "b.md").write_text("\n\n# Title B\nBody *of* B.\n", encoding="utf-8")
    second = source.fetch(first.state)
    assert sorted((i.title, i.text) for i in second.items) == [
        ("Title A", "Body of A, corrected."),
        ("Title B", "Body *of* B."),
    ]
    changed = next(i for i in second.items if i.title == "Title A")
    assert changed.key.startswith("a.txt@") and changed.key != first.items[0].key
    (docs / "a.txt").unlink()
    third = source.fetch(second.state)
    assert third.items == [] and list(third.state.data["files"]) == ["b.md"]


def test_html_and_eml_files(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.html").write_text(
        "<html><head><title>Page title</title></head><body><h1>H</h1><p>Para &amp; more</p>"
        "<script>x()</script></body></html>",
        encoding="utf-8",
    )
    (docs / "note.eml").write_bytes(
        b"From: Analyst <a@example.org>\r\nSubject: =?utf-8?q?Baku_=E2=80=94_update?=\r\n"
        b"Date: Tue, 01 Oct 2024 12:00:00 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"The body of the mail.\r\n"
    )
    items = {i.key.split("@")[0]: i for i in folder_source(tmp_path).fetch(SourceState()).items}
    assert (items["page.html"].title, items["page.html"].text) == ("Page title", "H\n\nPara & more")
    mail = items["note.eml"]
    assert (mail.title, mail.text, mail.author) == (
        "Baku — update",
        "The body of the mail.",
        "Analyst <a@example.org>",
    )
    assert mail.published.tzinfo == timezone.utc and mail.published.hour == 10


def test_patterns_recursion_and_hidden_files(tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / ".hidden").mkdir()
    (docs / "top.txt").write_text("Top\nx", encoding="utf-8")
    (docs / "sub" / "deep.txt").write_text("Deep\nx", encoding="utf-8")
    (docs / ".hidden" / "secret.txt").write_text("Secret\nx", encoding="utf-8")
    (docs / ".dot.txt").write_text("Dot\nx", encoding="utf-8")
    (docs / "image.png").write_bytes(b"\x89PNG")
    titles = lambda src: sorted(i.title for i in src.fetch(SourceState()).items)  # noqa: E731
    assert titles(folder_source(tmp_path)) == ["Deep", "Top"]
    assert titles(folder_source(tmp_path, recursive=False)) == ["Top"]
    assert titles(folder_source(tmp_path, patterns=["deep.*"])) == ["Deep"]


def test_oversized_and_undecodable_files(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.txt").write_text("Big\n" + "word " * 1000, encoding="utf-8")
    (docs / "latin.txt").write_bytes("Café\nrésumé".encode("latin-1"))
    result = folder_source(tmp_path, max_bytes=100).fetch(SourceState())
    assert any("big.txt is larger than 100 bytes" in w for w in result.warnings)
    latin = next(i for i in result.items if i.key.startswith("latin.txt"))
    assert (latin.title, latin.text) == ("Café", "résumé")


def test_missing_folder_is_a_fetch_error(tmp_path):
    with pytest.raises(FetchError, match="folder not found"):
        folder_source(tmp_path).fetch(SourceState())


def test_relative_path_resolves_against_base_dir(tmp_path):
    shutil.copytree(ROOT / "seeds", tmp_path / "docs")
    assert folder_source(tmp_path).fetch(SourceState()).items


def test_a_one_word_kicker_above_the_headline_is_not_the_title():
    from monitor.sources.folder import read_text_file

    title, text = read_text_file(
        "Analysis\n\nYerevan and Moscow: the crisis of trust\n\nBody text.\n".encode()
    )
    assert title == "Yerevan and Moscow: the crisis of trust"
    assert text.startswith("Analysis") and "Body text." in text
    lead = "Seeing a high likelihood that the route will become a lasting reality, the Kremlin wants a part. More."
    title, text = read_text_file(f"Wire.US\n{lead}\n".encode())
    assert (
        title
        == "Seeing a high likelihood that the route will become a lasting reality, the Kremlin wants a part."
    )
    assert lead in text
    # a short title over a short body stays as it was
    assert read_text_file(b"Title A\n\nBody of A.\n") == ("Title A", "Body of A.")
