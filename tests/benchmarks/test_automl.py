"""The AutoML benchmark's bookkeeping: suite manifest and split, scoring, resuming, the report."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.benchmarks._load import REPO, load_benchmark

automl = load_benchmark("automl.py")
suite = load_benchmark("automl_suite.py")


def test_manifest_matches_the_suite_definition_and_the_bench_extra() -> None:
    manifest = json.loads((REPO / "benchmarks/data/automl_suite.json").read_text())
    assert [t["name"] for t in manifest] == [t["name"] for t in suite.TABLES]
    assert len(manifest) >= 40
    extra = " ".join(tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["bench"])  # fmt: skip
    for table in manifest:
        assert table["target"] not in table["drop"]
        assert table["task"] in automl.METRIC
        assert table["licence"] and table["version"] and table["rows"] >= 500
        if table["package"] != "scikit-learn":  # scikit-learn is a core dependency
            assert table["package"].lower() in extra.lower()
    assert {t["task"] for t in manifest} == {"binary", "multiclass", "regression"}


def test_split_is_a_partition_with_every_task_in_both_halves() -> None:
    manifest = {t["name"]: t for t in json.loads((REPO / "benchmarks/data/automl_suite.json")
                                                 .read_text())}  # fmt: skip
    split = json.loads((REPO / "benchmarks/data/automl_split.json").read_text())
    design, held_out = set(split["design"]), set(split["held_out"])
    assert not design & held_out
    assert design | held_out == set(manifest)
    for half in (design, held_out):
        assert {manifest[n]["task"] for n in half} == {"binary", "multiclass", "regression"}


def test_split_is_made_once() -> None:
    with pytest.raises(SystemExit, match="made once"):
        suite.write_split(force=False)


def test_scores_match_classes_whatever_order_a_system_writes_them() -> None:
    job = {"task": "multiclass", "y_test": ["a", "b", "c", "a"]}
    proba = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]
    truth, one = automl.aligned(job, {"classes": ["A", "b ", "c."], "predictions": proba})
    reordered = [[row[2], row[0], row[1]] for row in proba]
    _, two = automl.aligned(job, {"classes": ["c", "a", "b"], "predictions": reordered})
    assert automl.metric_value("multiclass", truth, one) == pytest.approx(
        automl.metric_value("multiclass", truth, two)
    )
    expected = -np.mean(np.log([0.7, 0.8, 0.6, 0.5]))
    assert automl.metric_value("multiclass", truth, one) == pytest.approx(expected)


def test_a_short_prediction_file_is_an_error_not_a_score() -> None:
    job = {"task": "regression", "y_test": ["1", "2", "3"]}
    with pytest.raises(ValueError, match="2 predictions for 3 test rows"):
        automl.aligned(job, {"predictions": [1.0, 2.0]})


def _result(kind: str, truth: list[Any], pred: list[Any], **extra: Any) -> dict[str, Any]:
    score = automl.metric_value(kind, truth, pred)
    return {"status": "ok", "truth": truth, "aligned": pred, "score": score, **extra}


def test_paired_difference_sign_and_interval() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(size=400).tolist()
    close = (np.asarray(truth) + rng.normal(scale=0.1, size=400)).tolist()
    far = (np.asarray(truth) + rng.normal(scale=1.0, size=400)).tolist()
    good, bad = _result("regression", truth, close), _result("regression", truth, far)
    d, low, high = automl.paired_difference("regression", [(good, bad)])
    assert d > 0 and low > 0  # lower RMSE is better: a positive difference
    d, low, high = automl.paired_difference("regression", [(bad, good)])
    assert d < 0 and high < 0
    d, low, high = automl.paired_difference("regression", [(good, good)])
    assert d == low == high == 0


def _write(suite_name: str, table: str, seed: int, system: str, record: dict[str, Any]) -> None:
    path = automl.result_path(suite_name, 60.0, table, seed, system)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def test_resume_runs_only_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(automl, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(automl, "OUT", tmp_path)
    data = tmp_path / "t.csv"
    data.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    table = {"name": "t", "task": "binary", "target": "y", "path": str(data), "half": "design"}
    _write("automl", "t", 0, "flaml", {"status": "ok"})
    calls: list[str] = []

    def fake(system: str, job: dict[str, Any], *args: Any) -> dict[str, Any]:
        calls.append(system)
        assert job["n_train"] == 30 and job["n_test"] == 10
        return {"status": "failed", "error": "boom"}

    monkeypatch.setattr(automl, "run_system", fake)
    automl.run("automl", [table], [0], 60.0, list(automl.SYSTEMS), None, False)
    assert calls == ["apprentice", "autogluon"]
    automl.run("automl", [table], [0], 60.0, list(automl.SYSTEMS), None, False)
    assert calls == ["apprentice", "autogluon"]  # nothing left to run
    saved = json.loads(automl.result_path("automl", 60.0, "t", 0, "autogluon").read_text())
    assert saved["error"] == "boom" and saved["half"] == "design"


def test_report_ranks_a_failure_last_and_calls_it_a_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(automl, "RESULTS", tmp_path / "results")
    truth = [0, 1] * 50
    good = [[0.7, 0.3] if t == 0 else [0.4, 0.6] for t in truth]
    common = {
        "half": "held_out",
        "budget": 60.0,
        "metric": "roc_auc",
        "task": "binary",
        "n_train": 300,
        "n_test": 100,
        "fit_seconds": 50.0,
        "latency_ms_median": 1.0,
    }
    for seed in (0, 1):
        for system in ("flaml", "autogluon"):
            rec = _result("binary", truth, good, table="t", seed=seed, system=system, **common)
            _write("automl", "t", seed, system, rec)
        failed = {**common, "status": "failed", "error": "it broke", "table": "t",
                  "seed": seed, "system": "apprentice"}  # fmt: skip
        _write("automl", "t", seed, "apprentice", failed)
    text = automl.report("automl", list(automl.SYSTEMS))
    assert "held-out half, budget 60 s" in text
    assert "| t | binary | roc_auc | 400 | failed |" in text
    assert "loss (failed)" in text
    assert "| apprentice | 3.00 | 2 / 2 |" in text
    assert "| flaml | 1.50 | 0 / 2 |" in text
    assert "t seed 1 apprentice: it broke" in text
