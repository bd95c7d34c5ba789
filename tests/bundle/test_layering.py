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


def _member_kinds(path: object) -> set[str]:
    import json
    from pathlib import Path

    manifest = json.loads((Path(str(path)) / "manifest.json").read_text())
    return {str(m["kind"]) for m in manifest["model"]["members"]}


def test_predicting_with_lightgbm_and_linear_members_imports_no_scipy_or_sklearn(
    penguins: TrainResult, tmp_path: object
) -> None:
    """LightGBM runs through its C library and the recipe without scikit-learn, so a
    prediction (library or CLI) loads neither scikit-learn, SciPy nor the lightgbm package."""
    kinds = _member_kinds(penguins.path)
    assert kinds <= {"lightgbm", "linear", "constant"}, kinds
    rows = tmp_path / "rows.csv"  # type: ignore[operator]
    rows.write_text(
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
        "Torgersen,39.1,18.7,181,3750,male,2007\nBiscoe,48.6,16.0,230,5800,male,2008\n"
    )
    out = tmp_path / "out.csv"  # type: ignore[operator]
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['apprentice', 'predict', {str(penguins.path)!r}, {str(rows)!r}, "
        f"'-o', {str(out)!r}, '--quiet']\n"
        "try:\n"
        "    runpy.run_module('apprentice', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'lightgbm') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
    lines = out.read_text().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 3 and lines[1].split(",")[0] == "Adelie"
