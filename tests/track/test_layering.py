"""Only ``apprentice.track`` imports mlflow, always inside functions; resolving a registered
model (what serve does) imports neither learn, evaluate, explain, report nor workflows; and
``apprentice --help`` imports no mlflow at all."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "apprentice"


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, id(node) in top))
    return out


def test_only_track_imports_mlflow_and_only_inside_functions() -> None:
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        for module, at_top in _imports(path):
            if module.split(".")[0] != "mlflow":
                continue
            assert relative.startswith("track/"), f"{relative} imports {module}"
            # the pyfunc model file is run by MLflow itself, never imported by apprentice
            assert not at_top or relative == "track/_pyfunc_model.py", f"{relative}: {module}"


def test_track_needs_no_stage_right_of_the_bundle() -> None:
    for path in (SRC / "track").glob("*.py"):
        for module, _ in _imports(path):
            assert not module.startswith(
                tuple(
                    f"apprentice.{s}"
                    for s in ("learn", "evaluate", "explain", "report", "workflows", "cli")
                )
            ), (path.name, module)


def test_help_and_track_import_stay_light() -> None:
    code = (
        "import sys\n"
        "from apprentice.cli import app\n"
        "import apprentice.track\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mlflow', 'sklearn', 'lightgbm', 'pandas', 'shap')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
