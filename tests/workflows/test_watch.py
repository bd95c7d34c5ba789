"""``apprentice watch`` end to end on 127.0.0.1: a real server of a registered model, traffic,
labels arriving as feedback, one watch cycle that finds the degradation, retrains through the
gate and promotes; the lock; a retrain that crashes mid-cycle; unchanged data left alone."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.learn._data import text_table
from tests.serve._live import LiveServer, live_server
from tests.track._support import empty_store  # noqa: F401  (an initialised MLflow store)

from apprentice.config import Settings

QUICK: dict[str, Any] = {"time_budget": None, "max_trials": 0, "families": ("linear",),
                         "n_jobs": 1, "n_boot": 50}  # fmt: skip


def _new_concept(rows: pd.DataFrame) -> pd.Series:
    """After release the world changed: the outcome now follows short working hours."""
    hours = pd.to_numeric(rows["hours_per_week"], errors="coerce").fillna(40)
    return pd.Series([">50K" if h < 45 else "<=50K" for h in hours], index=rows.index)


@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Path) -> Path:  # noqa: F811
    """A workspace whose registry holds ``adult`` v1, a champion trained on 300 old rows."""
    from apprentice.bundle import train
    from apprentice.monitor import attach_profile, build_profile
    from apprentice.track import RunLog, Tracker, register_bundle

    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(empty_store, workspace / "mlflow.db")
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(workspace))
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    rows = text_table("adult.csv", rows=2000, seed=21)
    base = tmp_path / "base.csv"
    rows.iloc[:300].to_csv(base, index=False)
    (tmp_path / "fresh.csv").write_text(rows.iloc[600:].to_csv(index=False), encoding="utf-8")
    champion = train(base, target="income", out=tmp_path / "v1", **QUICK)
    attach_profile(champion.path, build_profile(champion.bundle, rows.iloc[300:600]))
    tracker = Tracker()
    run = tracker.log_run(RunLog(experiment="adult", run_name="v1",
                                 artifacts=[(champion.path, "bundle")]))  # fmt: skip
    register_bundle(tracker, name="adult", run_id=run.run_id, source=f"{run.artifact_uri}/bundle",
                    task="binary", target="income")  # fmt: skip
    return workspace


def _traffic(
    server: LiveServer, rows: pd.DataFrame, labels: pd.Series, *, drain: bool = True
) -> None:
    """Each row predicted, then its label fed back; ``drain`` waits for the log's commits."""
    conn = server.connection()
    try:
        for i, row in rows.drop(columns=["income"]).iterrows():
            status, body = server.request("POST", "/predict", dict(row), conn=conn)
            assert status == 200, body
            rid = json.loads(body)["request_id"]
            status, body = server.request(
                "POST", "/feedback", {"request_id": rid, "actual": labels[i]}, conn=conn
            )
            assert status == 200, body
    finally:
        conn.close()
    if drain:
        server.wait_drained()


def _aliases() -> dict[str, int]:
    from apprentice.track import Tracker, show_model

    return dict(show_model(Tracker(), "adult").aliases)


def test_watch_finds_the_degradation_retrains_and_promotes(registered: Path) -> None:
    from apprentice.workflows.watch import WatchOptions, watch

    fresh = pd.read_csv(registered.parent / "fresh.csv", dtype=str, keep_default_na=False)
    rows = fresh.iloc[:900]
    with live_server(Path("adult"), registered) as server:
        _traffic(server, rows, _new_concept(rows))
        options = WatchOptions(db_url=server.db_url, every=3600, min_feedback=100)
        (cycle,) = watch("adult", options, cycles=1, settings=Settings(workspace=registered))
    assert cycle.degraded, cycle.to_dict()
    assert cycle.labelled_rows == 900
    assert cycle.decision == "retrained, challenger promoted", cycle.reason
    assert "accuracy fell below the reference" in cycle.reason
    assert _aliases() == {"champion": 2, "previous": 1}
    line = (registered / "watch" / "adult.log").read_text(encoding="utf-8")
    assert "adult v1 [start] 900 rows (900 labelled)" in line
    assert "retrained, challenger promoted" in line
    record = json.loads((registered / "watch" / "adult.jsonl").read_text().splitlines()[-1])
    assert record["retrain"]["promote"] is True
    # the champion had no time budget (trials only): the retrain got one derived from its
    # training, recorded in the cycle, and the challenger's run was made with it
    budget = record["retrain"]["time_budget"]
    assert budget >= 60.0
    assert "the champion had no time budget" in record["retrain"]["time_budget_from"]
    run_record = json.loads((Path(record["retrain"]["out"]) / "run.json").read_text())
    assert run_record["reproduce"]["time_budget"] == budget
    assert record["retrain"]["seconds"] > 0
    from apprentice.track import Tracker

    runs = Tracker().client.search_runs(
        [Tracker().experiment_id("adult")], "tags.`apprentice.kind` = 'watch'"
    )
    assert [r.data.tags["apprentice.decision"] for r in runs] == ["retrained, challenger promoted"]


