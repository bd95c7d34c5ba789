"""The train and predict commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from apprentice.cli import main
from tests.learn._data import TABLES, needs_tables


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@needs_tables
def test_train_then_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bundle"
    code, stdout, _ = _run(
        [
            "train",
            str(TABLES / "blood_transfusion.csv"),
            "--target",
            "Class",
            "--max-trials",
            "0",
            "--jobs",
            "1",
            "--families",
            "linear,lightgbm",
            "--out",
            str(out),
            "--json",
        ],
        capsys,
    )
    assert code == 0
    payload = json.loads(stdout)
    assert payload["task"] == "binary" and payload["bundle"] == str(out)
    assert "roc_auc" in payload["metrics"] and payload["leaderboard"]
    preds = tmp_path / "preds.csv"
    code, _, err = _run(
        ["predict", str(out), str(TABLES / "blood_transfusion.csv"), "-o", str(preds)], capsys
    )
    assert code == 0 and "748 prediction(s)" in err
    frame = pd.read_csv(preds)
    assert list(frame.columns) == ["prediction", "proba_0", "proba_1"] and len(frame) == 748


@needs_tables
def test_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        [
            "train",
            str(TABLES / "blood_transfusion.csv"),
            "-t",
            "Class",
            "--max-trials",
            "0",
            "--jobs",
            "1",
            "--families",
            "linear,lightgbm",
            "-o",
            str(tmp_path / "b"),
        ],
        capsys,
    )
    assert code == 0
    assert "holdout" in err and "beats dummy (constant baseline)" in err and "bundle:" in err
    assert err.count("decision threshold") == 1


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["predict", str(tmp_path / "missing"), "x.csv", "-o", "o.csv"], capsys)
    assert code == 2 and err.startswith("error: no bundle") and err.count("\n") == 1
    data = tmp_path / "d.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    code, _, err = _run(["train", str(data), "--target", "c", "--max-trials", "0"], capsys)
    assert code == 2 and "not in the table" in err and "Traceback" not in err
