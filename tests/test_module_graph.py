"""had_hls's import graph has no cycles: neither among the imports a module runs when it loads (module level)
nor counting the imports inside functions (the layering: a room never reaches back up to the module that uses
it). Read with ast, nothing is imported; ``if TYPE_CHECKING:`` imports count in the second graph too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "had_hls"
STAGE_MODULES = ("had_hls.hls.model_stage", "had_hls.hls.check_stage")  # stages that live in the hls room


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(node: ast.AST, name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        return {module} | {f"{module}.{a.name}" for a in node.names}
    return set()


def _top_level(tree: ast.Module) -> list[ast.AST]:
    """Statements that run at import: the module body, and the bodies of top-level try / if (not TYPE_CHECKING)."""
    nodes: list[ast.AST] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
            continue
        if isinstance(stmt, (ast.Try, ast.If)):
            nodes.extend(ast.walk(stmt))
        else:
            nodes.append(stmt)
    return nodes


def import_graph(module_level: bool) -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        nodes = _top_level(tree) if module_level else list(ast.walk(tree))
        targets = set()
        for node in nodes:
            for target in _imported(node, name, path):
                while target and target not in mods:  # `from pkg import name`: the module pkg (or pkg.name)
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("module_level", [True, False], ids=["module-level", "with-function-imports"])
def test_no_import_cycles(module_level):
    graph = import_graph(module_level)
    assert len(graph) > 50 and "had_hls.ops" in graph and "had_hls.project" in graph
    assert cycles(graph) == []


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_rooms_do_not_import_the_stages_above_them():
    """The layering of docs/architecture.md: the rooms (golden, spec, hls, rtl) never import the ops, the stages
    (verify, estimate), the pipeline or the commands (STAGE_MODULES: the convert and check stages, in hls/)."""
    graph = import_graph(module_level=False)
    upper = ("had_hls.ops", "had_hls.verify", "had_hls.estimate", "had_hls.pipeline", "had_hls.commands",
             "had_hls.cli", "had_hls.api", "had_hls.stages")
    for name, targets in graph.items():
        if name.startswith(("had_hls.hls", "had_hls.rtl", "had_hls.golden", "had_hls.spec", "had_hls.precision",
                            "had_hls.tables", "had_hls.widths", "had_hls.fixed",
                            "had_hls.nn", "had_hls.config", "had_hls.layer")) and name not in STAGE_MODULES:
            bad = sorted(t for t in targets if t.startswith(upper))
            assert not bad, f"{name} imports {bad}"
