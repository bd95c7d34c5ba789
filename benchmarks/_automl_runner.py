"""One fit-and-predict run of one system, inside that system's own virtual environment.

Called by ``benchmarks/automl.py`` as ``<venv>/bin/python _automl_runner.py --system S --job
JSON``; writes the result JSON to ``job["out"]``: status, fit seconds (around the fit call),
test predictions (probabilities per class, or values), batch predict seconds and rows per
second, and the median single-row latency over 100 test rows (10 warm-up calls first).
Only the standard library is imported at the top: each venv has just its own system.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

N_LATENCY = 100
N_WARMUP = 10


def _latency(predict_one: Any, rows: list[Any]) -> float:
    for row in rows[:N_WARMUP]:
        predict_one(row)
    timings = []
    for row in rows[:N_LATENCY]:
        start = time.perf_counter()
        predict_one(row)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def run_apprentice(job: dict[str, Any]) -> dict[str, Any]:
    import apprentice

    target = job["target"]
    start = time.monotonic()
    result = apprentice.train(
        job["train"],
        target=target,
        task=job["task"],  # as FLAML and AutoGluon are told: a count target is a regression
        time_budget=job["budget"],
        seed=job["seed"],
        n_jobs=1,
        test_size=0,
        out=Path(job["workdir"]) / "bundle",
    )
    fit_seconds = time.monotonic() - start
    bundle = apprentice.load_bundle(result.path)
    test = apprentice.read(job["test"]).table
    test = test.drop(columns=[target])
    start = time.perf_counter()
    out = bundle.predict_proba(test) if job["task"] != "regression" else bundle.predict(test)
    batch = time.perf_counter() - start
    with open(job["test"], encoding="utf-8", newline="") as handle:
        records = [{k: v for k, v in r.items() if k != target} for r in csv.DictReader(handle)]
    return {
        "fit_seconds": fit_seconds,
        "classes": bundle.classes,
        "predictions": out.tolist(),
        "predict_seconds": batch,
        "latency_ms_median": _latency(bundle.predict, records),
        "champion": result.champion,
    }


def _frames(job: dict[str, Any]) -> tuple[Any, Any, Any]:
    import pandas as pd

    train = pd.read_csv(job["train"])
    test = pd.read_csv(job["test"])
    y = train.pop(job["target"])
    test = test.drop(columns=[job["target"]])
    return train, y, test


def run_flaml(job: dict[str, Any]) -> dict[str, Any]:
    from flaml import AutoML

    X, y, test = _frames(job)
    automl = AutoML()
    task = "regression" if job["task"] == "regression" else "classification"
    start = time.monotonic()
    automl.fit(
        X_train=X,
        y_train=y,
        task=task,
        metric=job["metric"],
        time_budget=job["budget"],
        n_jobs=1,
        seed=job["seed"],
        verbose=0,
    )
    fit_seconds = time.monotonic() - start
    regression = job["task"] == "regression"
    start = time.perf_counter()
    out = automl.predict(test) if regression else automl.predict_proba(test)
    batch = time.perf_counter() - start
    one = automl.predict if regression else automl.predict_proba
    rows = [test.iloc[[i]] for i in range(min(len(test), N_LATENCY))]
    return {
        "fit_seconds": fit_seconds,
        "classes": None if regression else [str(c) for c in automl.classes_],
        "predictions": [float(v) for v in out] if regression else out.tolist(),
        "predict_seconds": batch,
        "latency_ms_median": _latency(one, rows),
        "champion": str(automl.best_estimator),
    }


def run_autogluon(job: dict[str, Any]) -> dict[str, Any]:
    from autogluon.tabular import TabularPredictor

    X, y, test = _frames(job)
    train = X.assign(**{job["target"]: y})
    metric = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "root_mean_squared_error"}
    predictor = TabularPredictor(
        label=job["target"],
        eval_metric=metric[job["metric"]],
        problem_type=job["task"],
        path=str(Path(job["workdir"]) / "ag"),
        verbosity=0,
    )
    start = time.monotonic()
    predictor.fit(train, time_limit=job["budget"], presets="medium_quality", num_cpus=1, num_gpus=0)
    fit_seconds = time.monotonic() - start
    regression = job["task"] == "regression"
    start = time.perf_counter()
    out = predictor.predict(test) if regression else predictor.predict_proba(test)
    batch = time.perf_counter() - start
    one = predictor.predict if regression else predictor.predict_proba
    rows = [test.iloc[[i]] for i in range(min(len(test), N_LATENCY))]
    return {
        "fit_seconds": fit_seconds,
        "classes": None if regression else [str(c) for c in out.columns],
        "predictions": [float(v) for v in out] if regression else out.to_numpy().tolist(),
        "predict_seconds": batch,
        "latency_ms_median": _latency(one, rows),
        "champion": str(predictor.model_best),
    }


RUNNERS = {"apprentice": run_apprentice, "flaml": run_flaml, "autogluon": run_autogluon}
PACKAGES = {"apprentice": "ml-apprentice", "flaml": "flaml", "autogluon": "autogluon.tabular"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", required=True, choices=sorted(RUNNERS))
    parser.add_argument("--job", default="{}")
    parser.add_argument("--version", action="store_true")
    args = parser.parse_args()
    if args.version:
        from importlib import metadata

        print(f"{PACKAGES[args.system]} {metadata.version(PACKAGES[args.system])}")
        return 0
    job = json.loads(args.job)
    Path(job["workdir"]).mkdir(parents=True, exist_ok=True)
    try:
        result = RUNNERS[args.system](job)
        result["status"] = "ok"
        result["rows_per_second"] = len(result["predictions"]) / max(
            result["predict_seconds"], 1e-9
        )
    except Exception as exc:
        result = {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()[-2000:],
        }
    Path(job["out"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
