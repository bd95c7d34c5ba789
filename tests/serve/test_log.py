"""The prediction log: a 200 means the row is committed; no value stops the writer.

In file order: the writer alone (hostile values in a safe form, counted; the writer keeps
running; a waiter is released only after the commit); the app in process (a poison integer
request followed by normal ones, every 200 in the log, ``/ready`` true); a real server
killed with SIGKILL under load from 8 clients, restarted: every request that got a 200 is in
the log.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from apprentice.config import Settings
from apprentice.serve.log import NotLoggedError, PredictionLog, _safe, count_rows, read_log
from tests.serve._live import hammer_until_stopped, live_server, log_request_ids
from tests.serve.conftest import Planted

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

POISON: list[Any] = [
    10**400,  # orjson refuses integers beyond 64 bits
    -(10**5000),  # beyond Python's int->str digit limit too
    "\ud800 lone surrogate",
    {"deep": json.loads("[" * 300 + "]" * 300)},
    object(),
    np.array([[1, 2], [3, 4]]),
    float("nan"),
    {1: "integer key", None: "none key"},
]


def _item(i: int, raw: Any) -> tuple[Any, ...]:
    return (f"{i:032x}", 1.0e9 + i, "predict", {"a": raw}, {"a": 1.0}, 1, [0.2, 0.8], 0.5)


def test_no_value_stops_the_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    log = PredictionLog(url, model_version="v1", spill_dir=tmp_path / "spill")
    log.start()
    try:
        for i, value in enumerate(POISON):
            log.add(_item(i, value))
            log.add(_item(1000 + i, i))  # a normal row after each hostile one
        log.add_feedback("0" * 32, 10**400)
        last = log.add(_item(5000, "last"))
        log.wait_logged_sync(last, timeout=30)
        assert log.running and log.healthy
    finally:
        log.close()
    frame = read_log(url)
    assert len(frame) == 2 * len(POISON) + 1
    assert count_rows(url, "feedback") == 1
    # every hostile value but NaN (orjson writes null) and the int-keyed dict was counted
    assert log.unserialisable >= len(POISON) - 2 + 1
    rows = dict(zip(frame["request_id"], frame["inputs"], strict=True))
    assert json.loads(rows[f"{0:032x}"]) == {"a": str(10**400)}
    assert "bits" in json.loads(rows[f"{1:032x}"])["a"]
    assert json.loads(rows[f"{4:032x}"]) == {"a": "<object>"}
    assert json.loads(rows[f"{5:032x}"]) == {"a": [[1, 2], [3, 4]]}
    assert all(json.loads(rows[f"{1000 + i:032x}"]) == {"a": i} for i in range(len(POISON)))


def test_safe_form_is_always_json() -> None:
    import orjson

    for value in POISON:
        orjson.dumps(_safe({"v": value}))


def test_waiter_is_released_only_after_the_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    log = PredictionLog(url, model_version="v1", spill_dir=tmp_path / "spill", retry_for=60)
    log.start()
    assert log._store is not None
    real = log._store.insert
    gate = {"open": False}

    def slow(*args: Any) -> None:
        if not gate["open"]:
            raise OSError("database busy")
        real(*args)

    log._store.insert = slow  # type: ignore[method-assign]
    assert log._inline_store is not None  # the event loop's own commits (SQLite)
    log._inline_store.insert = slow  # type: ignore[method-assign]

    async def scenario() -> tuple[bool, int, int]:
        seq = log.add(_item(1, 1))
        waiter = asyncio.ensure_future(log.wait_logged(seq, timeout=30))
        feedback = asyncio.ensure_future(log.wait_logged(log.add_feedback(f"{1:032x}", 0)))
        await asyncio.sleep(0.5)
        early = waiter.done() or feedback.done()
        assert count_rows(url) == 0 and not log.healthy  # failing: /ready says so
        gate["open"] = True
        await waiter
        await feedback
        return early, count_rows(url), count_rows(url, "feedback")

    try:
        early, rows, feedback_rows = asyncio.run(scenario())
    finally:
        log.close()
    assert not early and rows == 1 and feedback_rows == 1
    assert log.failures >= 1 and log.healthy is False  # closed


def test_a_row_not_stored_in_time_is_not_acknowledged(tmp_path: Path) -> None:
    """The waiter's timer: past ``timeout`` the request gets NotLoggedError (no 200); the
    row is still stored once the database takes it, and no timer outlives its wait."""
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    log = PredictionLog(url, model_version="v1", spill_dir=tmp_path / "spill", retry_for=60)
    log.start()
    assert log._store is not None and log._inline_store is not None
    real = log._store.insert
    gate = {"open": False}

    def slow(*args: Any) -> None:
        if not gate["open"]:
            raise OSError("database busy")
        real(*args)

    log._store.insert = slow  # type: ignore[method-assign]
    log._inline_store.insert = slow  # type: ignore[method-assign]

    async def scenario() -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        seq = log.add(_item(1, 1))
        with pytest.raises(NotLoggedError, match=r"within 0\.3 s") as refused:
            await log.wait_logged(seq, timeout=0.3)
        gate["open"] = True
        await log.wait_logged(log.add(_item(2, 1)), timeout=30)  # a stored row: no timeout
        timers = [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()]
        return str(refused.value), len(timers)

    try:
        message, timers = asyncio.run(scenario())
    finally:
        log.close()
    assert "was not answered" in message
    assert timers == 0
    assert count_rows(url) == 2  # the refused row is kept: a client may retry, nothing lost


def test_a_stopped_log_refuses_to_acknowledge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    log = PredictionLog(url, model_version="v1", spill_dir=tmp_path / "spill")
    seq = log.add(_item(1, 1))  # never started: nothing will store it
    with pytest.raises(NotLoggedError, match="not running"):
        asyncio.run(log.wait_logged(seq))


def test_poison_integer_request_then_normal_ones(planted: Planted, tmp_path: Path) -> None:
    from apprentice.serve import create_app

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    app = create_app(planted.bundle, settings=Settings(workspace=tmp_path), database_url=url)
    records = planted.records(20)
    acked: list[str] = []
    with TestClient(app) as client:
        poison = {**records[0], "Age": 10**400, "Fare": 10**310}
        first = client.post(
            "/predict", content=json.dumps(poison), headers={"content-type": "application/json"}
        )
        assert first.status_code in (200, 422), first.text
        if first.status_code == 200:
            acked.append(first.json()["request_id"])
        for record in records:
            response = client.post("/predict", json=record)
            assert response.status_code == 200, response.text
            acked.append(response.json()["request_id"])
            # answered only after the commit: the row is already there
            assert response.json()["request_id"] in set(log_request_ids(url))
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["log"]["running"] and ready.json()["log"]["pending"] == 0
    assert set(acked) <= set(log_request_ids(url))
    assert len(acked) >= len(records)


def test_sigkill_under_load_loses_no_answered_prediction(planted: Planted, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    records = planted.records(200)
    rng = random.Random()
    with live_server(planted.bundle, workspace, grace=5) as server:
        acked, stop, threads = hammer_until_stopped(server, records, clients=8, max_seconds=30)
        deadline = time.monotonic() + 20
        while len(acked) < 50 and time.monotonic() < deadline:  # under load
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # a random moment
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
        stop.set()
        for t in threads:
            t.join(30)
        answered = list(acked)
        assert server.proc.returncode == -signal.SIGKILL
    assert len(answered) >= 50
    with live_server(planted.bundle, workspace, grace=5) as again:  # restart on the same log
        status, _ = again.request("GET", "/ready")
        assert status == 200
        logged = set(log_request_ids(again.db_url))
    missing = set(answered) - logged
    assert not missing, f"{len(missing)} of {len(answered)} answered predictions are lost"
    with sqlite3.connect(workspace / "predictions.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sigkill_loses_no_acknowledged_feedback(planted: Planted, tmp_path: Path) -> None:
    """``/feedback`` answers only after its row is committed: 4 clients send feedback, the
    server is killed with SIGKILL at a random moment, and every acknowledged one is stored."""
    import http.client
    import threading

    workspace = tmp_path / "ws"
    with live_server(planted.bundle, workspace, grace=5) as server:
        status, body = server.request("POST", "/predict", planted.records(100))
        assert status == 200, body
        ids = [p["request_id"] for p in json.loads(body)["predictions"]]
        acked: list[str] = []
        lock = threading.Lock()

        def work(k: int) -> None:
            conn = server.connection()
            for i in range(k, 100_000, 4):
                rid = ids[i % len(ids)]
                try:
                    status, _ = server.request(
                        "POST", "/feedback", {"request_id": rid, "actual": 1}, conn=conn
                    )
                except (OSError, http.client.HTTPException):
                    return  # the server is gone
                if status == 200:
                    with lock:
                        acked.append(rid)

        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(random.uniform(0.0, 0.5))
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
        for t in threads:
            t.join(30)
        answered = list(acked)
    assert len(answered) >= 40
    with sqlite3.connect(workspace / "predictions.sqlite") as conn:
        stored = [r[0] for r in conn.execute("SELECT request_id FROM feedback")]
    assert len(stored) >= len(answered)  # one row per acknowledged request (or more)
    missing = sorted(set(answered) - set(stored))
    assert not missing, f"{len(missing)} acknowledged feedback rows are lost"


def test_wal_is_checkpointed_off_the_event_loop(tmp_path: Path) -> None:
    """The loop's commits never checkpoint (that can wait on the disk); the writer thread
    copies the WAL into the database file within about a second."""
    path = tmp_path / "log.sqlite"
    log = PredictionLog(f"sqlite:///{path}", model_version="v1", spill_dir=tmp_path / "spill")
    log.start()
    size = path.stat().st_size

    async def write() -> None:
        for i in range(400):
            await log.wait_logged(log.add(_item(i, "x" * 1000)))

    try:
        asyncio.run(write())
        assert log.written == 400 and log._inline_store is not None
        deadline = time.monotonic() + 20
        while path.stat().st_size < size + 400_000:
            assert time.monotonic() < deadline, "the WAL was not checkpointed"
            time.sleep(0.1)
    finally:
        log.close()
    assert count_rows(f"sqlite:///{path}") == 400


def test_a_batch_row_is_answered_only_after_its_commit(planted: Planted, tmp_path: Path) -> None:
    """``/predict/batch`` streams its answer chunk by chunk; each chunk leaves only once its
    rows are committed, so when the response ends every answered row is in the log."""
    import csv
    import io

    from apprentice.serve import create_app

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    app = create_app(planted.bundle, settings=Settings(workspace=tmp_path), database_url=url)
    records = planted.records(300)
    columns = list(records[0])
    body = io.StringIO()
    writer = csv.DictWriter(body, fieldnames=columns)
    writer.writeheader()
    writer.writerows(records)
    with TestClient(app) as client:
        response = client.post(
            "/predict/batch", content=body.getvalue(), headers={"content-type": "text/csv"}
        )
        assert response.status_code == 200, response.text
        answered = [r["request_id"] for r in csv.DictReader(io.StringIO(response.text))]
        assert len(answered) == len(records)
        assert set(answered) <= set(log_request_ids(url))  # before the app shuts down
