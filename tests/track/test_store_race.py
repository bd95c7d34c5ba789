"""Two commands started at once on a new workspace both open its SQLite store: the first
creates the schema, the other waits for it (before, one failed with "table experiments
already exists")."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

OPEN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from apprentice.config import Settings
    from apprentice.track import Tracker
    start = float(sys.argv[2])
    while time.time() < start:
        time.sleep(0.005)
    tracker = Tracker(settings=Settings(workspace=Path(sys.argv[1]), tracking_uri=None)).open()
    print(len(tracker.client.search_experiments()))
""")


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    import time

    workspace = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if "TRACKING_URI" not in k}
    start = time.time() + 8.0  # after every process has imported what it needs
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, str(workspace), str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code == 0, err[-2000:]
        assert out.strip().isdigit()
    assert (workspace / "mlflow.db").is_file()
