"""Ctrl-C in the middle of a command: one line (``error: interrupted``), exit code 130, and
nothing half-written: no run folder, no registered version, and the next run works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "tables"


def _start(args: list[str], cwd: Path, stdin: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "APPRENTICE_WORKSPACE": str(cwd / ".apprentice"), "COLUMNS": "200"}
    env.pop("APPRENTICE_TRACKING_URI", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "apprentice", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # a Ctrl-C at a terminal: SIGINT with its default meaning (a background job of a
        # non-interactive shell would ignore it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdin=stdin,
    )


def test_ctrl_c_while_reading_stdin_is_one_line_and_exit_130(tmp_path: Path) -> None:
    proc = _start(["read", "-"], tmp_path, stdin=subprocess.PIPE)
    time.sleep(3.0)  # imports done, blocked on stdin
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted" and out == ""


def test_ctrl_c_during_training_leaves_no_run_and_registers_nothing(tmp_path: Path) -> None:
    data = tmp_path / "adult.csv"
    data.write_bytes((DATA / "adult.csv").read_bytes())
    args = ["run", str(data), "--target", "income", "--time-budget", "60"]
    proc = _start(args, tmp_path)
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "guard" not in seen:  # the search has started (the stages print one line each)
        line = proc.stderr.readline()
        assert line or proc.poll() is None, seen
        seen += line
        assert time.monotonic() < deadline, seen
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, seen + err
    assert err.strip().splitlines()[-1] == "error: interrupted", err
    assert "Traceback" not in err
    runs = tmp_path / ".apprentice" / "runs"
    assert not runs.exists() or not any(runs.iterdir())  # no half-written run folder
    listed = subprocess.run(
        [sys.executable, "-m", "apprentice", "models", "list", "--json"],
        cwd=tmp_path,
        env={**os.environ, "APPRENTICE_WORKSPACE": str(tmp_path / ".apprentice")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert "income" not in listed.stdout  # nothing registered
