"""``apprentice retrain``: the gate's false-promotion rate, and the workflow on a real bundle."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.monitor.conftest import Monitored, monitored  # noqa: F401  (the shared fixture)
from tests.track._support import empty_store  # noqa: F401  (an initialised MLflow store)

from apprentice.errors import TargetError
from apprentice.workflows.retrain import gate, retrain


def _world(rng: np.random.Generator, n: int, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, len(beta)))
    p = 1 / (1 + np.exp(-(X @ beta)))
    return X, (rng.uniform(size=n) < p).astype(int)


def simulate_gate(sims: int, *, seed: int = 0, n_boot: int = 200) -> float:
    """Share of promotions when the new data carries no new signal (same distribution)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    beta = np.array([1.0, -0.5, 0.25, 0.0, 0.0])
    promoted = 0
    for i in range(sims):
        X_base, y_base = _world(rng, 1000, beta)
        X_new, y_new = _world(rng, 1000, beta)
        X_hold, y_hold = _world(rng, 500, beta)
        champion = LogisticRegression().fit(X_base, y_base)
        challenger = LogisticRegression().fit(np.vstack([X_base, X_new]), np.r_[y_base, y_new])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = gate(
                "binary",
                "roc_auc",
                y_hold,
                champion.predict_proba(X_hold),
                challenger.predict_proba(X_hold),
                n_boot=n_boot,
                seed=i,
            )
        promoted += g.promote
    return promoted / sims


def test_gate_rarely_promotes_without_new_signal() -> None:
    rate = simulate_gate(100)  # benchmarks/drift.py runs 200 with 1,000 resamples
    assert rate <= 0.05, rate


def test_gate_promotes_a_real_improvement_and_non_inferiority_only_when_drifting() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=800)
    noise = rng.normal(size=800)
    weak = np.c_[1 - (p := 1 / (1 + np.exp(-(0.5 * (2 * y - 1) + noise)))), p]
    strong = np.c_[1 - (q := 1 / (1 + np.exp(-(1.5 * (2 * y - 1) + noise)))), q]
    assert gate("binary", "roc_auc", y, weak, strong).promote
    assert not gate("binary", "roc_auc", y, strong, weak).promote
    assert not gate("binary", "roc_auc", y, strong, strong).promote
    same = gate("binary", "roc_auc", y, strong, strong, drifting=True)
    assert same.promote and "drifting" in same.reason


def test_drift_of_the_joint_distribution_counts_as_drifting() -> None:
    from apprentice.workflows.retrain import is_drifting

    assert is_drifting([{"check": "joint_drift", "message": "mean 'x' for 'a' moved"}])
    assert is_drifting([{"check": "out_of_range"}, {"check": "feature_drift"}])
    assert is_drifting([{"check": "prediction_drift"}])
    assert not is_drifting([{"check": "out_of_range"}, {"check": "performance"}])
    assert not is_drifting([])


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every retrain writes its run folder into a workspace of its own."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(workspace))
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return workspace


