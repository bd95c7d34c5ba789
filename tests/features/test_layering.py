"""One copy of column semantics: structural checks on the source.

The fit side (``learn/features.py``) and the replay side (``apprentice.features``, the bundle
runtime and cleaning, the compiled server path) define no name in common; the features leaf
imports only numpy, pandas, scipy (sparse output) and the standard library; the serving
modules hold no cell parsing of their own.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "apprentice"
FIT = [SRC / "learn" / "features.py"]
REPLAY = [
    *sorted((SRC / "features").glob("*.py")),
    SRC / "bundle" / "runtime.py",
    SRC / "bundle" / "cleaning.py",
    SRC / "serve" / "compiled.py",
]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _defined(paths: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        for node in _tree(path).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names - {"__all__"}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_no_name_is_defined_on_both_the_fit_and_the_replay_side() -> None:
    fit, replay = _defined(FIT), _defined(REPLAY)
    assert fit and replay
    assert fit & replay == set()


def test_the_features_leaf_needs_numpy_and_pandas_only() -> None:
    allowed = {"numpy", "pandas", "scipy", "apprentice"} | set(sys.stdlib_module_names)
    for path in (SRC / "features").glob("*.py"):
        for module in _imports(path):
            top = module.split(".")[0]
            assert top in allowed, (path.name, module)
            if top == "apprentice":
                assert module == "apprentice.errors" or module.startswith("apprentice.features")


def test_serving_parses_no_cell_itself() -> None:
    for path in (SRC / "serve" / "compiled.py", SRC / "bundle" / "cleaning.py"):
        assert "re" not in _imports(path), path.name
