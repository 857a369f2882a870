"""The floor plan measured from the imports: cross-package arrows by direction, function-local imports, cycles.

Reads every ``import`` / ``from X import`` of the project's packages with ``ast`` (module level and inside
functions; ``if TYPE_CHECKING:`` blocks count as module level) and writes benchmarks/results/imports.json:

- ``layers``: the intended order, bottom first (docs/architecture.md); ``reports`` may use ``core`` only;
- ``arrows``: imports between packages, ``"<from> -> <to>"``: count, split into module-level and function-local;
- ``back_arrows``: arrows that point up the layers, out of ``reports`` to anything but ``core``, or into
  ``reports`` from anything but the report commands (``MAY_USE_REPORTS``);
- ``function_local``: imports of project modules inside functions, by importing package;
- ``package_cycles`` / ``module_cycles``: strongly connected components of the package graph and of the module
  graph (every import counted, function-local included).

    python benchmarks/imports.py [--json]
"""

from __future__ import annotations

import ast
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bottom first; a package may import the ones below it
LAYERS = ["core", "rawdata", "preprocessing", "datamodules", "lightning_modules", "experiments"]
REPORTS_MAY_USE = {"core"}
# the commands that build the report, hand it the suite's declarations or run seeds for it (never the training path)
MAY_USE_REPORTS = ("experiments.cli", "experiments.commands", "experiments.catalogue", "experiments.seeds",
                   "experiments.baselines")
PACKAGES = [*LAYERS, "reports"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        folder = ROOT / package
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                found[module_name(path)] = path
    return found


class Imports(ast.NodeVisitor):
    """(target module, line, function-local?) of every import statement."""

    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.is_package = is_package
        self.depth = 0
        self.found: list[tuple[str, int, bool]] = []

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.module.split(".")
            if not self.is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        # the names may be sub-modules (`from pkg import module`); resolve() falls back to the module itself
        for alias in node.names:
            self.found.append((f"{target}.{alias.name}", node.lineno, self.depth > 0))


def resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that ``target`` names (``a.b.name`` -> ``a.b``)."""
    parts = target.split(".")
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts = parts[:-1]
    return None


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; components of more than one node (or a self loop)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def is_back_arrow(src: str, dst: str, src_module: str = "") -> bool:
    if src == dst:
        return False
    if src == "reports":
        return dst not in REPORTS_MAY_USE
    if dst == "reports":
        return not src_module.startswith(MAY_USE_REPORTS)
    if src in LAYERS and dst in LAYERS:
        return LAYERS.index(dst) > LAYERS.index(src)
    return False


def measure() -> dict:
    modules = project_modules()
    arrows: dict[str, Counter] = defaultdict(Counter)
    local_by_package: Counter = Counter()
    local_examples: dict[str, list[str]] = defaultdict(list)
    module_graph: dict[str, set[str]] = defaultdict(set)
    package_graph: dict[str, set[str]] = defaultdict(set)
    back_examples: dict[str, list[str]] = defaultdict(list)
    for name, path in modules.items():
        visitor = Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        src_pkg = name.split(".")[0]
        seen = set()
        for target, line, local in visitor.found:
            dst = resolve(target, modules)
            if dst is None or dst == name or (line, dst) in seen:
                continue  # `from a.b import x, y` is one import of a.b
            seen.add((line, dst))
            # importing a sub-module also executes its parents' __init__; the graph keeps the named module only
            module_graph[name].add(dst)
            dst_pkg = dst.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} -> {dst}"
            if local:
                local_by_package[src_pkg] += 1
                local_examples[src_pkg].append(where)
            if dst_pkg != src_pkg:
                package_graph[src_pkg].add(dst_pkg)
                key = f"{src_pkg} -> {dst_pkg}"
                arrows[key]["function_local" if local else "module_level"] += 1
                arrows[key]["total"] += 1
                if is_back_arrow(src_pkg, dst_pkg, name):
                    back_examples[key].append(where)
    back = {k: dict(arrows[k]) for k in sorted(back_examples)}
    return {
        "layers_bottom_first": LAYERS,
        "reports_may_use": sorted(REPORTS_MAY_USE),
        "n_modules": len(modules),
        "arrows": {k: dict(v) for k, v in sorted(arrows.items())},
        "back_arrows": back,
        "back_arrow_imports": sum(v["total"] for v in back.values()),
        "back_arrow_pairs": len(back),
        "back_arrow_sites": {k: v for k, v in sorted(back_examples.items())},
        "function_local_project_imports": sum(local_by_package.values()),
        "function_local_by_package": dict(sorted(local_by_package.items())),
        "function_local_sites": {k: v for k, v in sorted(local_examples.items())},
        "package_cycles": strongly_connected(package_graph),
        "module_cycles": strongly_connected(module_graph),
    }


def main(argv: list[str]) -> int:
    result = measure()
    result["figures"] = {
        "back_arrow_imports": {"value": result["back_arrow_imports"], "unit": "imports", "target": 0},
        "back_arrow_pairs": {"value": result["back_arrow_pairs"], "unit": "package pairs", "target": 0},
        "package_cycles": {"value": len(result["package_cycles"]), "unit": "cycles", "target": 0},
        "module_cycles": {"value": len(result["module_cycles"]), "unit": "cycles", "target": 0},
        "function_local_project_imports": {"value": result["function_local_project_imports"], "unit": "imports"},
    }
    out = ROOT / "benchmarks" / "results" / "imports.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if "--json" in argv:
        print(json.dumps(result, indent=2))
    else:
        for name, fig in result["figures"].items():
            print(f"{name:<32} {fig['value']}")
        for key, counts in result["back_arrows"].items():
            print(f"  back: {key:<40} {counts}")
        for comp in result["package_cycles"]:
            print(f"  package cycle: {' <-> '.join(comp)}")
        for comp in result["module_cycles"]:
            print(f"  module cycle: {' <-> '.join(comp)}")
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
