"""``apprentice run``: a real run end to end on a real table with a real SQLite MLflow store,
what MLflow (its client and ``mlflow ui``) sees, and every bad input failing before training
with nothing lost."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from tests.track._support import (
    QUICK,
    TABLES,
    adult_file,
    empty_store,
    free_port,
    make_workspace,
    needs_tables,
)

from apprentice.cli import main
from apprentice.config import Settings
from apprentice.errors import ConfigError, TargetError
from apprentice.track import RegistryError, Tracker, TrackingError, list_models, show_model
from apprentice.workflows.run import (
    STAGES,
    RunNotFoundError,
    RunObserver,
    RunResult,
    list_runs,
    load_run,
    run,
    sensitive_frame,
)

__all__ = ["adult_file", "empty_store"]

pytestmark = needs_tables


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def stage_started(self, stage: str, *, budget: float | None = None) -> None:
        self.events.append(("start", stage))

    def stage_finished(self, stage: str, seconds: float, summary: str = "") -> None:
        self.events.append(("done", stage))

    def stage_skipped(self, stage: str, reason: str) -> None:
        self.events.append(("skip", stage))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, empty_store: Path) -> Settings:
    return make_workspace(tmp_path_factory.mktemp("run") / "ws", empty_store)


@pytest.fixture(scope="module")
def observed() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def adult_run(adult_file: Path, ws: Settings, observed: Recorder) -> RunResult:
    return run(
        adult_file,
        target="income",
        sensitive=["sex", "race", "age"],
        settings=ws,
        observer=observed,
        **QUICK,  # type: ignore[arg-type]
    )


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _state(ws: Settings) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """The run folders and registered versions: what a failed run must leave unchanged."""
    folders = sorted(p.name for p in (ws.workspace / "runs").iterdir())
    tracker = Tracker(settings=ws)
    models = [
        (m.name, [v.version for v in show_model(tracker, m.name).versions])
        for m in list_models(tracker)
    ]
    return folders, models


# -- a run --------------------------------------------------------------------------------------


def test_every_stage_runs_in_order(adult_run: RunResult, observed: Recorder) -> None:
    events = observed.events
    started = [s for kind, s in events if kind == "start"]
    assert sorted(started) == sorted(STAGES)
    assert sorted(s for kind, s in events if kind == "done") == sorted(STAGES)
    # read, clean, guard and train one after the other; the analyses of the holdout side by
    # side; then register and report
    assert events[:8] == [(k, s) for s in STAGES[:4] for k in ("start", "done")]
    assert set(started[4:7]) == {"evaluate", "explain", "fairness"}
    assert events[-4:] == [(k, s) for s in ("register", "report") for k in ("start", "done")]


def test_run_folder_and_record(adult_run: RunResult, adult_file: Path) -> None:
    folder = adult_run.path
    for name in (
        "run.json",
        "ledger.json",
        "schema.json",
        "holdout.json",
        "report.html",
        "model_card.md",
    ):
        assert (folder / name).is_file(), name
    assert (folder / "bundle" / "manifest.json").is_file()
    assert adult_run.bundle_path == folder / "bundle"
    assert folder.parent == adult_run.path.parent and folder.name == adult_run.run_id
    assert adult_run.run_id.startswith("adult_1500-income-")
    assert adult_run.name == "adult_1500-income"

    data = adult_run.data
    assert data["sha256"] == hashlib.sha256(adult_file.read_bytes()).hexdigest()
    assert (data["rows"], data["columns"]) == (1500, 15)
    assert adult_run.task == "binary" and adult_run.metric == "roc_auc"
    name, interval = adult_run.headline  # type: ignore[misc]
    assert name == "roc_auc" and interval["low"] <= interval["value"] <= interval["high"]

    holdout = json.loads((folder / "holdout.json").read_text())
    assert len(holdout["positions"]) == adult_run.split["holdout_rows"] == adult_run.holdout["rows"]
    assert holdout["source_sha256"] == data["sha256"]

    # the record is plain JSON and comes back the same
    again = RunResult.load(folder)
    assert again.to_dict() == adult_run.to_dict()
    assert load_run(adult_run.run_id, adult_run_settings(adult_run)).run_id == adult_run.run_id
    assert load_run(folder / "run.json").run_id == adult_run.run_id
    assert (
        load_run(
            adult_run.tracking["uri"] and adult_run.tracking["run_id"],
            adult_run_settings(adult_run),
        ).run_id
        == adult_run.run_id
    )  # type: ignore[index]
    assert [r.run_id for r in list_runs(adult_run_settings(adult_run))][-1] == adult_run.run_id

    # explanations, fairness (age in bands) and error slices are in the record
    assert adult_run.explain and adult_run.explain.get("importance")
    fairness = adult_run.fairness
    assert fairness is not None and set(fairness["columns"]) == {"sex", "race", "age"}
    assert any("'age' is numeric" in n for n in fairness["notes"])
    assert fairness["positive_class"] == ">50K"
    groups = {g["group"] for g in fairness["groups"] if g["column"] == "sex"}
    assert groups == {"Male", "Female"}  # cleaned: no stray leading spaces
    slices = adult_run.error_slices()
    assert isinstance(slices, pd.DataFrame) and {"feature", "slice", "p_adjusted"} <= set(
        slices.columns
    )
    assert adult_run.timings["after_training_s"] > 0 and adult_run.timings["train_s"] > 0


def adult_run_settings(result: RunResult) -> Settings:
    return Settings(workspace=result.path.parent.parent, tracking_uri=None)


def test_summary_says_what_matters(adult_run: RunResult) -> None:
    text = "\n".join(adult_run.summary_lines())
    assert f"champion   {adult_run.champion}" in text
    assert "holdout    roc_auc" in text and "95% CI" in text
    assert "baseline" in text
    assert str(adult_run.path / "report.html") in text
    assert "registered adult_1500-income version 1 (alias champion)" in text


def test_mlflow_sees_the_run_and_the_model(adult_run: RunResult) -> None:
    import mlflow

    assert adult_run.tracking is not None and adult_run.model is not None
    uri = Tracker(settings=adult_run_settings(adult_run)).uri
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    got = client.get_run(adult_run.tracking["run_id"])
    assert got.info.status == "FINISHED"
    params = got.data.params
    assert params["data.sha256"] == adult_run.data["sha256"]
    assert (params["data.rows"], params["data.columns"]) == ("1500", "15")
    assert params["task"] == "binary" and params["sensitive"] == "sex,race,age"
    assert "version.scikit-learn" in params and "version.mlflow" in params
    metrics = got.data.metrics
    value = adult_run.metrics["roc_auc"]
    assert metrics["holdout_roc_auc"] == pytest.approx(value["value"])
    assert metrics["holdout_roc_auc_low"] == pytest.approx(value["low"])
    assert metrics["holdout_roc_auc_high"] == pytest.approx(value["high"])
    assert any(k.startswith("fairness.sex.") for k in metrics)
    assert "time.train_s" in metrics and "time.total_s" in metrics
    tags = got.data.tags
    assert tags["apprentice.run_id"] == adult_run.run_id
    assert tags.get("mlflow.source.git.commit") == (adult_run.git or {}).get("commit")
    top = {f.path for f in client.list_artifacts(got.info.run_id)}
    assert {"bundle", "ledger.json", "schema.json", "holdout.json", "run.json", "report"} <= top
    report = {f.path for f in client.list_artifacts(got.info.run_id, "report")}
    assert report == {"report/report.html", "report/model_card.md"}
    children = client.search_runs(
        [got.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{got.info.run_id}'"
    )
    assert 1 <= len(children) <= 5
    assert {c.data.params["model"] for c in children} >= {adult_run.champion} - {"ensemble"}

    version = client.get_model_version_by_alias(adult_run.name, "champion")
    assert int(version.version) == adult_run.model["version"] == 1
    assert version.run_id == got.info.run_id
    assert version.tags["apprentice.run_id"] == adult_run.run_id


@pytest.mark.slow
def test_mlflow_ui_lists_them(adult_run: RunResult) -> None:
    """``mlflow ui`` pointed at the workspace store lists the run's experiment and the model."""
    uri = Tracker(settings=adult_run_settings(adult_run)).uri
    port = free_port()
    executable = Path(sys.executable).with_name("mlflow")
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(
        [
            str(executable),
            "ui",
            "--backend-store-uri",
            uri,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}/api/2.0/mlflow"

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.loads(response.read()))

    try:
        deadline = time.monotonic() + 120
        experiments: dict[str, object] = {}
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"mlflow ui exited with {process.returncode}")
            try:
                experiments = post("/experiments/search", {"max_results": 100})
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("mlflow ui did not answer within 120 s")
        names = {e["name"] for e in experiments.get("experiments", [])}  # type: ignore[union-attr,index]
        assert adult_run.name in names
        experiment_id = adult_run.tracking["experiment_id"]  # type: ignore[index]
        runs = post("/runs/search", {"experiment_ids": [experiment_id], "max_results": 100})
        run_ids = {r["info"]["run_id"] for r in runs["runs"]}  # type: ignore[index,union-attr]
        assert adult_run.tracking["run_id"] in run_ids  # type: ignore[index]
        with urllib.request.urlopen(
            base + "/registered-models/search?max_results=100", timeout=5
        ) as r:
            models = dict(json.loads(r.read()))
        listed = {m["name"]: m for m in models["registered_models"]}  # type: ignore[index,union-attr]
        assert adult_run.name in listed
        aliases = {a["alias"]: a["version"] for a in listed[adult_run.name].get("aliases", [])}
        assert aliases["champion"] == "1"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def test_second_run_is_the_challenger_through_the_cli(
    adult_run: RunResult,
    adult_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(adult_run.path.parent.parent))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    code, out, err = _cli(
        [
            "run",
            str(adult_file),
            "--target",
            "income",
            "--max-trials",
            "0",
            "--families",
            "linear",
            "--jobs",
            "1",
            "--seed",
            "1",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["model"]["version"] == 2 and document["model"]["alias"] == "challenger"
    assert document["fairness"] is None and "sex" in document["sensitive_suggested"]
    code, out, err = _cli(["models", "list", "--json"], capsys)
    assert code == 0
    (model,) = [m for m in json.loads(out)["models"] if m["name"] == adult_run.name]
    assert model["aliases"] == {"champion": 1, "challenger": 2}
    code, out, err = _cli(["models", "promote", adult_run.name, "2"], capsys)
    assert code == 0 and "champion -> v2 (was v1); cleared challenger" in err
    code, out, err = _cli(["models", "show", adult_run.name, "--json"], capsys)
    assert [v["aliases"] for v in json.loads(out)["versions"]] == [[], ["champion"]]
    code, out, err = _cli(["models", "show", "nope"], capsys)
    assert (
        code == 2 and err.startswith("error: no registered model 'nope'") and err.count("\n") == 1
    )


def test_report_rebuilds_from_the_record(
    adult_run: RunResult, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(adult_run.path.parent.parent))
    html = adult_run.path / "report.html"
    html.unlink()
    code, _, err = _cli(["report", adult_run.run_id], capsys)
    assert code == 0, err
    assert html.is_file() and adult_run.champion in html.read_text()


def test_report_of_a_missing_run(
    adult_run: RunResult, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(adult_run.path.parent.parent))
    code, out, err = _cli(["report", "no-such-run"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: no run 'no-such-run'") and err.count("\n") == 1
    assert adult_run.run_id in err  # it names the runs there are
    with pytest.raises(RunNotFoundError, match=r"no run 'no-such-run'.*recent runs"):
        load_run("no-such-run", adult_run_settings(adult_run))


# -- bad input: a clear error before training, nothing lost ------------------------------------


def test_unreachable_tracking_uri(adult_run: RunResult, adult_file: Path) -> None:
    ws = adult_run_settings(adult_run)
    before = _state(ws)
    started = time.monotonic()
    with pytest.raises(TrackingError, match=r"cannot be reached.*unset MLFLOW_TRACKING_URI"):
        run(
            adult_file,
            target="income",
            tracking_uri=f"http://127.0.0.1:{free_port()}",
            settings=ws,
            **QUICK,
        )  # type: ignore[arg-type]
    assert time.monotonic() - started < 5  # before reading, let alone training
    assert _state(ws) == before


def test_unreachable_tracking_uri_cli(
    adult_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    code, _, err = _cli(["run", str(adult_file), "--target", "income"], capsys)
    assert code == 2 and err.startswith("error: the tracking server at http://127.0.0.1:")
    assert err.count("\n") == 1
    assert not (tmp_path / "ws" / "runs").exists()


def test_sensitive_column_that_does_not_exist(adult_run: RunResult, adult_file: Path) -> None:
    ws = adult_run_settings(adult_run)
    before = _state(ws)
    with pytest.raises(
        ConfigError, match=r"the sensitive column 'Sex' is not in the table; did you mean 'sex'\?"
    ):
        run(adult_file, target="income", sensitive=["Sex"], settings=ws, **QUICK)  # type: ignore[arg-type]
    with pytest.raises(
        ConfigError,
        match=r"the sensitive column 'gender' is not in the table; the columns are 'age'",
    ):
        run(adult_file, target="income", sensitive=["gender"], settings=ws, **QUICK)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="is the target"):
        run(adult_file, target="income", sensitive=["income"], settings=ws, **QUICK)  # type: ignore[arg-type]
    assert _state(ws) == before


def test_model_name_used_for_another_task(adult_run: RunResult, adult_file: Path) -> None:
    ws = adult_run_settings(adult_run)
    before = _state(ws)
    started = time.monotonic()
    with pytest.raises(
        RegistryError,
        match=r"task \(binary, predicting 'income'\); this run is regression, predicting 'age'",
    ):
        run(adult_file, target="age", name=adult_run.name, settings=ws, **QUICK)  # type: ignore[arg-type]
    assert time.monotonic() - started < 30
    assert _state(ws) == before


def test_bad_names_and_targets(adult_run: RunResult, adult_file: Path) -> None:
    ws = adult_run_settings(adult_run)
    before = _state(ws)
    with pytest.raises(RegistryError, match="not usable"):
        run(adult_file, target="income", name="my model!", settings=ws, **QUICK)  # type: ignore[arg-type]
    with pytest.raises(TargetError, match=r"'Income' is not in the table; did you mean 'income'\?"):
        run(adult_file, target="Income", settings=ws, **QUICK)  # type: ignore[arg-type]
    with pytest.raises(TargetError, match=r"'incme' is not in the table; did you mean 'income'\?"):
        run(adult_file, target="incme", settings=ws, **QUICK)  # type: ignore[arg-type]
    with pytest.raises(TargetError, match=r"'zzz' is not in the table; the columns are 'age'"):
        run(adult_file, target="zzz", settings=ws, **QUICK)  # type: ignore[arg-type]
    assert _state(ws) == before


def test_a_failed_run_leaves_nothing(
    adult_run: RunResult, adult_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import apprentice.workflows.train

    ws = adult_run_settings(adult_run)
    before = _state(ws)

    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("out of memory in training")

    monkeypatch.setattr(apprentice.workflows.train, "train", broken)
    with pytest.raises(MemoryError):
        run(adult_file, target="income", settings=ws, **QUICK)  # type: ignore[arg-type]
    assert _state(ws) == before


# -- without tracking; regression ---------------------------------------------------------------


def test_regression_without_tracking(tmp_path: Path) -> None:
    ws = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    result = run(
        TABLES / "insurance.csv",
        target="charges",
        sensitive=["sex", "age"],
        track=False,
        settings=ws,
        **QUICK,  # type: ignore[arg-type]
    )
    assert result.task == "regression" and result.tracking is None and result.model is None
    assert not (tmp_path / "ws" / "mlflow.db").exists()
    assert result.fairness is not None and set(result.fairness["columns"]) == {"sex", "age"}
    assert (result.path / "report.html").is_file()
    assert "registered no (tracking off)" in result.summary_lines()


def test_sensitive_bands() -> None:
    frame = pd.DataFrame({"age": [str(a) for a in range(18, 78)], "sex": ["F", "M"] * 30})
    out, notes = sensitive_frame(frame, ["age", "sex"])
    assert out["age"].nunique() == 5 and out["sex"].tolist() == frame["sex"].tolist()
    bands = "18-29.8, 29.8-41.6, 41.6-53.4, 53.4-65.2, 65.2-77"
    assert notes == [f"'age' is numeric: its fairness groups are 5 quantile bands ({bands})"]
