"""The package's import structure: every module imports in a fresh interpreter, and the import
graph (read from the source with ``ast``, function-level imports included, ``TYPE_CHECKING``
blocks excluded) has no cycle — not between the ``export``, ``runtime`` and ``training``
subpackages, and not between modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import receipt_layoutlm

PACKAGE_DIR = Path(receipt_layoutlm.__file__).parent
PACKAGE = PACKAGE_DIR.name

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of this package that ``name`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return out


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_the_graph_sees_function_level_imports_and_skips_type_checking(tmp_path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.typing_only import Thing\n"
        "def handler():\n"
        "    import pkg.lazy\n"
        "    from pkg.sub import name\n"
    )
    known = {"pkg.sibling", "pkg.typing_only", "pkg.lazy", "pkg.sub", "pkg.mod"}
    assert _imports("pkg.mod", source, known) == {"pkg.sibling", "pkg.lazy", "pkg.sub"}
    assert "receipt_layoutlm.runtime" in _graph()["receipt_layoutlm.export.bundle"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_cycle_between_export_runtime_and_training() -> None:
    graph = _graph()
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        packages.setdefault(_subpackage(module), set()).update(
            _subpackage(t) for t in targets if _subpackage(t) != _subpackage(module)
        )
    watched = {"export", "runtime", "training"}
    for component in _cycles(packages):
        assert len(component & watched) < 2, f"import cycle between subpackages {component}"
    assert "export" not in packages["runtime"], "runtime must not import export"
    assert "export" not in packages["bundles"], "reading bundles must not import building them"


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


@pytest.mark.slow  # one interpreter per module; the graph tests above stay in test-fast
def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = sorted(_modules())
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(len(sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


REVIEW_DIR = PACKAGE_DIR.parent / "receipt_review"
REVIEW_MAY_USE = ("receipt_layoutlm.encoding", "receipt_layoutlm.fields",
                  "receipt_layoutlm.records", "receipt_layoutlm.document",
                  "receipt_layoutlm.errors")
"""The light modules of receipt_layoutlm the review app reads (the spec, fields, the record
mapping); never training, export, runtimes or the model."""
HEAVY = ("torch", "transformers", "coremltools", "onnx", "onnxruntime", "datasets",
         "accelerate")


def _heavy_loaded(modules: list[str], *, then: str = "") -> str:
    """The heavy libraries a fresh interpreter holds after importing ``modules`` and running
    ``then``, as printed (``[]`` when none)."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"{then}"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_review_app_is_torch_free() -> None:
    modules = sorted(
        ".".join(p.relative_to(REVIEW_DIR.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in REVIEW_DIR.rglob("*.py")
    )
    for path in REVIEW_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in HEAVY, f"{path.name} imports {name}"
                if name.startswith(f"{PACKAGE}."):
                    assert name.startswith(REVIEW_MAY_USE), f"{path.name} imports {name}"
    loaded = _heavy_loaded(
        modules, then="from receipt_review.receipt_view import label_colour_hex\n"
                      "label_colour_hex('GRAND_TOTAL')\n"
    )
    assert loaded == "[]", f"the review app loaded {loaded}"


WORKER_DIRS = (PACKAGE_DIR.parent / "receipt_ocr", REVIEW_DIR)
EXPORT = f"{PACKAGE}.export"


def _imported_names(path: Path) -> list[str]:
    """Every module ``path`` imports, function-level and ``TYPE_CHECKING`` ones included."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            base = node.module or ""
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return names


def test_the_workers_and_the_review_app_read_bundles_without_the_export_package(tmp_path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(f"def f():\n    from {PACKAGE} import export\n")
    assert EXPORT in _imported_names(probe)  # the check sees `from pkg import export` too
    offenders = sorted(
        f"{path.relative_to(PACKAGE_DIR.parent)} imports {name}"
        for directory in WORKER_DIRS
        for path in directory.rglob("*.py")
        for name in _imported_names(path)
        if name == EXPORT or name.startswith(f"{EXPORT}.")
    )
    assert offenders == [], "read bundles through receipt_layoutlm.bundles: " + "; ".join(offenders)


def test_reading_bundles_is_torch_free() -> None:
    modules = sorted(m for m in _modules() if m.startswith(f"{PACKAGE}.bundles"))
    assert f"{PACKAGE}.bundles.registry" in modules
    loaded = _heavy_loaded(modules)
    assert loaded == "[]", f"receipt_layoutlm.bundles loaded {loaded}"


def test_fetching_a_directory_and_reading_a_run_record_need_no_torch_nor_export() -> None:
    # Bundles and checkpoints are both fetched through remote_dirs; the workers, promote and the
    # review app read through it, so it must stay as light as receipt_layoutlm.bundles.
    light = [f"{PACKAGE}.remote_dirs", f"{PACKAGE}.run_record"]
    graph = _graph()
    for module in light:
        assert not any(t == EXPORT or t.startswith(f"{EXPORT}.") for t in graph[module]), module
    loaded = _heavy_loaded(light)
    assert loaded == "[]", f"remote_dirs/run_record loaded {loaded}"
