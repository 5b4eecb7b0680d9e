"""Import boundaries of pipelines/ (issue 12): no module-level import cycle; the real-data mappings never
import the generator; intake, quality and warehouse import neither; the package format
(pipelines.filing_package) imports none of them.

Static and fast: every module's source is parsed with `ast`, nothing is imported.

- An import of `a.b.c` (or `from a.b import c`) runs the `__init__` of `a` and `a.b` first, so it is an edge
  to those packages too — a package `__init__` that imports its own submodules is how
  `pipelines.synth/__init__` used to pull the whole generator into an import cycle.
- Cycles count module-level imports only (also in class bodies, `if` and `try` blocks, not under
  `if TYPE_CHECKING:`): an import inside a function runs late, when everything is loaded, and is the
  deliberate way to break a cycle. The forbidden-import rules count every import, late ones included, and
  `importlib.import_module("…")` / `__import__("…")` of a literal name.
- Imports made from computed names (the injector registry of pipelines.synth.inject) are not seen.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Known module-level cycles outside the files of issue 12, each a frozenset of the modules of its strongly
# connected component, with a comment naming the cycle. Nothing else may join a cycle; fix a listed one
# and delete its entry (the test fails on stale entries too).
ALLOWED_CYCLES: dict[frozenset[str], str] = {}

# importer prefix -> prefixes it must never import (at module level or late)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "pipelines.mappings": ("pipelines.synth",),
    "pipelines.intake": ("pipelines.synth", "pipelines.mappings"),
    "pipelines.quality": ("pipelines.synth", "pipelines.mappings"),
    "pipelines.warehouse": ("pipelines.synth", "pipelines.mappings"),
    "pipelines.filing_package": (
        "pipelines.synth",
        "pipelines.mappings",
        "pipelines.intake",
        "pipelines.quality",
        "pipelines.warehouse",
    ),
}

# Packages with no cycle among their modules even counting late imports (convert.py and loans.py of the
# mappings used to import each other, one side inside a function).
ACYCLIC_EVEN_LATE = ("pipelines.mappings", "pipelines.filing_package")

# Packages whose __init__ must import no pipelines module at module level (importing any of their
# submodules would otherwise load them all).
LIGHT_PACKAGES = ("pipelines", "pipelines.synth", "pipelines.mappings", "pipelines.filing_package")


def modules(root: Path, top: str = "pipelines") -> dict[str, Path]:
    """Dotted module name -> source file, for every .py under root/top (a package is its __init__)."""
    out = {}
    for path in sorted((root / top).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST, *, late: bool):
    """The nodes that run when the module is imported (late=False), or all of them (late=True)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not late:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    continue
                if isinstance(child, ast.If) and _is_type_checking(child.test):
                    stack.extend(child.orelse)
                    continue
            stack.append(child)


def imports(name: str, path: Path, known: dict[str, Path], *, late: bool) -> set[str]:
    """The modules of `known` that importing `name` imports (late=True: anywhere in it), with their
    parent packages."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _nodes(ast.parse(path.read_bytes(), str(path)), late=late):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)  # submodules, if they are
        elif (
            late
            and isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets.add(node.args[0].value)
    out = set()
    for target in targets:
        out.update(m for m in [*_parents(target), target] if m in known and m != name)
    return out


def graph(root: Path, top: str = "pipelines", *, late: bool = False) -> dict[str, set[str]]:
    known = modules(root, top)
    return {name: imports(name, path, known, late=late) for name, path in known.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def a_cycle(g: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest import path from the component's first module back to itself, within the component."""
    members, first = set(component), component[0]
    previous: dict[str, str] = {}
    queue = deque([first])
    while queue:
        v = queue.popleft()
        for w in sorted(g[v] & members):
            if w == first:
                path = [v]
                while path[-1] != first:
                    path.append(previous[path[-1]])
                return [first, *reversed(path[:-1]), first] if v != first else [first, first]
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return component


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# ---- the repository -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_graph() -> dict[str, set[str]]:
    return graph(ROOT)


