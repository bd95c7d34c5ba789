"""One decision threshold everywhere: the bundle, the API, the metrics, the report and the card.

The table is made for it: a rare positive class (about 12%) that one noisy measurement
predicts, so the F1-maximising threshold tuned on out-of-fold predictions lies far below 0.5.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import TrainResult, load_bundle, train
from apprentice.errors import ConfigError

QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear",), "n_jobs": 1, "n_boot": 200}


def _rare_positive_table(path: Path, n: int = 900, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    group = rng.choice(["north", "south"], size=n)
    logit = -2.6 + 1.3 * signal + 0.3 * (group == "south")
    outcome = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "signal": np.round(signal, 3),
            "noise": np.round(rng.normal(size=n), 3),
            "region": group,
            "outcome": np.where(outcome, "yes", "no"),
        }
    )
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def rare(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("threshold")
    data = _rare_positive_table(folder / "rare.csv")
    result = train(data, target="outcome", out=folder / "bundle", **QUICK)
    return result, pd.read_csv(data, dtype=str, keep_default_na=False)


def _holdout(result: TrainResult, table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    from apprentice.workflows.run import holdout_positions

    split = result.bundle.manifest["split"]
    positions, y, _ = holdout_positions(
        table,
        target="outcome",
        task=None,
        split=None,
        test_size=split["test_size"],
        seed=split["seed"],
    )
    return table.iloc[positions].reset_index(drop=True), np.asarray(y)


def test_the_tuned_threshold_is_stored_and_used_by_predict(
    rare: tuple[TrainResult, pd.DataFrame],
) -> None:
    result, table = rare
    manifest = json.loads((result.path / "manifest.json").read_text())
    cut = manifest["decision_threshold"]
    assert manifest["decision_threshold_source"] == "tuned"
    assert abs(cut - 0.5) > 0.1  # the table is made for a threshold far from 0.5
    bundle = load_bundle(result.path)
    assert bundle.threshold == cut == result.threshold
    rows = table.drop(columns=["outcome"])
    proba = bundle.predict_proba(rows)
    expected = np.where(proba[:, 1] >= cut, "yes", "no")
    assert bundle.classes == ["no", "yes"]
    assert list(bundle.predict(rows)) == list(expected)
    assert list(bundle.predict_frame(rows)["prediction"]) == list(expected)
    # one record at a time (the fast path) says the same
    for i in range(40):
        assert bundle.predict(rows.iloc[i].to_dict())[0] == expected[i]
    # and the threshold matters on this table: 0.5 would predict differently
    assert np.sum((proba[:, 1] >= cut) != (proba[:, 1] >= 0.5)) > 20


def test_holdout_metrics_report_and_fairness_are_at_the_threshold(
    rare: tuple[TrainResult, pd.DataFrame],
) -> None:
    from apprentice.report.analysis import analyse
    from apprentice.report.render import render_model_card

    result, table = rare
    bundle = result.bundle
    rows, y = _holdout(result, table)
    labels = (
        bundle.predict_proba(rows.drop(columns=["outcome"]))[:, 1] >= bundle.threshold
    ).astype(int)
    assert list(bundle.predict(rows)) == [bundle.classes[i] for i in labels]
    tp = int(np.sum((labels == 1) & (y == 1)))
    fp = int(np.sum((labels == 1) & (y == 0)))
    fn = int(np.sum((labels == 0) & (y == 1)))
    m = result.metrics
    assert m["accuracy"].value == pytest.approx(np.mean(labels == y))
    assert m["f1"].value == pytest.approx(2 * tp / (2 * tp + fp + fn))
    recall = [np.mean(labels[y == c] == c) for c in (0, 1)]
    assert m["balanced_accuracy"].value == pytest.approx(np.mean(recall))

    record = analyse(bundle, rows, rows["outcome"], sensitive=["region"], n_boot=50)
    matrix = np.asarray(record["plots"]["confusion"]["matrix"])
    assert matrix[1, 1] == tp and matrix[0, 1] == fp and matrix[1, 0] == fn
    for group in record["fairness"]["groups"]:
        members = (rows["region"] == group["group"]).to_numpy()
        assert group["selection_rate"] == pytest.approx(np.mean(labels[members] == 1))

    card = render_model_card(
        {
            "task": "binary",
            "target": "outcome",
            "classes": bundle.classes,
            "threshold": result.threshold,
            "threshold_source": "tuned",
            "metrics": {k: v.to_dict() for k, v in m.items()},
        }
    )
    stated = f"{result.threshold:.4g}"
    assert card.count(f"Decision threshold {stated} (tuned") == 1
    assert "0.5" not in card.split("Decision threshold")[1].split("\n")[0]


def test_the_api_predicts_at_the_threshold(
    rare: tuple[TrainResult, pd.DataFrame], tmp_path: Path
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from apprentice.config import Settings
    from apprentice.serve import create_app

    result, table = rare
    bundle = result.bundle
    rows = table.drop(columns=["outcome"]).head(60)
    expected = list(bundle.predict(rows))
    app = create_app(result.path, settings=Settings(workspace=tmp_path), log_predictions=False)
    with TestClient(app) as client:
        assert client.get("/model").json()["threshold"] == bundle.threshold
        one = [
            client.post("/predict", json=r).json()["prediction"]
            for r in rows.to_dict("records")[:20]
        ]
        assert one == expected[:20]
        many = client.post("/predict", json=rows.to_dict("records")).json()["predictions"]
        assert [item["prediction"] for item in many] == expected


def test_a_bundle_without_the_field_keeps_0_5(
    rare: tuple[TrainResult, pd.DataFrame], tmp_path: Path
) -> None:
    import shutil

    result, table = rare
    old = tmp_path / "old"
    shutil.copytree(result.path, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["decision_threshold"], manifest["decision_threshold_source"]
    manifest["threshold"] = result.threshold  # the informative field of earlier versions
    (old / "manifest.json").write_text(json.dumps(manifest))
    try:  # where bundles are signed, sign it as the earlier version did
        from apprentice.bundle.sign import sign_bundle  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:
        sign_bundle(old)
    bundle = load_bundle(old)
    assert bundle.threshold == 0.5
    rows = table.drop(columns=["outcome"])
    proba = bundle.predict_proba(rows)
    assert list(bundle.predict(rows)) == list(np.where(proba[:, 1] >= 0.5, "yes", "no"))


def test_a_threshold_of_the_users_choice(tmp_path: Path) -> None:
    data = _rare_positive_table(tmp_path / "rare.csv", n=400)
    result = train(data, target="outcome", out=tmp_path / "b", threshold=0.7, **QUICK)
    assert result.threshold == 0.7
    assert result.bundle.manifest["decision_threshold_source"] == "user"
    bundle = load_bundle(tmp_path / "b")
    rows = pd.read_csv(data).drop(columns=["outcome"])
    assert list(bundle.predict(rows)) == list(
        np.where(bundle.predict_proba(rows)[:, 1] >= 0.7, "yes", "no")
    )


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5, float("nan")])
def test_a_threshold_outside_0_1_is_refused_before_training(tmp_path: Path, bad: float) -> None:
    data = _rare_positive_table(tmp_path / "rare.csv", n=200)
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        train(data, target="outcome", out=tmp_path / "b", threshold=bad, **QUICK)
    assert not (tmp_path / "b").exists()


def test_a_threshold_for_a_regression_target_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(100.0), "y": np.arange(100.0) * 2 + 1})
    with pytest.raises(ConfigError, match="binary target only"):
        train(frame, target="y", out=tmp_path / "b", threshold=0.3, **QUICK)
    assert not (tmp_path / "b").exists()


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from apprentice.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_threshold_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _rare_positive_table(tmp_path / "rare.csv", n=300)
    quick = ["--max-trials", "0", "--jobs", "1", "--families", "linear"]
    code, _, err = _cli(
        [
            "train",
            str(data),
            "--target",
            "outcome",
            "--threshold",
            "1.5",
            "--out",
            str(tmp_path / "x"),
            *quick,
        ],
        capsys,
    )
    assert code != 0 and "strictly between 0 and 1" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
    code, out, _ = _cli(
        [
            "train",
            str(data),
            "--target",
            "outcome",
            "--threshold",
            "0.35",
            "--json",
            "--out",
            str(tmp_path / "b"),
            *quick,
        ],
        capsys,
    )
    assert code == 0 and json.loads(out)["threshold"] == 0.35
    bundle = load_bundle(tmp_path / "b")
    assert bundle.threshold == 0.35 and bundle.manifest["decision_threshold_source"] == "user"
    predictions = tmp_path / "p.csv"
    code, _, _ = _cli(["predict", str(tmp_path / "b"), str(data), "-o", str(predictions)], capsys)
    written = pd.read_csv(predictions)
    assert code == 0
    assert list(written["prediction"]) == list(np.where(written["proba_yes"] >= 0.35, "yes", "no"))