def test_retrain_on_a_bundle(monitored: Monitored, _workspace: Path) -> None:  # noqa: F811
    """A bundle folder's challenger is a run of its own (record, report, card, holdout) whose
    holdout is the decision holdout: the newest 30% of the new rows."""
    from apprentice.workflows.run import RunResult

    new = monitored.current.copy()
    decision = retrain(
        str(monitored.path),
        data=new,
        base=monitored.reference.iloc[:2200],
        max_trials=0,
        families=("linear",),
        n_boot=300,
    )
    payload = decision.to_dict()
    assert payload["decision"] in ("promote", "keep")
    assert payload["holdout_rows"] == 300
    assert payload["training_rows"] == 2200 + 700
    assert set(payload["metrics"]) == {"champion", "challenger"}
    # the same distribution: no proven improvement expected, and no drift
    assert payload["drift"]["drifting"] is False
    folder = decision.out
    assert folder.parent == _workspace / "runs"
    record = RunResult.load(folder)
    assert record.retrain is not None and record.retrain["reason"] == payload["reason"]
    assert record.champion == payload["challenger"]["model"] == "linear"
    # the run's own holdout is the decision holdout: the last 300 rows of its table
    assert record.split["kind"] == "given" and record.split["holdout_rows"] == 300
    holdout = json.loads((folder / "holdout.json").read_text())["positions"]
    assert holdout == list(range(2900, 3200))
    assert record.metrics and record.tracking is None and record.model is None
    assert record.reproduce["command"] == (
        f"apprentice retrain --model {monitored.path} --data dataframe --base dataframe "
        "--holdout-share 0.3 --max-trials 0 --seed 0"
    )
    assert json.loads((folder / "decision.json").read_text())["reason"] == payload["reason"]
    page = (folder / "report.html").read_text()
    assert f"Retrain decision: {payload['decision']}" in page and "paired bootstrap" in page
    card = (folder / "model_card.md").read_text()
    assert f"## Retrain decision: {payload['decision']}" in card
    assert payload["report"] == str(folder / "report.html")
    # ``apprentice report RUN`` rebuilds it from the record alone, the decision included
    from apprentice.report import load_record, write_report

    rebuilt = write_report(load_record(folder)[0], _workspace / "again")
    assert f"Retrain decision: {payload['decision']}" in rebuilt.html.read_text()
    # compare reads the same held-out rows from the challenger's run: the same difference
    from apprentice.workflows.compare import compare

    compared = compare(str(monitored.path), str(folder), n_boot=50)
    assert compared.rows == 300 and compared.data == f"the holdout of run {record.run_id} (linear)"
    assert compared.difference == pytest.approx(payload["gate"]["difference"], abs=1e-12)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown_class", "1 class(es) the champion does not know ('maybe'"),
        ("base_without_target", "the champion's training data has no target column 'income'"),
        ("few_rows", "120 labelled new rows leave 36 for the decision holdout; at least 50"),
        ("unlabelled", "the new data has no target column 'income': it must be labelled"),
    ],
)
def test_bad_new_rows_fail_before_anything_is_trained(
    monitored: Monitored,  # noqa: F811
    _workspace: Path,
    change: str,
    message: str,
) -> None:
    """Each refusal names what is wrong and what to do; no run folder, no bundle, and the
    rows given are left as they were."""
    new = monitored.current.copy()
    base = monitored.reference.iloc[:2200].copy()
    if change == "unknown_class":
        new.loc[5, "income"] = "maybe"
    elif change == "base_without_target":
        base = base.drop(columns=["income"])
    elif change == "few_rows":
        new = new.iloc[:120]
    else:
        new = new.drop(columns=["income"])
    before = (new.copy(), base.copy())
    with pytest.raises(TargetError) as caught:
        retrain(str(monitored.path), data=new, base=base, max_trials=0, families=("linear",))
    assert message in caught.value.message
    assert not (_workspace / "runs").exists()
    pd.testing.assert_frame_equal(new, before[0])
    pd.testing.assert_frame_equal(base, before[1])


