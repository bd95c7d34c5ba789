"""Golden outputs of the column transforms and the cell cleaner on three real tables.

``compute(name)`` cleans a real table with the clean stage's ``Cleaner`` (column path and
record path), fits the feature pipeline of both views and replays its spec through the
bundle runtime (frame and record, on typed and on raw text rows). The recorded results live
in ``tests/data/features/golden/``; they were written before the transforms moved into
:mod:`apprentice.features` and must not change (1e-12).

Regenerate (only when a change of behaviour is intended and explained in the commit):
``PYTHONPATH=src python -m tests.features._golden``.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.bundle.cleaning import row_cleaner
from apprentice.bundle.runtime import FeatureRuntime
from apprentice.clean import Cleaner
from apprentice.learn.features import FeaturePipeline

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "features"
GOLDEN = DATA / "golden"
SHARED = (HERE.parents[1] / ".." / "shared" / "data" / "tables").resolve()

#: table file -> (target, task)
TABLES: dict[str, tuple[str, str]] = {
    "titanic.csv": ("Survived", "binary"),
    "nyc_taxis.csv": ("total", "regression"),
    "telco_churn.csv": ("Churn", "binary"),
}
VIEWS = ("tree", "linear")


def read_text(path: Path) -> pd.DataFrame:
    """A table as raw text cells (empty cells ``""``)."""
    return pd.read_csv(path, dtype="str", keep_default_na=False)


def cell(value: Any) -> str:
    """A canonical, exact text form of one typed value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "NA"
    if isinstance(value, bool | np.bool_):
        return f"b:{bool(value)}"
    if isinstance(value, float | np.floating):
        return "nan" if math.isnan(value) else f"f:{float(value)!r}"
    if isinstance(value, int | np.integer):
        return f"i:{int(value)}"
    if isinstance(value, str):
        return f"s:{value}"
    if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
        return f"t:{pd.Timestamp(value).isoformat()}"
    if isinstance(value, pd.Timedelta):
        return f"d:{value.value}"
    return f"{type(value).__name__}:{value!r}"


def _dense(matrix: Any) -> np.ndarray:
    arr = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    return np.asarray(arr, dtype=np.float64)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [str(c) for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in frame.itertuples(index=False)]


def compute(raw: pd.DataFrame, target: str, task: str) -> dict[str, Any]:
    """Every recorded output for one raw table: matrices (float arrays) and cells (text)."""
    X = raw.drop(columns=[target])
    if task == "regression":
        y: np.ndarray = pd.to_numeric(raw[target]).to_numpy(dtype=float)
    else:
        y = np.unique(raw[target].to_numpy(dtype=str), return_inverse=True)[1]
    cleaner = Cleaner().fit(X)
    typed = cleaner.transform(X)
    clean_row = row_cleaner(cleaner)
    typed_rows = [clean_row(r) for r in _records(X)]
    out: dict[str, Any] = {
        "cells_frame": {c: [cell(v) for v in typed[c].tolist()] for c in typed.columns},
        "cells_row": {c: [cell(r.get(c)) for r in typed_rows] for c in typed.columns},
    }
    raw_rows = _records(X)
    for view in VIEWS:
        pipe = FeaturePipeline(view=view, random_state=0)
        fitted = _dense(pipe.fit_transform(typed, y))
        spec = pipe.to_spec()
        runtime = FeatureRuntime(json.loads(json.dumps(spec)))
        out[f"{view}/fit_transform"] = fitted
        out[f"{view}/transform"] = _dense(pipe.transform(typed))
        out[f"{view}/replay_frame"] = _dense(runtime.transform(typed))
        out[f"{view}/replay_row"] = np.vstack([runtime.transform_row(r) for r in typed_rows])
        out[f"{view}/raw_frame"] = _dense(runtime.transform(X))
        out[f"{view}/raw_row"] = np.vstack([runtime.transform_row(r) for r in raw_rows])
        out[f"{view}/spec"] = spec
    return out


def fingerprint(matrix: np.ndarray) -> np.ndarray:
    """Column sums, sums of squares and missing counts (for the full tables)."""
    finite = np.where(np.isnan(matrix), 0.0, matrix)
    return np.vstack(
        [finite.sum(axis=0), (finite * finite).sum(axis=0), np.isnan(matrix).sum(axis=0)]
    )


def _write(stem: str, result: dict[str, Any], full: bool) -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    arrays = {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
    if full:
        arrays = {k: fingerprint(v) for k, v in arrays.items()}
    np.savez_compressed(GOLDEN / f"{stem}.npz", **arrays)
    rest = {k: v for k, v in result.items() if not isinstance(v, np.ndarray)}
    if full:
        rest = {k: v for k, v in rest.items() if k.endswith("/spec")}
    (GOLDEN / f"{stem}.json").write_text(json.dumps(rest, sort_keys=True), encoding="utf-8")


def main() -> None:
    for name, (target, task) in TABLES.items():
        stem = name.removesuffix(".csv")
        _write(stem, compute(read_text(DATA / name), target, task), full=False)
        if (SHARED / name).is_file():
            _write(f"{stem}.full", compute(read_text(SHARED / name), target, task), full=True)


if __name__ == "__main__":
    main()
