"""The package tree is the architecture: layered imports, no cycles (docs/architecture.md).

Every ``import`` of every module of ``astrovader/`` (also those inside functions) is
read with ``ast``. A module may import its own layer or a lower one, never a higher
one, and the module graph has no cycle.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "astrovader"
LAYERS = {
    "astrovader.errors": 0,
    "astrovader._io": 0,
    "astrovader._spark": 0,
    "astrovader._version": 0,
    "astrovader._quiet": 0,
    "astrovader._progress": 0,
    "astrovader._lazy": 0,
    "astrovader.config": 1,
    # data/ by job: reading and tables on nothing else of data/, simulation on the readers'
    # ImageSet and scaling, pipelines on both, and the run-level modules on top.
    "astrovader.data.images": 2.0,
    "astrovader.data.tables": 2.0,
    "astrovader.data.simulated": 2.1,
    "astrovader.data.pipelines": 2.2,
    "astrovader.data": 2.3,  # sources, prepare, latent_index and the package's lazy names
    "astrovader.model": 3,
    "astrovader.training": 4,
    "astrovader.inference": 5,
    "astrovader.selection": 5,
    "astrovader.analysis": 5,
    "astrovader.api": 6,
    "astrovader.cli": 7,
    "astrovader.__main__": 8,
    "astrovader": 8,  # the package facade (lazy exports)
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer(name: str) -> int:
    prefixes = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    match = max(prefixes, key=len)
    return LAYERS[match]


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The astrovader modules that ``name`` imports (``from X import Y`` is X.Y if a module)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t.split(".")[0] == "astrovader" and t != name)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def test_every_module_has_a_layer():
    assert all(layer(name) >= 0 for name in modules())


def test_no_module_imports_a_higher_layer():
    upward = sorted(
        f"{source} ({layer(source)}) imports {target} ({layer(target)})"
        for source, targets in graph().items()
        for target in targets
        if layer(target) > layer(source)
    )
    assert upward == []


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def test_the_import_graph_has_no_cycle():
    assert find_cycles(graph()) == []


@pytest.mark.parametrize(
    ("edges", "cycles"),
    [({"a": {"b"}, "b": {"a"}}, [["a", "b"]]), ({"a": {"b"}, "b": {"c"}, "c": set()}, [])],
)
def test_the_cycle_finder_finds_cycles(edges, cycles):
    assert find_cycles(edges) == cycles


def test_upward_imports_are_seen(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from astrovader.cli import main\n")
    assert imports("astrovader.data.x", path, set(modules())) == {"astrovader.cli"}