def test_a_failure_after_training_is_written_in_the_challengers_record(
    monitored: Monitored,  # noqa: F811
    _workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apprentice.workflows import retrain as module
    from apprentice.workflows.run import RunResult

    def broken(*_args: object, **_kwargs: object) -> None:
        raise TargetError("the holdout could not be scored")

    monkeypatch.setattr(module, "_decide", broken)
    with pytest.raises(TargetError, match="could not be scored"):
        retrain(
            str(monitored.path),
            data=monitored.current,
            base=monitored.reference.iloc[:2200],
            max_trials=0,
            families=("linear",),
        )
    (folder,) = (_workspace / "runs").iterdir()
    record = RunResult.load(folder)
    assert record.retrain is None
    assert any("could not be scored): no decision was recorded" in w for w in record.warnings)


def _register(path: Path, name: str) -> None:
    """Register a bundle folder as version 1 (alias champion) of ``name``."""
    from apprentice.bundle import load_bundle
    from apprentice.track import RunLog, Tracker, register_bundle

    bundle = load_bundle(path)
    tracker = Tracker()
    run = tracker.log_run(RunLog(experiment=name, run_name="r1", artifacts=[(path, "bundle")]))
    register_bundle(
        tracker,
        name=name,
        run_id=run.run_id,
        source=f"{run.artifact_uri}/bundle",
        task=str(bundle.task),
        target=str(bundle.target),
    )


def test_a_refused_challenger_is_a_registered_run_and_the_champion_stays(
    monitored: Monitored,  # noqa: F811
    _workspace: Path,
    empty_store: Path,  # noqa: F811
) -> None:
    """Registered champion, new rows of the same distribution: the challenger is kept out
    (alias ``challenger``), yet it is a first-class run: MLflow run with its parameters,
    metrics and files, a version whose model and score ``models show`` lists."""
    import shutil

    from typer.testing import CliRunner

    from apprentice.cli import app
    from apprentice.track import Tracker, show_model

    shutil.copy(empty_store, _workspace / "mlflow.db")
    _register(monitored.path, "adult")
    decision = retrain(
        "adult",
        data=monitored.current.copy(),
        base=monitored.reference.iloc[:2200],
        max_trials=0,
        families=("linear",),
        n_boot=300,
    )
    payload = decision.to_dict()
    assert payload["decision"] == "keep", payload["reason"]
    info = show_model(Tracker(), "adult")
    assert info.aliases == {"champion": 1, "challenger": 2}  # the champion untouched
    version = next(v for v in info.versions if v.version == 2)
    assert version.tags["apprentice.champion"] == "linear"
    score = float(version.tags["apprentice.score"])
    assert score == pytest.approx(payload["gate"]["challenger"], abs=1e-5)  # the same rows
    recorded = Tracker().client.get_run(payload["registry"]["run_id"])
    assert recorded.data.tags["apprentice.kind"] == "retrain"
    assert recorded.data.tags["apprentice.decision"] == "keep"
    assert recorded.data.params["holdout_rows"] == "300" and recorded.data.params["champion"]
    assert {"holdout_roc_auc", "gate_p_value", "champion_roc_auc"} <= set(recorded.data.metrics)
    files = {a.path for a in Tracker().client.list_artifacts(recorded.info.run_id)}
    assert {"bundle", "report", "run.json", "decision.json"} <= files
    record = json.loads((decision.out / "run.json").read_text())
    assert record["model"]["version"] == 2 and record["model"]["alias"] == "challenger"
    assert record["retrain"]["decision"] == "keep"
    shown = CliRunner().invoke(app, ["models", "show", "adult"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    row = next(line for line in shown.stdout.splitlines() if line.startswith("2 "))
    assert "linear" in row and f"roc_auc {version.tags['apprentice.score']}" in row


def test_cli_errors_exit_2(monitored: Monitored, tmp_path: Path) -> None:  # noqa: F811
    from apprentice.cli import main

    for args in (
        ["retrain", "--model", str(monitored.path)],  # neither --data nor --from-feedback
        ["retrain", "--model", str(monitored.path), "--data", str(tmp_path / "none.csv")],
    ):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
    # trained from a DataFrame: its training data must be given with --base
    data = tmp_path / "new.csv"
    monitored.current.to_csv(data, index=False)
    with pytest.raises(SystemExit) as exc:
        main(["retrain", "--model", str(monitored.path), "--data", str(data)])
    assert exc.value.code == 2


@pytest.mark.slow
def test_retrain_a_registered_model_promotes_a_proven_improvement(
    tmp_path: Path,
    _workspace: Path,
    empty_store: Path,  # noqa: F811
) -> None:
    """A champion trained on 80 rows against a challenger with 1,500 more: promoted in the
    registry (alias champion moves, the old one is ``previous``), the decision in MLflow, in
    the challenger's record and in its report."""
    import shutil

    from tests.learn._data import TABLES, text_table

    from apprentice.bundle import train
    from apprentice.monitor import attach_profile, build_profile
    from apprentice.track import Tracker, show_model

    if not (TABLES / "adult.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    shutil.copy(empty_store, _workspace / "mlflow.db")
    rows = text_table("adult.csv", rows=1900, seed=5)
    small = tmp_path / "small.csv"
    rows.iloc[:80].to_csv(small, index=False)
    new = tmp_path / "new.csv"
    rows.iloc[400:].to_csv(new, index=False)
    quick = {"time_budget": None, "max_trials": 0, "families": ("linear",), "n_jobs": 1}
    weak = train(small, target="income", out=tmp_path / "weak", n_boot=50, **quick)  # type: ignore[arg-type]
    attach_profile(weak.path, build_profile(weak.bundle, rows.iloc[150:400]))
    _register(weak.path, "adult")
    decision = retrain("adult", data=new, families=("linear",), n_boot=500)
    payload = decision.to_dict()
    assert payload["decision"] == "promote", payload["reason"]
    assert payload["gate"]["better"] and payload["gate"]["p_value"] < 0.05
    info = show_model(Tracker(), "adult")
    assert info.aliases["champion"] == 2 and info.aliases["previous"] == 1
    recorded = Tracker().client.get_run(payload["registry"]["run_id"])
    assert recorded.data.tags["apprentice.decision"] == "promote"
    assert "champion_roc_auc" in recorded.data.metrics
    record = json.loads((decision.out / "run.json").read_text())
    assert record["model"]["alias"] == "champion" and record["retrain"]["decision"] == "promote"
    assert "adult version 2 (alias champion)" in decision.report.read_text()


def test_monitor_retrain_on_alert_chains_the_two(tmp_path: Path) -> None:
    """The cron job: ``monitor --retrain-on-alert`` alerts (exit 1) and records a decision."""
    from tests.learn._data import TABLES, text_table
    from typer.testing import CliRunner

    from apprentice.bundle import train
    from apprentice.cli import app
    from apprentice.monitor import attach_profile, build_profile

    if not (TABLES / "adult.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    rows = text_table("adult.csv", rows=1600, seed=8)
    base = tmp_path / "base.csv"
    rows.iloc[:600].to_csv(base, index=False)
    champion = train(
        base, target="income", out=tmp_path / "champion", time_budget=None, max_trials=0,
        families=("linear",), n_jobs=1, n_boot=50,
    )  # fmt: skip
    attach_profile(champion.path, build_profile(champion.bundle, rows.iloc[600:900]))
    shifted = rows.iloc[900:].copy()
    shifted["marital_status"] = "Never-married"
    current = tmp_path / "current.csv"
    shifted.to_csv(current, index=False)
    out = CliRunner().invoke(
        app,
        ["monitor", "--model", str(champion.path), "--current", str(current),
         "--retrain-on-alert", "--json"],
    )  # fmt: skip
    assert out.exit_code == 1, out.output
    payload = json.loads(out.stdout)
    assert payload["status"] == "alert"
    assert payload["retrain"]["decision"] in ("promote", "keep")
    assert Path(payload["retrain"]["report"]).is_file()


def test_the_champions_identifiers_stay_out_of_the_challenger(tmp_path: Path) -> None:
    """Customers scored again: the new rows repeat the customer numbers of the training rows
    in another order, so the challenger's own guard sees no row counter; the champion's
    exclusion holds, with its reason in the challenger's ledger."""
    from apprentice.bundle import train
    from apprentice.workflows.run import RunResult

    rng = np.random.default_rng(5)
    n = 600
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = np.where(x1 + 0.5 * rng.normal(size=n) > 0, "yes", "no")
    base = pd.DataFrame({"customer_no": np.arange(1, n + 1), "x1": x1, "x2": x2, "churn": y})
    champion = train(
        base, target="churn", out=tmp_path / "v1", time_budget=None, max_trials=0,
        families=("linear",), n_jobs=1, n_boot=50,
    )  # fmt: skip
    excluded = champion.bundle.manifest["excluded_columns"]
    assert excluded["customer_no"].startswith("a row counter")
    again = base.sample(n=300, random_state=1).reset_index(drop=True)
    decision = retrain(
        str(champion.path), data=again, base=base, max_trials=0, families=("linear",), n_boot=50
    )
    manifest = json.loads((decision.out / "bundle" / "manifest.json").read_text())
    assert "customer_no" not in manifest["feature_columns"]
    why = "an identifier in the champion's training data: " + excluded["customer_no"]
    ledger = RunResult.load(decision.out).ledger
    assert any(e.get("column") == "customer_no" and e.get("reason") == why for e in ledger)