def test_unchanged_data_is_left_alone_and_a_crashed_retrain_keeps_the_champion(
    registered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.workflows import retrain as retrain_module
    from apprentice.workflows.watch import WatchOptions, watch

    fresh = pd.read_csv(registered.parent / "fresh.csv", dtype=str, keep_default_na=False)
    with live_server(Path("adult"), registered) as server:
        same = fresh.iloc[:600]
        _traffic(server, same, same["income"].str.strip())
        options = WatchOptions(db_url=server.db_url, every=3600, min_feedback=100)
        (quiet,) = watch("adult", options, cycles=1, settings=Settings(workspace=registered))
        assert not quiet.degraded and quiet.decision == "no action", quiet.to_dict()
        shifted = fresh.iloc[600:1400]
        _traffic(server, shifted, _new_concept(shifted))

        def crash(*args: Any, **kwargs: Any) -> Any:
            raise MemoryError("the machine ran out of memory mid-retrain")

        monkeypatch.setattr(retrain_module, "retrain", crash)
        (failed,) = watch("adult", options, cycles=1, settings=Settings(workspace=registered))
        assert failed.degraded
        assert failed.decision == "retrain failed, champion kept"
        assert (
            "retrain failed: MemoryError: the machine ran out of memory mid-retrain"
            in failed.reason
        )
        status, _ = server.request("GET", "/ready")
        assert status == 200
    assert _aliases() == {"champion": 1}
    lines = (registered / "watch" / "adult.log").read_text(encoding="utf-8").splitlines()
    assert [ln.split(" -> ")[1].split(":")[0] for ln in lines] == [
        "no action",
        "retrain failed, champion kept",
    ]


def test_one_loop_per_model_and_a_crash_leaves_no_stale_lock(registered: Path) -> None:
    from apprentice.workflows.watch import WatchBusyError, watch_lock

    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from pathlib import Path
            from apprentice.config import Settings
            from apprentice.workflows.watch import watch_lock
            with watch_lock("adult", Settings(workspace=Path({str(registered)!r}))):
                print("held", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with (
            pytest.raises(WatchBusyError) as err,
            watch_lock("adult", Settings(workspace=registered)),
        ):
            pass
        assert "a watch loop already runs for 'adult' (pid " in err.value.message
        assert "one loop per model" in err.value.message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    time.sleep(0.1)
    with watch_lock("adult", Settings(workspace=registered)) as path:  # the kernel released it
        assert path.is_file()


def test_watch_refuses_what_it_cannot_follow(registered: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from apprentice.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["watch", str(tmp_path / "v1"), "--cycles", "1"])
    assert out.exit_code == 2
    assert "watch needs a registered model" in out.output
    out = runner.invoke(app, ["watch", "adult/1", "--cycles", "1"])
    assert out.exit_code == 2 and "watch follows the champion" in out.output
    out = runner.invoke(app, ["watch", "adult", "--every", "soon"])
    assert out.exit_code == 2 and "--every 'soon' is not a duration" in out.output
    out = runner.invoke(app, ["watch", "adult", "--retrain-budget", "-5", "--cycles", "1"])
    assert out.exit_code == 2
    assert "the retrain budget -5 is not a positive number of seconds" in out.output
    assert not (registered / "watch" / "adult.log").exists()  # nothing ran, nothing recorded
