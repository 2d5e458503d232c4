"""The training package's shape: no import cycle among its modules (function-level imports
included), modules under 400 lines and functions under 80."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import receipt_layoutlm.training

PACKAGE = Path(receipt_layoutlm.training.__file__).parent
PREFIX = "receipt_layoutlm.training."


def _trees() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in PACKAGE.glob("*.py")}


def test_no_import_cycle_inside_training() -> None:
    graph: dict[str, set[str]] = {}
    for name, tree in _trees().items():
        deps = graph.setdefault(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
                deps.add(node.module.removeprefix(PREFIX).split(".")[0])
    graph["__init__"] = set()  # the package's lazy re-exports are not a dependency
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in receipt_layoutlm.training: {exc.args[1]}") from None


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for name, tree in _trees().items():
        lines = len((PACKAGE / f"{name}.py").read_text(encoding="utf-8").splitlines())
        if lines > 400:
            too_long.append(f"{name}.py: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert not too_long, too_long
