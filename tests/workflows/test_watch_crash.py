"""A watch process killed in the middle of a retrain: the champion keeps serving, the lock is
free at once, and the next loop records the cycle that never finished and why."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from tests.track._support import empty_store  # noqa: F401  (the fixture `registered` uses)
from tests.workflows.test_watch import _aliases, _new_concept, _traffic, registered  # noqa: F401

from apprentice.config import Settings


@pytest.mark.timeout(600)
def test_a_watch_killed_mid_retrain_keeps_the_champion_and_is_recorded(
    registered: Path,  # noqa: F811
) -> None:
    from tests.serve._live import live_server

    from apprentice.serve.run import DEFAULT_ALIAS
    from apprentice.workflows.watch import WatchOptions, recover_interrupted, watch_lock

    fresh = pd.read_csv(registered.parent / "fresh.csv", dtype=str, keep_default_na=False)
    rows = fresh.iloc[:900]
    folder = registered / "watch"
    with live_server(Path("adult"), registered) as server:
        _traffic(server, rows, _new_concept(rows))
        env = {**os.environ, "APPRENTICE_WORKSPACE": str(registered)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "apprentice", "watch", "adult", "--cycles", "1",
             "--min-feedback", "100", "--db-url", server.db_url],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            # the retrain has started when the challenger's run folder exists: kill it there
            while not (registered / "runs").is_dir() or not any((registered / "runs").iterdir()):
                assert proc.poll() is None, "the watch process ended before its retrain"
                assert time.monotonic() < deadline, "the retrain never started"
                time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        marker = folder / "adult.cycle"
        assert marker.is_file()
        assert json.loads(marker.read_text())["champion_version"] == 1
        assert not (folder / "adult.log").exists()  # the killed cycle wrote no record
        # the champion keeps serving, and nothing moved in the registry
        status, body = server.request(
            "POST", "/predict", dict(rows.drop(columns=["income"]).iloc[0])
        )
        assert status == 200 and json.loads(body)["model_version"] == "adult/1"
        assert _aliases() == {DEFAULT_ALIAS: 1}
        options = WatchOptions(db_url=server.db_url)
        with watch_lock("adult", Settings(workspace=registered)):  # the kernel freed it
            cycle = recover_interrupted("adult", options, Settings(workspace=registered))
            assert recover_interrupted("adult", options, Settings(workspace=registered)) is None
    assert cycle is not None
    assert cycle.decision == "cycle interrupted, champion kept"
    assert "never finished" in cycle.reason and "the champion is still v1" in cycle.reason
    assert cycle.trigger == "start" and cycle.status == "interrupted"
    line = (folder / "adult.log").read_text(encoding="utf-8")
    assert "adult v1 [start]" in line and "cycle interrupted, champion kept" in line
    assert not marker.exists()


def test_the_loop_in_a_server_survives_a_log_that_is_not_ready(
    registered: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """``serve --watch`` starts its loop while the server is still creating the log: a
    database without tables fails the first cycle (recorded) and every look at the label
    count, and the loop goes on (it once died there, leaving a server without a watch)."""
    import sqlite3

    from apprentice.workflows.watch import Cycle, WatchOptions, background_watch

    db = tmp_path / "not-migrated.sqlite"
    sqlite3.connect(db).close()
    seen: list[Cycle] = []
    options = WatchOptions(db_url=f"sqlite:///{db}", every=3600, poll=0.05)
    settings = Settings(workspace=registered)
    with background_watch("adult", options, settings=settings, say=seen.append) as thread:
        deadline = time.monotonic() + 120
        while not seen:
            assert time.monotonic() < deadline, "the first cycle left no record"
            time.sleep(0.1)
        time.sleep(1.0)  # about twenty looks at the label count, each one failing
        assert thread.is_alive()
    assert not thread.is_alive()  # leaving the block stopped it
    assert seen[0].decision in ("no action", "cycle failed, champion kept"), seen[0].to_dict()
    assert _aliases() == {"champion": 1}
