"""full_text on a fresh install (issue 13, item 11): what the code imports is declared.
The full proof is .ci/run's wheel smoke test (a fresh venv with the interpreter's own pip)."""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower().replace("-", "_")
        for d in data["project"]["dependencies"]
    }


def test_the_html_cleaner_trafilatura_imports_is_declared_directly():
    # older pips (23.x, the interpreter's own) drop trafilatura's lxml[html_clean] extra
    assert {"trafilatura", "lxml", "lxml_html_clean"} <= _declared()
    import lxml.html.clean  # noqa: F401  (what trafilatura imports; raises ImportError without it)


def test_full_text_extraction_imports_and_works():
    from monitor.sources.fulltext import extract_main_text

    page = (
        "<html><body><nav>Home</nav><article><h1>Talks</h1>"
        + "<p>The foreign ministers met in Baku and agreed to continue the talks next month. </p>"
        * 8
        + "</article></body></html>"
    )
    assert "foreign ministers met in Baku" in (
        extract_main_text(page, "https://news.example.org/a") or ""
    )


def test_ci_runs_the_suite_then_the_wheel_smoke_test():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 dev.py test" in ci
    assert ci.index("python3 dev.py test") < ci.index("python3 -m venv")
    assert 'pip" wheel' in ci and "rules check" in ci and "extract_main_text" in ci
