"""The shape of the package (docs/architecture.md): modules of one concept each, under 400
lines; no import cycle among the modules' own imports; the store, SQL only, imports nothing of
the stages it stores for."""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "monitor"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(name: str, node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The modules of ours an import statement names (a submodule where ``from x import y``
    names one, else ``x``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, *([base] if base else [])])
    found = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in MODULES:
            found.append(sub)
        elif base in MODULES:
            found.append(base)
    return found


def _imports(name: str, top_level_only: bool) -> set[str]:
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(_imported(name, node, package))
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif not top_level_only:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child])
                    for inner in ast.walk(child):
                        if isinstance(inner, (ast.Import, ast.ImportFrom)):
                            found.update(_imported(name, inner, package))

    visit(tree.body)
    found.discard(name)
    return found


def test_no_module_is_over_400_lines_and_the_median_is_near_100():
    lines = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in MODULES.items()}
    over = {n: k for n, k in lines.items() if k > MAX_LINES}
    assert over == {}
    assert statistics.median(lines.values()) < 160


def test_no_import_cycle_among_the_modules():
    graph = {name: _imports(name, top_level_only=True) for name in MODULES}
    assert graph["monitor.daemon"] >= {"monitor.pipeline", "monitor.daemon_jobs"}
    # Tarjan's strongly connected components: a component of more than one module is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    assert cycles == []


def test_the_store_imports_nothing_of_the_stages():
    store = [n for n in MODULES if n == "monitor.store" or n.startswith("monitor.store.")]
    assert len(store) > 5
    stages = ("monitor.notify", "monitor.matching", "monitor.sources", "monitor.pipeline")
    found = {
        n: sorted(i for i in _imports(n, top_level_only=False) if i.startswith(stages))
        for n in store
    }
    assert {n: i for n, i in found.items() if i} == {}
