"""The package's shape, read from its source: no import circles, each layer importing only those below it,
the intake free of Flask, storage free of analytics and reports, and no import aliases to dodge clashes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "collector"

#: Each part of the package and its layer: a module may import its own part and the parts of lower
#: layers, never a higher one. The shared core (settings, errors, clocks, counters) is at the bottom;
#: the web app and the command line, which put everything together, at the top.
LAYERS = {
    "clock": 0, "errors": 0, "metrics": 0, "config": 0,
    "schemas": 1, "reference.record_types": 1,
    "storage": 2,
    "access": 3, "ingest": 3, "reference": 4, "analytics": 3, "recommendations": 4,
    "reports": 5, "imports": 5, "forward": 5, "worker": 6,
    "web": 7, "api": 8, "": 9, "gunicorn_config": 9, "cli": 10, "wsgi": 10,
}


def _name(path: Path) -> str:
    """A source file's module name, without the package's own name."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int, str | None]]:
    """Every import of a file, function-level ones included: (module, line, alias)."""
    name = _name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                base = ["collector", *base, *(node.module.split(".") if node.module else [])]
            else:
                base = node.module.split(".")
            for alias in node.names:
                module = ".".join([*base, alias.name])
                known = (PACKAGE.parent / module.replace(".", "/")).with_suffix(".py").exists() or \
                    (PACKAGE.parent / module.replace(".", "/")).is_dir()
                found.append((module if known else ".".join(base), node.lineno, alias.asname))
    return found


def _part(module: str) -> str:
    """The layer a module of the package belongs to (its longest name in LAYERS)."""
    inner = module.removeprefix("collector").removeprefix(".")
    parts = inner.split(".")
    for n in range(len(parts), -1, -1):
        if ".".join(parts[:n]) in LAYERS:
            return ".".join(parts[:n])
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


SOURCES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_name(path): [(m, line, alias) for m, line, alias in _imports(path)] for path in SOURCES}


def test_no_module_imports_a_higher_layer():
    wrong = []
    for module, imports in GRAPH.items():
        own = _part(module)
        for target, line, _ in imports:
            if target == "collector" or target.startswith("collector."):
                theirs = _part(target)
                if LAYERS[theirs] > LAYERS[own]:
                    wrong.append(f"{module}:{line} ({own}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    edges = {module: {target.removeprefix("collector").removeprefix(".") for target, _, _ in imports
                      if target.startswith("collector.")} for module, imports in GRAPH.items()}
    edges = {module: {t for t in targets if t in edges and t != module} for module, targets in edges.items()}
    # A package's __init__ is where its submodules are reached from, not a dependency of theirs.
    state, circles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                circles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("part", ["ingest", "access", "reference", "analytics", "storage", "schemas"])
def test_core_parts_do_not_import_flask(part):
    wrong = [f"{module}:{line}" for module, imports in GRAPH.items() if _part(module) == part
             for target, line, _ in imports if target.split(".")[0] in ("flask", "werkzeug")]
    assert not wrong, f"{part} imports Flask: {wrong}"


def test_storage_imports_no_analytics_or_reports():
    wrong = [f"{module}:{line} imports {target}" for module, imports in GRAPH.items() if _part(module) == "storage"
             for target, line, _ in imports
             if target.startswith("collector") and _part(target) in ("analytics", "reports")]
    assert not wrong, "\n".join(wrong)


def test_no_aliases_for_the_packages_own_modules():
    aliased = [f"{module}:{line} {target} as {alias}" for module, imports in GRAPH.items()
               for target, line, alias in imports if alias and target.startswith("collector")]
    assert not aliased, "\n".join(aliased)


def test_the_analytics_tables_are_written_only_behind_the_analytics_interface():
    writers = sorted(module for module, imports in GRAPH.items() for target, _, _ in imports
                     if target == "collector.analytics.refresh")
    assert writers == ["analytics.store"]
