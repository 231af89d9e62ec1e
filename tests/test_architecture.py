"""The package's shape: layers point one way, no import cycle, no module over 500 lines.

Imports are read from the source (every ``import``/``from ... import``, also those inside
functions), so a lazy import that closes a cycle counts as a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ssbflow"
MAX_LINES = 500

#: Layer of each top-level part; a module may import its own part and parts of lower rank.
#: ``analysis`` and ``structures`` share rank 1 but must not import each other.
RANK = {
    "errors": 0, "io": 0, "data": 0, "examples": 0,
    "analysis": 1, "structures": 1,
    "engines": 2, "methods": 3, "studies": 4, "runtime": 5, "hpc": 6, "cli": 7,
    "workflows": 8,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """ssbflow modules imported by the module (resolved to modules that exist)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("ssbflow.") and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_layers_point_one_way() -> None:
    wrong = []
    for module, targets in _graph().items():
        here = _part(module)
        for target in targets:
            there = _part(target)
            if here == there or here not in RANK or there not in RANK:
                continue
            sideways = {here, there} == {"analysis", "structures"}
            if RANK[there] > RANK[here] or sideways or there == "workflows":
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layers: " + ", ".join(sorted(wrong))


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # a package's __init__ re-exporting its own submodules is not a cycle
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("layer", ["analysis", "structures"])
def test_lowest_layers_import_no_engine_code(layer: str) -> None:
    bad = sorted(
        f"{m} -> {t}"
        for m, ts in _graph().items()
        if _part(m) == layer
        for t in ts
        if _part(t) in {"engines", "methods", "studies", "runtime", "hpc", "cli", "workflows"}
    )
    assert not bad, ", ".join(bad)
