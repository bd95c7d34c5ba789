"""Golden results of training: the same bundle predictions, holdout metrics and ledger, to
1e-12, for a binary, a multiclass and a regression table.

Training in its reproducible mode (no time budget, a fixed number of trials, one thread)
depends on no clock, so a change that moves training code around must leave these numbers
exactly as they are. The tables and the expected values live in ``tests/data/golden/`` (no
``../shared`` needed). After a change that is *meant* to change results, regenerate with
``PYTHONPATH=src python -m tests.workflows.test_golden`` and say why in the commit.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
#: table file -> target column (one table per task kind)
CASES = {
    "blood_transfusion.csv": "Class",  # binary
    "penguins.csv": "species",  # multiclass
    "automobile.csv": "price",  # regression
}
OPTIONS: dict[str, Any] = {
    "time_budget": None,
    "max_trials": 2,
    "n_jobs": 1,
    "seed": 0,
    "n_boot": 200,
}
TOLERANCE = 1e-12


def _train(table: str, out: Path) -> dict[str, Any]:
    from apprentice.bundle import train

    result = train(GOLDEN / table, target=CASES[table], out=out, **OPTIONS)
    rows = pd.read_csv(GOLDEN / table, dtype="str", keep_default_na=False)
    features = rows.drop(columns=[CASES[table]])
    bundle = result.bundle
    predictions = bundle.predict_proba(features) if result.classes else bundle.predict(features)
    return {
        "task": result.task,
        "champion": result.champion,
        "predictions": np.asarray(predictions, dtype=float).tolist(),
        "metrics": {
            name: [interval.value, interval.low, interval.high]
            for name, interval in result.metrics.items()
        },
        "ledger": json.loads(json.dumps(result.ledger, default=str)),
    }


def _expected(table: str) -> dict[str, Any]:
    path = GOLDEN / f"{Path(table).stem}.expected.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _close(actual: Any, expected: Any, where: str) -> None:
    """Numbers equal to 1e-12 (NaN equal to NaN), everything else exactly equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            _close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _close(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, (int, float)), where
        if np.isnan(expected):
            assert np.isnan(actual), where
        else:
            assert abs(float(actual) - expected) <= TOLERANCE, f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("table", sorted(CASES))
def test_training_reproduces_the_golden_results(table: str, tmp_path: Path) -> None:
    actual = _train(table, tmp_path / "bundle")
    expected = _expected(table)
    assert actual["task"] == expected["task"]
    assert actual["champion"] == expected["champion"]
    _close(actual["metrics"], expected["metrics"], "metrics")
    _close(actual["ledger"], expected["ledger"], "ledger")
    _close(actual["predictions"], expected["predictions"], "predictions")


def test_golden_cases_cover_each_task_kind() -> None:
    tasks = {_expected(table)["task"] for table in CASES}
    assert tasks == {"binary", "multiclass", "regression"}


def _write_all() -> None:  # pragma: no cover - run by hand, see the module docstring
    for table in CASES:
        with tempfile.TemporaryDirectory() as folder:
            document = _train(table, Path(folder) / "bundle")
        path = GOLDEN / f"{Path(table).stem}.expected.json"
        path.write_text(json.dumps(document, indent=1, allow_nan=True) + "\n", encoding="utf-8")
        print(f"{path}: {document['task']}, champion {document['champion']}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_write_all())
