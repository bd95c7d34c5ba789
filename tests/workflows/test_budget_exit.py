"""The budget counts to the process's exit (issue 14, point 1): a budgeted ``train`` or
``run`` run as the console script ends the process as soon as its work is done, without the
interpreter's teardown (7-13 s of wall time on a busy core after the bundle was written), and
nothing is lost on the way: the exit handlers run, the output is complete, the bundle whole.

Every process here is a fresh interpreter (:mod:`subprocess`); no test measures wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(__file__).resolve().parents[2] / "src"

#: a child that asks for a prompt exit, has an exit handler write a file and leaves unflushed
#: output on a pipe; argv[1]: 'thread' keeps a non-daemon thread running, 'ask' or 'no'
_CHILD = """
import atexit, sys, threading, time
from pathlib import Path
from apprentice.clock import exit_promptly, prompt_exit

marker = Path(sys.argv[2])
atexit.register(lambda: marker.write_text("handlers ran", encoding="utf-8"))
if sys.argv[1] != "no":
    exit_promptly()
if sys.argv[1] == "thread":
    threading.Thread(target=time.sleep, args=(0.5,)).start()
sys.stdout.write("all of the output")  # no newline: still in the buffer of a pipe
prompt_exit(3)
sys.stdout.write(" and then the normal exit")
sys.exit(0)
"""


def _child(mode: str, marker: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(marker)],
        env=dict(os.environ, PYTHONPATH=str(SRC)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_prompt_exit_runs_the_exit_handlers_and_flushes_the_output(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    done = _child("ask", marker)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "all of the output"  # flushed, and nothing ran after it
    assert marker.read_text(encoding="utf-8") == "handlers ran"


def test_without_the_request_the_process_exits_as_usual(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    done = _child("no", marker)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "all of the output and then the normal exit"
    assert marker.read_text(encoding="utf-8") == "handlers ran"


def test_a_running_thread_the_exit_would_wait_for_is_not_cut_short(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    done = _child("thread", marker)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "all of the output and then the normal exit"
    assert marker.read_text(encoding="utf-8") == "handlers ran"


def test_budgeted_train_as_a_fresh_process_writes_its_whole_account_and_bundle(
    tmp_path: Path,
) -> None:
    """The console script (``python -m apprentice``) with a budget: exit status 0, the JSON
    account complete on stdout, and the bundle it names loads and predicts."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["y"] = 2 * frame["a"] - frame["b"] + rng.normal(scale=0.2, size=300)
    source = tmp_path / "signal.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "bundle"
    argv = [sys.executable, "-m", "apprentice", "train", str(source), "--target", "y"]
    argv += ["--time-budget", "120", "--max-trials", "1", "--json", "--out", str(out)]
    done = subprocess.run(
        argv,
        env=dict(
            os.environ,
            PYTHONPATH=str(SRC),
            APPRENTICE_WORKSPACE=str(tmp_path / "ws"),
            OMP_NUM_THREADS="1",
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    account = json.loads(done.stdout)
    assert Path(account["bundle"]) == out
    assert account["champion"] != "dummy"
    from apprentice.bundle.io import load_bundle

    bundle = load_bundle(out)
    predicted = bundle.predict(frame.drop(columns=["y"]).head(5))
    assert len(predicted) == 5
    assert source.read_text(encoding="utf-8").count("\n") == 301  # the input untouched
