"""``apprentice compare A B``: two models on the same rows, a paired bootstrap interval of
the difference and a plain verdict; runs, registered versions and bundles alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.track._support import QUICK, blood_file, empty_store, make_workspace, needs_tables

from apprentice.bundle import train
from apprentice.cli import main
from apprentice.config import Settings
from apprentice.workflows.compare import CompareError, compare, verdict_text
from apprentice.workflows.run import RunNotFoundError, RunResult, run

__all__ = ["blood_file", "empty_store"]

pytestmark = needs_tables


def _options(*families: str) -> dict[str, object]:
    return {**QUICK, "families": families}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, empty_store: Path) -> Settings:
    return make_workspace(tmp_path_factory.mktemp("compare") / "ws", empty_store)


@pytest.fixture(scope="module")
def runs(blood_file: Path, ws: Settings) -> tuple[RunResult, RunResult]:
    first = run(blood_file, target="Class", settings=ws, report=False, **_options("linear"))  # type: ignore[arg-type]
    second = run(blood_file, target="Class", settings=ws, report=False, **_options("lightgbm"))  # type: ignore[arg-type]
    return first, second


def test_verdict_wording() -> None:
    assert (
        verdict_text("A", "B", "roc_auc", 0.004, -0.002, 0.010)
        == "B is better than A on ROC AUC by 0.004 (95% CI -0.002 to 0.010): not shown"
    )
    assert (
        verdict_text("A", "B", "log_loss", -0.05, -0.08, -0.02)
        == "B is worse than A on log loss by 0.050 (95% CI -0.080 to -0.020): shown"
    )
    assert verdict_text("A", "B", "rmse", 0.0003, 0.0001, 0.0006).endswith(
        "by 0.00030 (95% CI 0.00010 to 0.00060): shown"
    )
    assert "score the same" in verdict_text("A", "B", "accuracy", 0.0, 0.0, 0.0)


def test_two_runs_on_the_holdout(runs: tuple[RunResult, RunResult], ws: Settings) -> None:
    first, second = runs
    result = compare(first.run_id, second.run_id, settings=ws, n_boot=300)
    assert result.rows == first.split["holdout_rows"] == second.split["holdout_rows"]
    assert result.metric == "roc_auc" and result.task == "binary"
    # the same holdout: each side's value is what its run reported
    assert result.value_a["value"] == pytest.approx(first.metrics["roc_auc"]["value"])
    assert result.value_b["value"] == pytest.approx(second.metrics["roc_auc"]["value"])
    assert result.difference == pytest.approx(result.value_b["value"] - result.value_a["value"])
    assert result.low <= result.difference <= result.high
    assert result.shown == (result.low > 0 or result.high < 0)
    word = "better" if result.difference > 0 else "worse"
    assert result.verdict.startswith(f"B is {word} than A on ROC AUC by ")
    assert result.verdict.endswith(": shown" if result.shown else ": not shown")
    assert result.data.startswith("the rows held out by both runs") and result.notes == []
    document = result.to_dict()
    json.dumps(document)
    assert document["a"]["run_id"] == first.run_id and document["b"]["run_id"] == second.run_id

    flipped = compare(second.run_id, first.run_id, settings=ws, n_boot=300)
    assert flipped.difference == pytest.approx(-result.difference)
    assert flipped.shown == result.shown


def test_registered_versions(runs: tuple[RunResult, RunResult], ws: Settings) -> None:
    first, second = runs
    assert (first.model or {}).get("alias") == "champion"
    assert (second.model or {}).get("alias") == "challenger"
    by_runs = compare(first.run_id, second.run_id, settings=ws, n_boot=300)
    by_versions = compare(f"{first.name}/1", f"{first.name}@challenger", settings=ws, n_boot=300)
    assert by_versions.a.label == f"{first.name} v1@champion"
    assert by_versions.a.run is not None and by_versions.a.run.run_id == first.run_id
    assert by_versions.rows == by_runs.rows
    assert by_versions.difference == pytest.approx(by_runs.difference)
    assert compare(f"models:/{first.name}/2", second.run_id, settings=ws).difference == 0


def test_a_model_against_itself(runs: tuple[RunResult, RunResult], ws: Settings) -> None:
    first, _ = runs
    result = compare(first.run_id, str(first.path), settings=ws, n_boot=200)
    assert result.difference == 0 and not result.shown
    assert "score the same" in result.verdict
    assert result.notes[0] == "A and B are the same model"


def test_the_training_file_as_data_is_cut_to_the_holdout(
    runs: tuple[RunResult, RunResult], ws: Settings, blood_file: Path
) -> None:
    first, second = runs
    result = compare(first.run_id, second.run_id, data=blood_file, settings=ws, n_boot=200)
    assert result.rows == first.split["holdout_rows"]
    assert any("only its holdout rows are used" in n for n in result.notes)


def test_labelled_data_of_unknown_origin(
    runs: tuple[RunResult, RunResult], ws: Settings, tmp_path: Path, blood_file: Path
) -> None:
    first, second = runs
    rows = pd.read_csv(blood_file, dtype=str).sample(200, random_state=0)
    path = tmp_path / "new.csv"
    rows.to_csv(path, index=False)
    result = compare(first.run_id, second.run_id, data=path, settings=ws, n_boot=200)
    assert result.rows == 200 and result.data == str(path)
    few = tmp_path / "few.csv"
    rows.head(10).to_csv(few, index=False)
    with pytest.raises(CompareError, match=r"only 10 labelled rows"):
        compare(first.run_id, second.run_id, data=few, settings=ws)
    unlabelled = tmp_path / "unlabelled.csv"
    rows.drop(columns=["Class"]).to_csv(unlabelled, index=False)
    with pytest.raises(Exception, match=r"no target column 'Class'"):
        compare(first.run_id, second.run_id, data=unlabelled, settings=ws)


def test_models_of_different_tasks(
    runs: tuple[RunResult, RunResult], ws: Settings, blood_file: Path, tmp_path: Path
) -> None:
    first, _ = runs
    other = train(blood_file, target="Recency", out=tmp_path / "recency", **_options("linear"))  # type: ignore[arg-type]
    with pytest.raises(
        CompareError, match=r"A predicts 'Class' \(binary\) and B predicts 'Recency' \(regression\)"
    ):
        compare(first.run_id, str(other.path), settings=ws)
    with pytest.raises(CompareError, match="neither model has a run"):
        compare(str(other.path), str(other.path), settings=ws)
    with pytest.raises(Exception, match="metric 'rmse' is not one of the binary metrics"):
        compare(first.run_id, first.run_id, metric="rmse", settings=ws)


def test_a_changed_source_loses_the_holdout(
    blood_file: Path, tmp_path: Path, empty_store: Path
) -> None:
    ws = make_workspace(tmp_path / "ws", empty_store)
    copy = tmp_path / "blood_copy.csv"
    shutil.copy(blood_file, copy)
    result = run(copy, target="Class", settings=ws, track=False, report=False, **_options("linear"))  # type: ignore[arg-type]
    with copy.open("a") as handle:
        handle.write("2,50,12500,98,1\n")
    with pytest.raises(
        CompareError, match=r"changed since the run \(its SHA-256 differs\).*--data"
    ):
        compare(result.run_id, result.run_id, settings=ws)
    copy.unlink()
    with pytest.raises(CompareError, match=r"is gone; pass --data"):
        compare(result.run_id, result.run_id, settings=ws)


def test_unknown_reference(runs: tuple[RunResult, RunResult], ws: Settings) -> None:
    first, _ = runs
    with pytest.raises(RunNotFoundError, match=r"'nope' is neither a run nor a registered model"):
        compare("nope", first.run_id, settings=ws)
    with pytest.raises(RunNotFoundError, match=r"no run"):
        compare("no such/thing here", first.run_id, settings=ws)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli(
    runs: tuple[RunResult, RunResult],
    ws: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = runs
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(ws.workspace))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    code, out, err = _cli(["compare", first.run_id, second.run_id, "--n-boot", "200"], capsys)
    assert code == 0 and out.startswith("B is ") and out.count("\n") == 1
    assert f"A  run {first.run_id}" in err
    code, out, _ = _cli(
        ["compare", first.run_id, second.run_id, "--n-boot", "200", "--json"], capsys
    )
    document = json.loads(out)
    assert document["rows"] == first.split["holdout_rows"]
    assert np.isfinite(document["low"]) and document["verdict"].startswith("B is ")
    code, _, err = _cli(["compare", "nope", first.run_id], capsys)
    assert code == 2
    assert err.startswith("error: 'nope' is neither a run") and err.count("\n") == 1


def test_runs_with_different_holdouts_use_the_rows_both_held_out(
    runs: tuple[RunResult, RunResult], ws: Settings, blood_file: Path
) -> None:
    first, _ = runs
    other = run(
        blood_file,
        target="Class",
        seed=1,
        settings=ws,
        track=False,
        report=False,
        **_options("linear"),  # type: ignore[arg-type]
    )
    result = compare(first.run_id, other.run_id, settings=ws, n_boot=200)
    held = [
        set(json.loads((r.path / "holdout.json").read_text())["positions"]) for r in (first, other)
    ]
    assert result.rows == len(held[0] & held[1]) < len(held[1])
    assert any("were training rows of" in n and "left out" in n for n in result.notes)
