"""The package's shape: which package may import which (no cycle between packages), and module sizes."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import REPO

PACKAGE = REPO / "newscrawl"


def _unit(module: str) -> str:
    """The unit a module belongs to: its subpackage (``newscrawl.store``), or itself for a top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every newscrawl module ``path`` imports, at the top or inside a function (a lazy import is a dependency)."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("newscrawl"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("newscrawl"):
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(_module_name(path))
        for name in _imports(path):
            while name not in modules and "." in name:  # "newscrawl.store.Store" is newscrawl.store's
                name = name.rsplit(".", 1)[0]
            if name in modules and _unit(name) != unit:
                graph.setdefault(unit, set()).add(_unit(name))
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_package_imports_one_that_imports_it_back():
    assert _cycle(_graph()) is None, " → ".join(_cycle(_graph()))


def test_the_layers_point_one_way():
    graph = _graph()
    # Identity and normalisation are plain functions: they import neither Scrapy components nor the store.
    for plain in ("newscrawl.identity", "newscrawl.normalize"):
        assert graph.get(plain, set()) <= {"newscrawl.normalize"}, (plain, graph.get(plain))
    # Parsers read pages; they never reach the crawl machinery, the store or the spiders.
    assert not graph.get("newscrawl.extract", set()) & {"newscrawl.crawl", "newscrawl.store", "newscrawl.spiders"}
    # The store knows nothing of the crawl.
    assert not graph.get("newscrawl.store", set()) & {"newscrawl.crawl", "newscrawl.spiders", "newscrawl.extract"}


def test_a_long_module_says_why_it_is_long():
    # Over ~350 lines, a module's docstring says why it is one module ("(One module…").
    long = [p for p in PACKAGE.rglob("*.py") if len(p.read_text("utf-8").splitlines()) > 350]
    unexplained = [str(p.relative_to(REPO)) for p in long
                   if "(One module" not in (ast.get_docstring(ast.parse(p.read_text("utf-8"))) or "")]
    assert not unexplained, unexplained
