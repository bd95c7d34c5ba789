"""The server's life cycle: a busy port fails fast; ``serve NAME`` follows the registry.

A real ``apprentice serve`` process on 127.0.0.1 each time. The swap test registers the
planted bundle twice in a SQLite MLflow store, serves the name, keeps 4 clients sending
requests while the ``champion`` alias moves to version 2, and requires zero non-200
responses, the new version in every later response, and the log rows labelled with the
version that made them.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from apprentice.config import Settings
from tests.serve._live import live_server
from tests.serve.conftest import Planted
from tests.track._support import empty_store, make_workspace

__all__ = ["empty_store"]


def test_busy_port_is_one_error_line_before_serving(planted: Planted, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**os.environ, "APPRENTICE_WORKSPACE": str(tmp_path / "ws")}
        done = subprocess.run(
            [sys.executable, "-m", "apprentice", "serve", str(planted.bundle), "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert f"port {port}" in lines[0] and "--port" in lines[0]
    assert "serving" not in done.stderr + done.stdout
    assert not (tmp_path / "ws" / "predictions.sqlite").exists()  # nothing was started


def _register_twice(planted: Planted, workspace: Path, template: Path) -> Settings:
    from apprentice.track import RunLog, Tracker, register_bundle

    settings = make_workspace(workspace, template)
    tracker = Tracker(settings=settings)
    for number in (1, 2):
        run = tracker.log_run(
            RunLog(
                experiment="titanic",
                run_name=f"r{number}",
                artifacts=[(planted.bundle, "bundle")],
            )
        )
        register_bundle(
            tracker,
            name="titanic",
            run_id=run.run_id,
            source=f"{run.artifact_uri}/bundle",
            task="binary",
            target="Survived",
        )
    return settings


def test_serve_name_follows_the_champion_alias(
    planted: Planted, tmp_path: Path, empty_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.track import Tracker, promote

    for name in ("MLFLOW_TRACKING_URI", "APPRENTICE_TRACKING_URI", "APPRENTICE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    workspace = tmp_path / "ws"
    settings = _register_twice(planted, workspace, empty_store)
    records = planted.records(50)
    seen: list[list[tuple[int, str]]] = [[] for _ in range(4)]
    stop = threading.Event()

    with live_server(
        Path("titanic"), workspace, grace=5, args=["--follow-interval", "0.3"]
    ) as server:

        def work(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            i = k
            while not stop.is_set():
                conn.request(
                    "POST",
                    "/predict",
                    json.dumps(records[i % len(records)]),
                    {"content-type": "application/json"},
                )
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
                version = json.loads(body).get("model_version", "") if ok else ""
                seen[k].append((response.status, version))
                i += 4
            conn.close()

        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        promote(Tracker(settings=settings), "titanic", 2)
        deadline = time.monotonic() + 90
        while not any(v == "titanic/2" for s in seen for _, v in s[-5:]):
            assert time.monotonic() < deadline, "the server did not swap to version 2"
            assert all(t.is_alive() for t in threads), "a client failed"
            time.sleep(0.1)
        time.sleep(1.0)  # traffic on the new version
        stop.set()
        for t in threads:
            t.join(30)
        status, body = server.request("GET", "/ready")
        assert status == 200 and json.loads(body)["model_version"] == "titanic/2"
        assert json.loads(body)["swaps"] == 1
        status, body = server.request("GET", "/model")
        assert status == 200 and json.loads(body)["version"] == "titanic/2"
        status, body = server.request("GET", "/openapi.json")
        assert status == 200 and json.loads(body)["info"]["version"] == "titanic/2"
        db_url = server.db_url

    statuses = [s for per in seen for s, _ in per]
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    for per in seen:  # each client: version 1, then version 2, never back
        versions = [v for _, v in per]
        assert versions[0] == "titanic/1" and versions[-1] == "titanic/2"
        first_new = versions.index("titanic/2")
        assert set(versions[first_new:]) == {"titanic/2"}
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            labels = {r[0] for r in conn.execute(text("SELECT model_version FROM predictions"))}
    finally:
        engine.dispose()
    assert labels == {"titanic/1", "titanic/2"}
