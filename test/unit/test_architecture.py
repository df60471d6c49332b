"""The architecture's rules, checked on the code: every registered pass has its own module and
lit test, named after its flag; imports run one way, API -> backends -> passes -> dialect ->
support, with no cycle between modules; importing the dialect or the passes does not load the
API or the backends."""

import ast
import os
import subprocess
import sys

import pytest

import tgraph
from tgraph.passes import PASSES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = {"tgraph": os.path.join(ROOT, "python", "tgraph"), "tgraph.dialect": os.path.join(ROOT, "dialect"),
            "tgraph.passes": os.path.join(ROOT, "passes")}
LAYERS = ["support", "dialect", "passes", "backends", "api", "tools"]


def modules():
    """module name -> path, for every module of tgraph's source tree."""
    found = {}
    for package, folder in PACKAGES.items():
        for base, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            rel = os.path.relpath(base, folder)
            prefix = package if rel == "." else package + "." + rel.replace(os.sep, ".")
            if package == "tgraph" and rel.split(os.sep)[0] in ("dialect", "passes"):
                continue
            for name in files:
                if name.endswith(".py"):
                    found[prefix if name == "__init__.py" else f"{prefix}.{name[:-3]}"] = os.path.join(base, name)
    return found


MODULES = modules()


def layer(module):
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the root package: loads the API lazily, imports nothing itself
    return parts[1] if parts[1] in LAYERS else "api"


def imports(module, path):
    """The tgraph modules `module` imports, at the top or inside functions."""
    tree = ast.parse(open(path).read(), path)
    package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: imports(m, p) for m, p in MODULES.items()}


def test_imports_run_one_way():
    upward = [f"{m} ({layer(m)}) imports {d} ({layer(d)})" for m, deps in GRAPH.items() for d in deps
              if layer(m) and layer(d) and LAYERS.index(layer(d)) > LAYERS.index(layer(m))]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
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

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_analysis_sees_imports():
    """The checks above would pass on nothing: they see the edges that exist."""
    assert "tgraph.support.mlir" in GRAPH["tgraph.dialect.core"]
    assert "tgraph.backends.cache" in GRAPH["tgraph.backends.cpu"]
    assert "tgraph.interpreter" in GRAPH["tgraph.graph"]


@pytest.mark.parametrize("lower", ["tgraph.dialect", "tgraph.passes"])
def test_lower_layers_load_without_the_api(lower):
    code = (f"import sys, {lower}; print(sorted(m for m in sys.modules if m.startswith('tgraph.') "
            "and m.split('.')[1] not in ('support', 'dialect', 'passes')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _module_of(name):
    return "tg_" + name[len("tg-"):].replace("-", "_")


@pytest.mark.parametrize("name", sorted(PASSES))
def test_every_pass_has_its_own_module_and_lit_test(name):
    cls = PASSES[name]
    assert cls.__module__.rsplit(".", 1)[-1] == _module_of(name), f"{name} is defined in {cls.__module__}"
    others = [n for n, c in PASSES.items() if c.__module__ == cls.__module__ and n != name]
    assert not others, f"{cls.__module__} also registers {others}"
    lit = [os.path.join(ROOT, "test", "passes", name + ext) for ext in (".mlir", ".py")]
    assert any(os.path.exists(p) for p in lit), f"{name} has no lit test test/passes/{name}.mlir"


def test_every_pass_module_registers_its_pass():
    stray = [m for m in MODULES if m.rsplit(".", 1)[-1].startswith("tg_") and m.startswith("tgraph.passes")
             and m.rsplit(".", 1)[-1] not in {_module_of(n) for n in PASSES}]
    assert not stray, stray
    assert tgraph.passes is not None
