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
    "astrovader._malloc": 0,
    "astrovader.config": 1,
    # data/ by job: reading and tables on nothing else of data/, simulation on the readers'
    # ImageSet and scaling, pipelines on both, and the run-level modules on top.
    "astrovader.data.images": 2.0,
    "astrovader.data.tables": 2.0,
    "astrovader.data.simulated": 2.1,
    "astrovader.data.pipelines": 2.2,
    "astrovader.data": 2.3,  # sources, prepare, latent_index and the package's lazy names
    "astrovader.model": 3,
    # training/ by job: the schedule's phases first, the mixture and the run directory on
    # them, and the modules that put a run together on top.
    "astrovader.training.phases": 4.0,
    "astrovader.training.mixture": 4.1,
    "astrovader.training.rundir": 4.1,
    "astrovader.training": 4.2,
    # inference, then the analyses (the explorer opens a similarity search), then the
    # searches (a trial scores its clusters with the analysis metrics).
    "astrovader.inference": 5.0,
    "astrovader.analysis": 5.1,
    "astrovader.selection": 5.2,
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


# ---- the declared public surface -------------------------------------------------------------

# Sub-packages that re-export the names of their modules; cli/ exports main alone (its
# modules are commands, each with its own register and run).
SURFACES = [
    "astrovader.config",
    "astrovader.data",
    "astrovader.data.images",
    "astrovader.data.pipelines",
    "astrovader.data.simulated",
    "astrovader.data.tables",
    "astrovader.model",
    "astrovader.training",
    "astrovader.inference",
    "astrovader.selection",
    "astrovader.analysis",
    "astrovader.api",
]


def declared(path: Path) -> list[str] | None:
    """The literal ``__all__`` of a module, or None."""
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:  # a package's sorted(_EXPORTS)
                return []
    return None


def defined(path: Path) -> set[str]:
    """The names bound at the top level of a module (definitions, assignments, imports)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                names |= {e.id for e in elements if isinstance(e, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def public_modules() -> dict[str, Path]:
    return {
        name: path
        for name, path in modules().items()
        if not path.name.startswith("_") or path.name == "__init__.py"
    }


def test_every_public_module_declares_what_it_exports():
    missing = sorted(name for name, path in public_modules().items() if declared(path) is None)
    assert missing == [], f"modules without __all__: {missing}"
    for name, path in public_modules().items():
        if path.name == "__init__.py":
            continue  # packages re-export lazily (checked below)
        undefined = set(declared(path)) - defined(path)
        assert not undefined, f"{name}.__all__ names what it does not define: {undefined}"


@pytest.mark.parametrize("package", SURFACES)
def test_each_sub_package_re_exports_its_modules_names(package):
    import importlib

    folder = PACKAGE.parent.joinpath(*package.split("."))
    exported = set(importlib.import_module(package).__all__)
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        names = set(declared(path))
        assert names <= exported, f"{package} does not re-export {sorted(names - exported)}"
        module = importlib.import_module(f"{package}.{path.stem}")
        shared = importlib.import_module(package)
        for name in sorted(names):
            assert getattr(shared, name) is getattr(module, name), f"{package}.{name}"


def test_the_readme_imports_only_exported_names():
    readme = (PACKAGE.parent / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```python")[1:]]
    found = []
    for block in blocks:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("astrovader"):
                found.append(node)
    assert found, "the README's examples import nothing from astrovader"
    surfaces = {"astrovader", *SURFACES}
    for node in found:
        assert node.module in surfaces, f"README imports from {node.module}, not a sub-package"
        exported = set(__import__(node.module, fromlist=["__all__"]).__all__)
        names = {a.name for a in node.names}
        assert names <= exported, f"README imports {names - exported} from {node.module}"


def test_arguments_past_the_first_two_are_keyword_only():
    """Public functions and methods with more than three parameters take the rest by keyword."""
    found = []
    for name, path in public_modules().items():
        for node in ast.parse(path.read_text()).body:
            functions = [node] if isinstance(node, ast.FunctionDef) else []
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                functions = [m for m in node.body if isinstance(m, ast.FunctionDef)]
            for fn in functions:
                if fn.name.startswith("_") and fn.name != "__init__":
                    continue
                args = fn.args
                positional = [a.arg for a in args.posonlyargs + args.args]
                positional = [a for a in positional if a not in ("self", "cls")]
                if len(positional) + len(args.kwonlyargs) > 3 and len(positional) > 2:
                    found.append(f"{name}.{fn.name}({', '.join(positional)}, …)")
    assert found == [], found
