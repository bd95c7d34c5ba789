"""``apprentice serve --watch`` on 127.0.0.1: the watch loop inside the server process. Traffic
runs throughout; labels of a changed world arrive as feedback; the loop's cycle finds the
degradation, retrains through the gate and promotes; the server, following the alias, swaps
to the new version while answering every request with a 200; the lock is released at exit."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.serve._live import LiveServer, live_server
from tests.track._support import empty_store  # noqa: F401  (the fixture `registered` uses)
from tests.workflows.test_watch import (  # noqa: F401
    _aliases,
    _new_concept,
    _traffic,
    registered,
)

from apprentice.config import Settings


def _watch_lines(workspace: Path) -> list[str]:
    path = workspace / "watch" / "adult.log"
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def _wait_for(what: str, probe: Any, server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen:\n{server.text_output()[-3000:]}")
        time.sleep(0.5)


class Traffic:
    """One client sending unlabelled requests until stopped; every status and version seen."""

    def __init__(self, server: LiveServer, records: list[dict[str, Any]]) -> None:
        self.server, self.records = server, records
        self.statuses: list[int] = []
        self.versions: list[str] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = self.server.connection()
        i = 0
        try:
            while not self.stop.is_set():
                try:
                    status, body = self.server.request(
                        "POST", "/predict", self.records[i % len(self.records)], conn=conn
                    )
                except OSError as exc:  # a refused or dropped connection is a failed request
                    self.errors.append(type(exc).__name__)
                    conn.close()
                    conn = self.server.connection()
                    continue
                self.statuses.append(status)
                if status == 200:
                    self.versions.append(json.loads(body)["model_version"])
                i += 1
                time.sleep(0.02)
        finally:
            conn.close()


@pytest.mark.timeout(600)
def test_serve_watch_promotes_and_swaps_with_no_failed_request(registered: Path) -> None:  # noqa: F811
    from apprentice.workflows.watch import watch_lock

    fresh = pd.read_csv(registered.parent / "fresh.csv", dtype=str, keep_default_na=False)
    shifted = fresh.iloc[:900]
    args = ["--watch", "--watch-every", "1h", "--watch-min-feedback", "900",
            "--watch-poll", "1s", "--follow-interval", "1"]  # fmt: skip
    with live_server(Path("adult"), registered, args=args) as server:
        # the first cycle runs at start, on an empty log: recorded, nothing done
        _wait_for("the first cycle", lambda: _watch_lines(registered), server, 60)
        assert "no action" in _watch_lines(registered)[0]
        records = [dict(r) for _, r in fresh.iloc[900:1000].drop(columns=["income"]).iterrows()]
        traffic = Traffic(server, records)
        traffic.thread.start()
        try:
            _traffic(server, shifted, _new_concept(shifted), drain=False)
            _wait_for("a second cycle", lambda: len(_watch_lines(registered)) >= 2, server, 300)
            second = _watch_lines(registered)[1]
            assert "[feedback (900 new labels)]" in second, second
            assert "retrained, challenger promoted" in second, second
            _wait_for("the swap", lambda: "adult/2" in traffic.versions[-5:], server, 60)
            time.sleep(1.0)  # more requests on the new version
        finally:
            traffic.stop.set()
            traffic.thread.join(timeout=30)
        status, body = server.request("GET", "/ready")
        ready = json.loads(body)
        assert status == 200 and ready["model_version"] == "adult/2", ready
        assert ready["swaps"] == 1 and ready["swap_error"] is None, ready
        code = server.terminate()
    assert code == 0, server.text_output()[-3000:]
    # the server's stderr says what each cycle did, brackets and all (no markup eaten)
    assert "[feedback (900 new labels)]" in server.text_output()
    # no request failed, before, during or after the swap
    assert traffic.errors == [], traffic.errors
    assert set(traffic.statuses) == {200}, {s: traffic.statuses.count(s) for s in traffic.statuses}
    assert traffic.versions[0] == "adult/1" and traffic.versions[-1] == "adult/2"
    first_new = traffic.versions.index("adult/2")
    assert set(traffic.versions[first_new:]) == {"adult/2"}  # no flapping back
    assert _aliases() == {"champion": 2, "previous": 1}
    record = json.loads((registered / "watch" / "adult.jsonl").read_text().splitlines()[-1])
    assert record["retrain"]["promote"] is True and record["labelled_rows"] == 900
    with watch_lock("adult", Settings(workspace=registered)):  # released when the server stopped
        pass


def test_serve_watch_refuses_before_serving(
    registered: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What cannot be watched stops the server before it binds a port or loads a model."""
    from apprentice.cli import main
    from apprentice.workflows.watch import watch_lock

    def refused(*args: str) -> str:
        with pytest.raises(SystemExit) as exit_:
            main(["serve", *args, "--port", "1", "--watch"])
        assert exit_.value.code == 2
        return capsys.readouterr().err

    assert "watch needs a registered model" in refused(str(tmp_path / "v1"))
    assert "--follow-interval 0 never swaps" in refused("adult", "--follow-interval", "0")
    assert "--watch-every 'often' is not a duration" in refused("adult", "--watch-every", "often")
    assert "the retrain budget 0 is not a positive number of seconds" in refused(
        "adult", "--watch-retrain-budget", "0"
    )
    with watch_lock("adult", Settings(workspace=registered)):
        err = refused("adult")
    assert "a watch loop already runs for 'adult'" in err and "one loop per model" in err
    assert not (registered / "watch" / "adult.log").exists()  # nothing ran, nothing recorded
