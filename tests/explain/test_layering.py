"""Stage order for explain, fairness, slices and report: nothing to their right, heavy
libraries only inside the functions that need them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "apprentice"
MINE = [
    *sorted((SRC / "explain").glob("*.py")),
    *sorted((SRC / "report").glob("*.py")),
    SRC / "evaluate" / "fairness.py",
    SRC / "evaluate" / "slices.py",
    SRC / "bundle" / "contrib.py",
]
HEAVY = ("shap", "fairlearn", "matplotlib", "jinja2", "markupsafe", "playwright", "sklearn")
RIGHT_OF_REPORT = ("apprentice.bundle", "apprentice.serve", "apprentice.track",
                   "apprentice.monitor", "apprentice.workflows", "apprentice.cli")  # fmt: skip


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Every imported module name, and whether the import runs when the module loads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                out.extend((a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                out.append((child.module, top))
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # type-only imports
            else:
                nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                visit(child, top and not nested)

    visit(tree, True)
    return out


def test_no_stage_to_the_right_and_no_heavy_import_at_load() -> None:
    for path in MINE:
        for name, top in _imports(path):
            if top:
                assert not name.startswith(HEAVY), (path.name, name)
            if path.parent.name in ("explain", "report") or path.name in (
                "fairness.py",
                "slices.py",
            ):
                assert not name.startswith(RIGHT_OF_REPORT), (path.name, name)
            assert not name.startswith(("typer", "rich")), (path.name, name)
        if path.name == "contrib.py":  # the serving path
            names = [n for n, _ in _imports(path)]
            assert not any(
                n.startswith(("apprentice.learn", "apprentice.evaluate", "apprentice.explain",
                              "apprentice.report", "shap"))
                for n in names
            ), names  # fmt: skip


def test_importing_the_stages_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import apprentice.explain, apprentice.report, apprentice.evaluate.fairness\n"
        "import apprentice.evaluate.slices, apprentice.report.render\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
