"""Does the time budget hold end to end? ``train`` and ``run`` on every benchmark table.

The contract (issue 14): from the command's start to its end -- reading, cleaning, guards,
search, refit, ensemble, holdout evaluation, profile and the bundle written, and for ``run``
also the explanations, fairness, registry and report -- at most ``1.05 x budget + 5 s``.
Each command runs as a fresh ``apprentice`` process (Python start and imports count), in a
fresh workspace, on every table of ``../shared/data/tables`` whose MANIFEST.json role is
``benchmark`` (its ``drop`` columns dropped), at each budget.

- ``train``: the bundle is written just before the process ends: its wall time is measured.
- ``run``: the wall time of the whole command is what the contract bounds; the time to the
  bundle (the wall time less what the run record says came after it, ``timings.total_s -
  timings.to_bundle_s``) is printed too.
- the step that ran furthest past its planned end, from the command's ``budget`` account
  (each step's planned and actual end, in its ``--json``).

Prints a markdown table, one row per (table, command, budget), then the worst ratio
``wall / budget`` and the worst ``wall / (1.05 x budget + 5)``; exit status 1 when any run
broke the contract or failed. ``--large`` adds ``flights_10m``: 10 million rows drawn with
replacement from ``flights_3m`` (a real table), written once to the git-ignored
``benchmarks/_out/``. Timings depend on the machine's load: the load averages at the start
and the end are printed; pin the measured commands to one core with ``taskset -c 1``.

    taskset -c 1 python benchmarks/budget.py       # 15 s and 60 s, train and run
    taskset -c 1 python benchmarks/budget.py --budgets 15 --commands train --tables penguins
    taskset -c 1 python benchmarks/budget.py --large --tables none --budgets 15,60
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLES = (ROOT / ".." / "shared" / "data" / "tables").resolve()
LARGE_ROWS = 10_000_000
LARGE = {"name": "flights_10m", "target": "delay", "drop": []}
OUT = ROOT / "benchmarks" / "_out"


def large_table(data: Path, rows: int = LARGE_ROWS) -> Path:
    """``flights_10m.parquet``: ``rows`` rows drawn with replacement (seed 0) from the real
    ``flights_3m`` table, written once to the git-ignored ``benchmarks/_out/``."""
    path = OUT / f"flights_{rows // 1_000_000}m.parquet"
    if path.is_file():
        return path
    import numpy as np
    import pyarrow.parquet as pq

    source = pq.read_table(data / "flights_3m.parquet")
    picked = np.random.default_rng(0).integers(0, source.num_rows, size=rows)
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    pq.write_table(source.take(picked), partial, row_group_size=1_000_000)
    partial.replace(path)
    return path


def benchmark_tables(data: Path) -> list[dict[str, Any]]:
    manifest = json.loads((data / "MANIFEST.json").read_text(encoding="utf-8"))
    return [{**t, "path": str(data / t["file"])} for t in manifest if t.get("role") == "benchmark"]


def limit(budget: float) -> float:
    return 1.05 * budget + 5.0


def run_one(table: dict[str, Any], command: str, budget: float, workspace: Path) -> dict[str, Any]:
    """One fresh ``apprentice`` process; its wall time and, for ``run``, the time to the bundle."""
    argv = [sys.executable, "-m", "apprentice", command, str(table["path"])]
    argv += ["--target", table["target"], "--time-budget", f"{budget:g}", "--json"]
    for column in table.get("drop") or []:
        argv += ["--drop-column", column]
    if command == "train":
        argv += ["--out", str(workspace / f"{table['name']}-{budget:g}")]
    env = dict(os.environ, APPRENTICE_WORKSPACE=str(workspace), PYTHONPATH=str(ROOT / "src"))
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=3 * budget + 120, check=False
        )
    except subprocess.TimeoutExpired:
        wall = time.monotonic() - started
        return {"wall_s": wall, "to_bundle_s": wall, "status": "killed", "champion": "", "over": ""}
    wall = time.monotonic() - started
    row: dict[str, Any] = {"wall_s": wall, "to_bundle_s": wall, "champion": "", "over": ""}
    if done.returncode not in (0, 3):  # 3: finished, the model is the constant baseline
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {**row, "status": f"exit {done.returncode}: {last[:100]}"}
    document = json.loads(done.stdout)
    row["champion"] = str(document.get("champion", ""))
    timings = document.get("timings") or {}
    if command == "run" and "to_bundle_s" in timings and "total_s" in timings:
        row["to_bundle_s"] = wall - (float(timings["total_s"]) - float(timings["to_bundle_s"]))
    row["status"] = "ok" if done.returncode == 0 else "constant model"
    row["over"] = most_over(document.get("budget"))
    return row


def most_over(account: dict[str, Any] | None) -> str:
    """The step that ran furthest past its planned end (the command's ``budget`` account:
    each step's planned and actual end), as ``step +seconds``; empty when none did."""
    steps = [s for s in (account or {}).get("steps", []) if s.get("over_s")]
    if not steps:
        return ""
    worst = max(steps, key=lambda s: float(s["over_s"]))
    return f"{worst['step']} +{float(worst['over_s']):.1f}"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="15,60", help="comma-separated seconds")
    parser.add_argument("--commands", default="train,run", help="train, run or both")
    parser.add_argument(
        "--tables", default="", help="comma-separated names (default: all; 'none': no table)"
    )
    parser.add_argument("--large", action="store_true", help="add flights_10m (10M rows)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--data", type=Path, default=TABLES, help="the tables' folder")
    args = parser.parse_args(argv)
    if not (args.data / "MANIFEST.json").is_file():
        print(f"no tables at {args.data}", file=sys.stderr)
        return 2
    tables = benchmark_tables(args.data)
    if args.tables:
        wanted = {t.strip() for t in args.tables.split(",") if t.strip()}
        tables = [t for t in tables if t["name"] in wanted]
    if args.large:
        tables.append({**LARGE, "path": str(large_table(args.data))})
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = []
    print(f"load average at start: {_load()}; this process may use CPUs {cpus}\n")
    columns = ["table", "command", "budget s", "wall s", "to bundle s", "limit s", "wall / budget"]
    print("| " + " | ".join([*columns, "status", "most past its plan"]) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="apprentice-budget-") as folder:
        for budget in budgets:
            for table in tables:
                for command in commands:
                    workspace = Path(folder) / f"{command}-{table['name']}-{budget:g}"
                    workspace.mkdir()
                    row = run_one(table, command, budget, workspace)
                    row.update(table=table["name"], command=command, budget=budget)
                    row["ratio"] = row["wall_s"] / budget
                    row["holds"] = row["wall_s"] <= limit(budget)
                    rows.append(row)
                    status = f"{row['status']} {row['champion']}".strip()
                    print(
                        f"| {table['name']} | {command} | {budget:g} | {row['wall_s']:.1f} | "
                        f"{row['to_bundle_s']:.1f} | {limit(budget):.1f} | {row['ratio']:.2f} | "
                        f"{status}{'' if row['holds'] else ' **OVER**'} | {row['over']} |",
                        flush=True,
                    )
    print(f"\nload average at end: {_load()}")
    if rows:
        worst = max(rows, key=lambda r: r["ratio"])
        worst_limit = max(rows, key=lambda r: r["wall_s"] / limit(r["budget"]))
        print(
            f"worst wall / budget: {worst['ratio']:.2f} ({worst['table']}, "
            f"{worst['command']}, {worst['budget']:g} s)"
        )
        print(
            "worst wall / (1.05 x budget + 5): "
            f"{worst_limit['wall_s'] / limit(worst_limit['budget']):.2f} "
            f"({worst_limit['table']}, {worst_limit['command']}, {worst_limit['budget']:g} s); "
            f"{sum(not r['holds'] for r in rows)} of {len(rows)} over the limit"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    failed = [r for r in rows if not r["holds"] or r["status"] not in ("ok", "constant model")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
