"""Connecting to Dask: addresses, a real scheduler and workers started as subprocesses, and
every way the connection can go wrong (unreachable, no workers, other versions, a dead worker).
"""

from __future__ import annotations

import json
import operator
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apprentice.errors import ClusterError
from apprentice.scale import compute, connect, gather, parse_address, resolve_address
from apprentice.scale.cluster import default_workers

SRC = Path(__file__).resolve().parents[2] / "src" / "apprentice"
DASK = str(Path(sys.executable).with_name("dask"))


def test_parse_addresses() -> None:
    assert parse_address("local").kind == "local"
    assert parse_address("local").workers == default_workers()
    assert parse_address("local:3").workers == 3
    assert parse_address("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    assert parse_address("10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    for bad, words in [
        ("local:0", "whole number"),
        ("local:two", "whole number"),
        ("http://host:8786", "unknown scheme"),
        ("tcp://host", "not a scheduler address"),
        ("", "empty"),
    ]:
        with pytest.raises(ClusterError, match=words):
            parse_address(bad)


def test_address_from_flag_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPRENTICE_DASK_ADDRESS", raising=False)
    assert resolve_address(None) is None
    monkeypatch.setenv("APPRENTICE_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    assert resolve_address(None) == "tcp://127.0.0.1:8786"
    assert resolve_address("local:2") == "local:2"


def test_in_process_without_an_address() -> None:
    with connect(None) as client:
        assert client is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_a_clear_error() -> None:
    port = _free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ClusterError) as info, connect(f"tcp://127.0.0.1:{port}", timeout=2):
        pass
    assert f"tcp://127.0.0.1:{port}" in str(info.value)
    assert "dask scheduler" in str(info.value)
    assert time.monotonic() - started < 30


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `dask scheduler` on 127.0.0.1, started as a subprocess; yields its address."""
    folder = tmp_path_factory.mktemp("scheduler")
    info = folder / "scheduler.json"
    proc = _start(
        [
            DASK,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, "dask scheduler exited"
            time.sleep(0.2)
        yield str(json.loads(info.read_text())["address"])
    finally:
        _stop(proc)


def _worker(address: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return _start(
        [DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--nworkers", "1"],
        env={"OMP_NUM_THREADS": "1", **(env or {})},
    )


def test_scheduler_without_workers_is_a_clear_error(scheduler: str) -> None:
    with pytest.raises(ClusterError, match="has no workers"), connect(scheduler, timeout=2):
        pass


def test_subprocess_scheduler_and_workers_run_jobs(scheduler: str, tmp_path: Path) -> None:
    workers = [_worker(scheduler), _worker(scheduler)]
    try:
        with connect(scheduler, timeout=60) as client:
            assert client is not None
            client.wait_for_workers(2, timeout=60)
            # a function the scheduler can import (it does not have the tests on its path)
            futures = client.map(operator.mul, range(20), range(20))
            assert gather(client, futures) == [i * i for i in range(20)]
            pids = set(client.run(os.getpid).values())
            assert len(pids) == 2 and os.getpid() not in pids
            # a real job on that cluster: the partitioned clean of a messy real table gives
            # the in-process ledger and values
            from apprentice.scale import clean_partitioned, read_partitioned
            from apprentice.workflows import clean_file
            from tests.scale.test_clean import _ledger_without_scale, _same_values
            from tests.scale.test_partitions import messy_adult

            path = messy_adult(tmp_path)
            table = read_partitioned(path, client=client, blocksize=50_000)
            assert table.n_partitions > 1
            cleaned = clean_partitioned(table, client=client, sample_rows=10**9)
            expected = clean_file(path)
            assert _ledger_without_scale(cleaned) == expected.ledger_dict()
            (frame,) = compute(client, cleaned.frame)
            _same_values(frame, expected.table)
    finally:
        _stop(*workers)


def test_workers_with_another_apprentice_are_refused(scheduler: str, tmp_path: Path) -> None:
    # a worker whose Python finds a different apprentice release first
    other = tmp_path / "site"
    shutil.copytree(SRC, other / "apprentice", ignore=shutil.ignore_patterns("__pycache__"))
    (other / "apprentice" / "_version.py").write_text('__version__ = "0.0.1.other"\n')
    worker = _worker(scheduler, env={"PYTHONPATH": str(other)})
    try:
        with pytest.raises(ClusterError) as info, connect(scheduler, timeout=60):
            pass
        message = str(info.value)
        assert "other versions" in message
        assert "0.0.1.other" in message and "apprentice" in message
        assert "Install the same versions" in message
    finally:
        _stop(worker)


def _die(x: int) -> int:
    os._exit(1)


def test_a_worker_dying_mid_job_fails_the_job() -> None:
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        connect("local:1", timeout=60, memory_limit="1GiB") as client,
    ):
        assert client is not None
        future: Any = client.submit(_die, 1, pure=False)
        with pytest.raises(ClusterError, match="worker died"):
            gather(client, future)
