"""The watch loop with the servers a team runs instead of the embedded defaults: the
prediction log in PostgreSQL and the registry on a remote MLflow tracking server (a real
``mlflow server`` on 127.0.0.1, artifacts proxied through it). Traffic with labels that
follow a new concept, one cycle: degradation found, challenger retrained from the champion's
training data plus the new labelled rows, promoted on the remote registry, the cycle recorded
there, and the running server swaps to the new champion."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._postgres import PostgresServer
from tests.learn._data import text_table
from tests.serve._live import free_port, live_server, wait_ready
from tests.track._support import empty_store  # noqa: F401  (an initialised MLflow store)
from tests.workflows.test_watch import QUICK, _new_concept, _traffic

from apprentice.config import Settings

START_TIMEOUT_S = 120


@pytest.fixture
def mlflow_server(tmp_path: Path, empty_store: Path) -> Iterator[str]:  # noqa: F811
    """A tracking server on 127.0.0.1 over a copy of an initialised store; its URL."""
    store = tmp_path / "server" / "mlflow.db"
    store.parent.mkdir()
    shutil.copy(empty_store, store)
    port = free_port()
    log = tmp_path / "server" / "out.log"
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
           "--workers", "1", "--backend-store-uri", f"sqlite:///{store}",
           "--artifacts-destination", str(tmp_path / "server" / "artifacts")]  # fmt: skip
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return bool(answer.status == 200)

    try:
        wait_ready(proc, healthy, log.read_text, timeout=START_TIMEOUT_S, pause=0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_watch_on_postgres_and_a_remote_tracking_server_promotes_and_swaps(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_server: str,
    postgres_server: PostgresServer,
    postgres_url: str,
) -> None:
    from apprentice.bundle import train
    from apprentice.monitor import attach_profile, build_profile
    from apprentice.track import RunLog, Tracker, register_bundle, show_model
    from apprentice.workflows.watch import WatchOptions, watch

    workspace = tmp_path / "ws"
    workspace.mkdir()
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(workspace))
    monkeypatch.setenv("APPRENTICE_TRACKING_URI", mlflow_server)  # the server process too
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(workspace=workspace, tracking_uri=mlflow_server)
    rows = text_table("adult.csv", rows=1600, seed=21)
    base = tmp_path / "base.csv"
    rows.iloc[:300].to_csv(base, index=False)
    champion = train(base, target="income", out=tmp_path / "v1", **QUICK)
    attach_profile(champion.path, build_profile(champion.bundle, rows.iloc[300:600]))
    tracker = Tracker(settings=settings)
    run = tracker.log_run(RunLog(experiment="adult", run_name="v1",
                                 artifacts=[(champion.path, "bundle")]))  # fmt: skip
    assert run.artifact_uri.startswith("mlflow-artifacts:"), run.artifact_uri  # on the server
    register_bundle(tracker, name="adult", run_id=run.run_id, source=f"{run.artifact_uri}/bundle",
                    task="binary", target="income")  # fmt: skip
    assert not (workspace / "mlflow.db").exists()  # nothing fell back to the local store

    fresh = rows.iloc[600:1500]
    follow = ["--follow-interval", "1"]
    with live_server(Path("adult"), workspace, db_url=postgres_url, args=follow) as server:
        assert server.db_url.startswith("postgresql")
        _traffic(server, fresh, _new_concept(fresh))
        options = WatchOptions(db_url=postgres_url, every=3600, min_feedback=100)
        (cycle,) = watch("adult", options, cycles=1, settings=settings)
        assert cycle.degraded, cycle.to_dict()
        assert cycle.labelled_rows == len(fresh)
        assert cycle.decision == "retrained, challenger promoted", cycle.reason
        deadline = time.monotonic() + 60  # the server follows the alias on the remote registry
        while True:
            status, body = server.request("GET", "/ready")
            assert status == 200, body
            ready = json.loads(body)
            if ready["model_version"] == "adult/2":
                break
            assert time.monotonic() < deadline, ready
            time.sleep(0.5)
        assert ready["swaps"] == 1 and ready["swap_error"] is None, ready
        record = dict(fresh.drop(columns=["income"]).iloc[0])
        status, body = server.request("POST", "/predict", record)
        assert status == 200 and json.loads(body)["model_version"] == "adult/2", body

    aliases = dict(show_model(Tracker(settings=settings), "adult").aliases)
    assert aliases == {"champion": 2, "previous": 1}
    remote = Tracker(settings=settings)
    runs = remote.client.search_runs(
        [remote.experiment_id("adult")], "tags.`apprentice.kind` = 'watch'"
    )
    assert [r.data.tags["apprentice.decision"] for r in runs] == ["retrained, challenger promoted"]
    assert not (workspace / "mlflow.db").exists()

    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            tables = sqlalchemy.inspect(conn).get_table_names()
            assert tables, "the prediction log has no table in PostgreSQL"
    finally:
        engine.dispose()
