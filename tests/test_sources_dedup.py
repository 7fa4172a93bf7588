"""Near-duplicate fingerprints: one story syndicated by three outlets is one story."""

from __future__ import annotations

import itertools
from pathlib import Path

from conftest import ROOT
from helpers_sources import LOCAL, rss, source_cfg
from monitor.dedup import MIN_WORDS, THRESHOLD, distance, fingerprint, similar
from monitor.sources import make_source
from monitor.sources.base import SourceState

WIRE = (
    "Azerbaijan agreed in principle on Tuesday to release eleven Russian citizens detained in Baku "
    "last month, according to officials familiar with the talks. The deputy foreign ministers met "
    "for three hours and discussed the return of the detainees, border security along the transit "
    "corridor, and the resumption of direct flights between the two capitals. A joint statement is "
    "expected later this week. Moscow had summoned the Azerbaijani ambassador twice since the arrests, "
    "which followed a police raid on a community centre. Lawyers for the detained men said they had not "
    "yet been told of any timetable for their release, and relatives gathered outside the court."
)
OTHER = (
    "The central bank left its key interest rate unchanged at sixteen percent on Friday, citing "
    "persistent inflation in services and a tight labour market. Analysts had expected a cut of half "
    "a point after two months of slowing price growth. The governor said the board would consider "
    "easing at its next meeting if the rouble stays stable and budget spending is contained."
)


def seed_text() -> str:
    return next(p for p in sorted((ROOT / "seeds").iterdir()) if p.suffix == ".txt").read_text(
        encoding="utf-8"
    )


def outlets(story: str) -> list[tuple[str, str]]:
    """The same story as three outlets publish it: own headline, byline, footer, small edits."""
    return [
        ("Baku to free detained Russians", story),
        (
            "Azerbaijan agrees to release Russian detainees",
            "By our correspondent in Baku\n\n"
            + story.replace("according to officials", "according to two officials")
            + "\n\nRead more on our site.",
        ),
        (
            "Russians held in Baku may go home",
            "(Agency) — "
            + story.replace(" last month", "")
            + "\n\n© Agency. All rights reserved. Subscribe for daily updates.",
        ),
    ]


def test_same_story_in_three_feeds_is_near_duplicate(server):
    fingerprints = []
    for n, (title, text) in enumerate(outlets(WIRE)):
        items = [
            {"guid": f"{n}-story", "title": title, "description": text},
            {
                "guid": f"{n}-other",
                "title": "Rates",
                "description": OTHER
                if n == 0
                else f"Outlet {n} weather: "
                "rain in the north, sun in the south, and wind along the coast through the weekend.",
            },
        ]
        server.expect_request(f"/outlet{n}").respond_with_data(rss(items))
        result = make_source(
            source_cfg("feed", name=f"outlet{n}", url=server.url_for(f"/outlet{n}")), LOCAL
        ).fetch(SourceState())
        story, other = result.items
        fingerprints.append((fingerprint(story.document), fingerprint(other.document)))
    stories = [s for s, _ in fingerprints]
    for a, b in itertools.combinations(stories, 2):
        assert similar(a, b), distance(a, b)
    for (s, _), (_, o) in itertools.product(fingerprints, fingerprints):
        assert not similar(s, o), distance(s, o)


def test_long_seed_syndicated_and_trimmed():
    text = seed_text()
    paras = [p for p in text.split("\n") if p.strip()]
    copies = [
        "\n".join(paras),
        "Analysis\n\nBy staff\n\n" + "\n".join(paras[1:]),
        "\n".join(paras[:-1]) + "\nRead more at example.org",
    ]
    fps = [fingerprint(t) for t in copies]
    assert all(similar(a, b) for a, b in itertools.combinations(fps, 2))
    assert not similar(fps[0], fingerprint(OTHER))


def test_fingerprint_is_stable_and_64_bit():
    fp = fingerprint(WIRE)
    assert fp == fingerprint(WIRE) and 0 < fp < 2**64
    assert fingerprint(WIRE.upper()) == fp  # case does not matter
    assert fingerprint("  ".join(WIRE.split())) == fp  # nor spacing


def test_short_texts_never_match():
    assert fingerprint("too short to say") == 0
    assert not similar(
        fingerprint("Baku frees the Russians"), fingerprint("Baku frees the Russians")
    )
    assert len("one two three four five six seven eight".split()) == MIN_WORDS
    assert fingerprint("one two three four five six seven eight") != 0


def test_similar_accepts_signed_sqlite_values():
    fp = fingerprint(WIRE) | (1 << 63)
    signed = fp - 2**64
    assert similar(fp, signed) and distance(fp, signed) == 0
    near = fp ^ ((1 << THRESHOLD) - 1)  # exactly THRESHOLD bits differ
    far = fp ^ ((1 << (THRESHOLD + 1)) - 1)
    assert similar(fp, near) and not similar(fp, far)


def test_unrelated_real_feed_items_stay_apart():
    from helpers_sources import FIXTURES
    from monitor.sources.feed import parse_feed

    items = []
    for name in (
        "guardian.rss",
        "heise.atom",
        "encoding.rss",
        "many-links.rss",
        "content-encoded.rss",
    ):
        items += [
            i
            for i in parse_feed(Path(FIXTURES / name).read_bytes(), source="s").items
            if len(i.document.split()) >= 30
        ]
    fps = [(i.title, fingerprint(i.document)) for i in items]
    pairs = list(itertools.combinations(fps, 2))
    merged = [(a[0], b[0]) for a, b in pairs if similar(a[1], b[1])]
    assert len(pairs) > 3000
    # the only pair merged is a real near-duplicate: one announcement republished a year on
    assert merged == [("GTAC Diversity Scholarship", "GTAC Diversity Scholarship")]
