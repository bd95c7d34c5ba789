"""The notebook flow, executed for real in a Jupyter kernel (nbclient): ``apprentice.run`` on a
DataFrame, the rich display of the result, ``r.bundle`` predicting, leaderboards and metrics
as DataFrames, ``apprentice.evaluate`` on labelled rows, and the reproduce line that runs."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from tests._tables import table_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import json, pandas as pd, apprentice\n"
    "df = pd.read_csv({path!r})\n"
    "r = apprentice.run(df, target='species', time_budget=60, families=('linear',),\n"
    "                   track=False, n_boot=200)",
    "r",  # the rich display
    "print(repr(r))",
    "r.bundle.predict(df.drop(columns=['species']).head(5))",
    "board = r.leaderboard\n"
    "assert isinstance(board, pd.DataFrame) and {'model', 'status'} <= set(board.columns)\n"
    "m = r.metrics_frame()\n"
    "assert list(m.columns) == ['metric', 'value', 'low', 'high']\n"
    "assert (m['low'] <= m['value']).all() and (m['value'] <= m['high']).all()",
    "s = apprentice.evaluate(r.bundle, df.sample(120, random_state=1), n_boot=200)\n"
    "assert s.scored == 120 and 0 <= s['accuracy'].low <= s['accuracy'].high <= 1\n"
    "s",
    "print(json.dumps({'command': r.reproduce['command'], 'folder': str(r.path)}))",
]


def _texts(outputs: list[dict[str, object]], kind: str) -> str:
    out = []
    for o in outputs:
        data = o.get("data")
        if isinstance(data, dict) and kind in data:
            out.append(str(data[kind]))
        if kind == "text/plain" and o.get("name") == "stdout":
            out.append(str(o.get("text")))
    return "".join(out)


def test_the_notebook_flow_runs_in_a_kernel(tmp_path: Path) -> None:
    path = table_path("penguins.csv")
    notebook = nbformat.v4.new_notebook()
    cells_text = [c.replace("{path!r}", repr(str(path))) for c in CELLS]
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells_text]
    env_before = dict(os.environ)
    os.environ["APPRENTICE_WORKSPACE"] = str(tmp_path / "ws")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    cells = notebook.cells
    html = _texts(cells[1].outputs, "text/html")
    # the run at a glance: headline, metrics with intervals, leaderboard, risks, inline SVG
    for part in ("Holdout metrics", "95% interval", "Leaderboard", "Risks and limits", "<svg"):
        assert part in html, part
    assert "&lt;svg" not in html  # charts are drawn, not printed as text
    assert str(tmp_path) not in html  # no absolute paths in the display
    short = _texts(cells[2].outputs, "text/plain")
    assert short.startswith("RunResult(") and len(short) < 300
    predicted = _texts(cells[3].outputs, "text/plain")
    assert "Adelie" in predicted or "Gentoo" in predicted or "Chinstrap" in predicted
    assert "95% interval" in _texts(cells[5].outputs, "text/html")

    # the reproduce line for in-memory data is a command that works: it reads the kept copy
    done = json.loads(_texts(cells[6].outputs, "text/plain"))
    folder = Path(done["folder"])
    assert (folder / "input.parquet").is_file()
    command = shlex.split(done["command"])
    assert command[:3] == ["apprentice", "run", str(folder / "input.parquet")]
    assert command[command.index("--time-budget") + 1] == "60"
    assert command[command.index("--families") + 1] == "linear"
    command[command.index("--time-budget") + 1] = "120"  # room for a loaded test machine
    again = subprocess.run(
        [sys.executable, "-m", "apprentice", *command[1:], "--no-track", "--quiet", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "APPRENTICE_WORKSPACE": str(tmp_path / "ws2"), "OMP_NUM_THREADS": "1"},
        check=False,
    )
    assert again.returncode in (0, 3), again.stderr[-2000:]
    record = json.loads(again.stdout)
    assert record["data"]["rows"] == 344 and record["target"] == "species"
