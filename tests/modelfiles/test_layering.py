"""The model-kind package is a leaf: importing it loads no learning library, and every kind
the registry names is complete."""

from __future__ import annotations

import subprocess
import sys

from apprentice.modelfiles import KINDS, ModelKind

NATIVE = ("lightgbm", "sklearn", "skops", "xgboost", "catboost", "scipy", "fastapi", "mlflow")


def test_importing_the_kinds_loads_no_native_library() -> None:
    code = (
        "import sys\n"
        "import apprentice.modelfiles\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {NATIVE!r}])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_every_kind_has_a_name_suffix_and_a_size_cap() -> None:
    assert {"constant", "linear", "lightgbm", "sklearn"} <= set(KINDS)
    for name, kind in KINDS.items():
        assert isinstance(kind, ModelKind)
        assert kind.name == name
        assert kind.suffix.startswith(".") and kind.max_bytes > 0
