"""The package's layers (README, "Layers"): a module imports only from its own layer or below, at
module level or inside a function, and the imports form no cycle. Every module has a layer."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "d1pg"

LAYERS = [
    # 0. leaf helpers
    {"d1pg", "d1pg.errors", "d1pg.identifiers", "d1pg.kinds", "d1pg.runs"},
    # 1. settings, declarations, input readers
    {"d1pg.config", "d1pg.mapping", "d1pg.fidelity", "d1pg.fates", "d1pg.backup", "d1pg.inputs",
     "d1pg.inputs.admin_json", "d1pg.inputs.sql_dump", "d1pg.inputs.sqlite_file", "d1pg.inputs.sqlite_rows",
     "d1pg.forms"},
    # 2. database access, SQL rendering, bookkeeping and audit, console output
    {"d1pg.db", "d1pg.render", "d1pg.audit", "d1pg.console", "d1pg.server", "d1pg.fetch", "d1pg.generate",
     "d1pg.generate.__main__", "d1pg.generate.values", "d1pg.generate.catalogs", "d1pg.generate.people",
     "d1pg.generate.core", "d1pg.generate.personal", "d1pg.generate.planning", "d1pg.generate.fitness",
     "d1pg.generate.learning", "d1pg.generate.content", "d1pg.generate.special", "d1pg.generate.defects",
     "d1pg.generate.writer"},
    # 3. the steps
    {"d1pg.stage", "d1pg.schema", "d1pg.transform", "d1pg.validate", "d1pg.rollback", "d1pg.profile",
     "d1pg.review", "d1pg.scaffold"},
    # 4. reports, the review bundle, migrate, the benchmark
    {"d1pg.report", "d1pg.bundle", "d1pg.migrate", "d1pg.bench", "d1pg.mutants"},
    # 5. the tasks
    {"d1pg.cli", "d1pg.__main__"},
]
LAYER = {module: i for i, layer in enumerate(LAYERS) for module in layer}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every d1pg module -> the d1pg modules it imports anywhere in its text."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == "d1pg"}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    node.module.split(".")[0] == "d1pg":
                # `from d1pg import report` imports the module d1pg.report
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                          for a in node.names}
        graph[name] = found - {name}
    return graph


def test_every_module_has_a_layer():
    assert sorted(set(imports()) - set(LAYER)) == []


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [f"{m} (layer {LAYER[m]}) imports {d} (layer {LAYER[d]})"
              for m, deps in imports().items() for d in deps if LAYER[d] > LAYER[m]]
    assert upward == []


def test_the_imports_form_no_cycle():
    try:
        list(TopologicalSorter(imports()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