@pytest.fixture(scope="module")
def late_graph() -> dict[str, set[str]]:
    return graph(ROOT, late=True)


def test_the_graph_sees_the_code(module_graph: dict[str, set[str]]) -> None:
    assert len(module_graph) > 100
    assert "pipelines.mappings.loans" in module_graph["pipelines.mappings.convert"]
    assert "pipelines.filing_package.writer" in module_graph["pipelines.synth.engine"]
    assert "pipelines.filing_package" in module_graph["pipelines.synth.engine"]  # the parent package


def test_no_import_cycles(module_graph: dict[str, set[str]]) -> None:
    found = cycles(module_graph)
    new = [c for c in found if frozenset(c) not in ALLOWED_CYCLES]
    stale = [sorted(c) for c in ALLOWED_CYCLES if sorted(c) not in found]
    message = [
        f"import cycle among {len(c)} modules: {' -> '.join(a_cycle(module_graph, c))}\n  all: {', '.join(c)}"
        for c in new
    ] + [f"ALLOWED_CYCLES lists a cycle that is gone (delete its entry): {', '.join(c)}" for c in stale]
    assert not message, "\n".join(message)


@pytest.mark.parametrize("importer", sorted(FORBIDDEN))
def test_forbidden_imports(late_graph: dict[str, set[str]], importer: str) -> None:
    bad = sorted(
        f"{name} imports {target}"
        for name, targets in late_graph.items()
        if _under(name, importer)
        for target in targets
        if any(_under(target, banned) for banned in FORBIDDEN[importer])
    )
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", ACYCLIC_EVEN_LATE)
def test_no_cycles_even_late(late_graph: dict[str, set[str]], package: str) -> None:
    inside = {n: {t for t in ts if _under(t, package)} for n, ts in late_graph.items() if _under(n, package)}
    found = [" -> ".join(a_cycle(inside, c)) for c in cycles(inside)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("package", LIGHT_PACKAGES)
def test_light_package_inits(module_graph: dict[str, set[str]], package: str) -> None:
    assert package in module_graph
    heavy = sorted(t for t in module_graph[package] if _under(t, "pipelines"))
    assert not heavy, f"{package}/__init__.py imports {heavy} when imported; keep it free of imports"


# ---- the checker itself, on a made-up package ---------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checker_finds_cycles_through_package_inits(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            # a <-> b, one side relative
            "app/a.py": "from app.b import x\n",
            "app/b.py": "from . import a\nx = 1\n",
            # an __init__ that re-exports a submodule which imports a sibling: gen -> gen.run -> (gen.util) gen
            "app/gen/__init__.py": "from app.gen.run import go\n",
            "app/gen/run.py": "from app.gen.util import helper\n\ndef go():\n    return helper()\n",
            "app/gen/util.py": "def helper():\n    return 1\n",
            # late and type-only imports do not make cycles
            "app/c.py": "import app.d\n",
            "app/d.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import app.c\n\n"
                "def f():\n    import app.c\n"
            ),
        },
    )
    g = graph(tmp_path, "app")
    found = cycles(g)
    assert ["app.a", "app.b"] in found
    assert ["app.gen", "app.gen.run"] in found
    assert not any("app.c" in c for c in found)
    assert a_cycle(g, ["app.a", "app.b"]) == ["app.a", "app.b", "app.a"]
    late = graph(tmp_path, "app", late=True)
    assert "app.c" in late["app.d"] and "app.c" not in g["app.d"]


def test_checker_sees_literal_import_module(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/x.py": "import importlib\n\ndef f():\n    return importlib.import_module('app.y')\n",
            "app/y.py": "",
        },
    )
    assert "app.y" in graph(tmp_path, "app", late=True)["app.x"]
    assert "app.y" not in graph(tmp_path, "app")["app.x"]
