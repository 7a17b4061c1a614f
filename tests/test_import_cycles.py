"""No two modules under ``src/freqprobe`` import each other, directly or through others.

The imports are read with :mod:`ast`, not executed: every ``import`` and ``from ... import`` counts, also those inside
functions (lazy imports still tie two modules together) and under ``if TYPE_CHECKING:``. A name imported from a
package resolves to the module that defines it, through the package's ``__init__`` (``from M import name`` there, or
its lazy ``_EXPORTS = {name: "module"}`` table), so that importing a package's public name from one of its own
submodules is not counted as a cycle through the ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Cycles that other changes of issue 12 remove (compare and sweeps become packages); while exactly these remain the
# test is an expected failure, any other cycle fails it. Remove an entry once its cycle is gone.
class Package:
    """The modules of one package tree on disk and the imports between them."""

    def __init__(self, root: Path):
        self.name = root.name
        self.files = {self._module_name(path, root): path for path in sorted(root.rglob("*.py"))}
        self.trees = {name: ast.parse(path.read_text(), str(path)) for name, path in self.files.items()}

    def _module_name(self, path: Path, root: Path) -> str:
        parts = [self.name, *path.relative_to(root).with_suffix("").parts]
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def is_package(self, module: str) -> bool:
        return self.files[module].name == "__init__.py"

    def graph(self) -> dict[str, set[str]]:
        """module -> the modules of this tree it imports (itself excluded)."""
        return {module: self.imports_of(module) - {module} for module in self.files}

    def imports_of(self, module: str) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(self.trees[module]):
            if isinstance(node, ast.Import):
                found.update(self._known(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(module, node.module, node.level)
                found.update(self._resolve_from(base, alias.name) for alias in node.names)
        found.discard(None)
        return found

    def _absolute(self, module: str, target: str | None, level: int) -> str:
        if level == 0:
            return target or ""
        package = module if self.is_package(module) else module.rpartition(".")[0]
        for _ in range(level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{target}" if target else package

    def _known(self, module: str) -> str | None:
        """``module`` or its nearest enclosing module of this tree (``import a.b.c`` of a missing ``c``), else None."""
        while module and module not in self.files:
            module = module.rpartition(".")[0]
        return module or None

    def _resolve_from(self, base: str, name: str, seen: frozenset = frozenset()) -> str | None:
        """The module that ``from base import name`` ties to: a submodule, the defining module of a re-export, or
        ``base`` itself."""
        if f"{base}.{name}" in self.files:
            return f"{base}.{name}"
        if base not in self.files or not self.is_package(base) or base in seen:
            return self._known(base)
        source = self._reexport_source(base, name)
        return self._resolve_from(*source, seen | {base}) if source else base

    def _reexport_source(self, package: str, name: str) -> tuple[str, str] | None:
        """``(module, name there)`` that the ``__init__`` of ``package`` takes ``name`` from, or None when it
        defines ``name`` itself."""
        for node in ast.walk(self.trees[package]):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return self._absolute(package, node.module, node.level), alias.name
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
                table = ast.literal_eval(node.value)  # the lazy exports of freqprobe.lazy: name -> module
                if name in table:
                    return table[name], name
        return None


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module, each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def cycle_path(graph: dict[str, set[str]], component: list[str], start: str) -> list[str]:
    """A shortest import path inside ``component`` from ``start`` back to itself (breadth first)."""
    members = set(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & members):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if successor not in parents:
                    parents[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"{start} is on no cycle inside {component}")


def find_cycles(root: Path) -> list[list[str]]:
    """The import cycles among the modules under ``root``, each a path ``a -> ... -> a``: the shortest one through
    each module of every strongly connected group, without repeats."""
    graph = Package(root).graph()
    cycles: list[list[str]] = []
    for component in strongly_connected(graph):
        for start in component:
            path = cycle_path(graph, component, start)
            if not any(same_cycle(path, known) for known in cycles):
                cycles.append(path)
    return cycles


def same_cycle(path: list[str], other: list[str]) -> bool:
    """Whether two closed paths are the same cycle entered at different modules."""
    ring, other_ring = path[:-1], other[:-1]
    return len(ring) == len(other_ring) and any(ring[i:] + ring[:i] == other_ring for i in range(len(ring)))


def cyclic_groups(root: Path) -> list[set[str]]:
    """The groups of modules under ``root`` that import each other (strongly connected, more than one module)."""
    return [set(component) for component in strongly_connected(Package(root).graph())]


def describe(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_module_of_freqprobe_imports_itself_through_others():
    root = SRC / "freqprobe"
    cycles = find_cycles(root)
    assert not cycles, f"modules under src/freqprobe import each other in a cycle:\n{describe(cycles)}"


# ---- the detector itself, on small packages written to tmp_path -------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_a_cycle_through_a_lazy_import_inside_a_function_is_found(tmp_path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import helper\n",
            "pkg/b.py": "def helper():\n    from pkg import c\n",
            "pkg/c.py": "def later():\n    from .a import helper\n",
        },
    )
    assert find_cycles(package) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_relative_imports_two_levels_up_and_plain_imports_count(tmp_path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/top.py": "import pkg.sub.deep.leaf\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/deep/__init__.py": "",
            "pkg/sub/deep/leaf.py": "from ... import top\n",
        },
    )
    assert find_cycles(package) == [["pkg.sub.deep.leaf", "pkg.top", "pkg.sub.deep.leaf"]]


def test_an_acyclic_package_with_init_reexports_passes(tmp_path):
    # Submodules import public names through their package's __init__, which re-exports them eagerly or lazily:
    # each resolves to the defining module, so no cycle runs through an __init__.
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.core import base\n_EXPORTS = {'extra': 'pkg.more'}\n",
            "pkg/core.py": "def base():\n    pass\n",
            "pkg/more.py": "from pkg import base\ndef extra():\n    pass\n",
            "pkg/user.py": "from . import extra, base\nimport pkg.core\n",
        },
    )
    assert Package(package).graph()["pkg.user"] == {"pkg.more", "pkg.core"}
    assert find_cycles(package) == []


def test_a_cycle_through_a_name_the_init_defines_itself_is_found(tmp_path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.core import base\nVERSION = 1\n",
            "pkg/core.py": "from pkg import VERSION\ndef base():\n    pass\n",
        },
    )
    assert find_cycles(package) == [["pkg", "pkg.core", "pkg"]]


def test_two_separate_cycles_are_both_reported(tmp_path):
    package = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "import pkg.a\n",
            "pkg/c.py": "from pkg.d import x\n",
            "pkg/d.py": "from pkg.c import y\nx = 1\n",
        },
    )
    cycles = find_cycles(package)
    assert cycles == [["pkg.a", "pkg.b", "pkg.a"], ["pkg.c", "pkg.d", "pkg.c"]]
    assert describe(cycles) == "pkg.a -> pkg.b -> pkg.a\npkg.c -> pkg.d -> pkg.c"
