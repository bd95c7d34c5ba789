"""Loading a bundle and predicting imports neither learn nor evaluate (what serve needs)."""

from __future__ import annotations

import subprocess
import sys

from apprentice.bundle import TrainResult


def test_prediction_path_does_not_import_learn_or_evaluate(blood: TrainResult) -> None:
    code = (
        "import sys, apprentice\n"
        "from apprentice.bundle import load_bundle\n"
        f"b = load_bundle({str(blood.path)!r})\n"
        "b.predict({'Recency': '2', 'Frequency': '50', 'Monetary': '12500', 'Time': '98'})\n"
        "bad = [m for m in sys.modules if m.startswith(('apprentice.learn', "
        "'apprentice.evaluate', 'apprentice.cli', 'optuna', 'typer'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_only_the_cli_imports_typer_and_rich_and_heavy_imports_are_lazy() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "src" / "apprentice"
    for package in ("learn", "evaluate", "bundle"):
        for path in (root / package).glob("*.py"):
            text = path.read_text()
            for name in ("typer", "rich"):
                assert f"import {name}" not in text and f"from {name}" not in text, path
            for heavy in ("lightgbm", "optuna", "skops", "shap"):
                top = [
                    line
                    for line in text.splitlines()
                    if line.startswith((f"import {heavy}", f"from {heavy}"))
                ]
                assert not top, (path, heavy)
