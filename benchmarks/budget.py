"""Does the time budget hold end to end? ``train`` and ``run`` on every benchmark table.

The contract (issue 14): from the command's start to the bundle written -- reading, cleaning,
guards, search, refit, ensemble, holdout evaluation and profile included -- at most
``1.05 x budget + 5 s``. Each command runs as a fresh ``apprentice`` process (Python start
and imports count), in a fresh workspace, on every table of ``../shared/data/tables`` whose
MANIFEST.json role is ``benchmark`` (its ``drop`` columns dropped), at each budget.

- ``train``: the bundle is written just before the process ends: its wall time is measured.
- ``run``: the process goes on after the bundle (explanations, fairness, MLflow, report);
  the time to the bundle is the process's wall time less what the run record says came after
  the bundle (``timings.total_s - timings.to_bundle_s``). Both are printed.

Prints one row per (table, command, budget) and the worst ratio ``time / budget`` and worst
``time / (1.05 x budget + 5)``; exit status 1 when any run broke the contract or failed.
``--large`` adds ``flights_3m`` (3M rows). Timings depend on the machine's load: state it
(the load average is printed) when quoting the figures.

    .venv/bin/python benchmarks/budget.py                       # 15 s and 60 s, train and run
    .venv/bin/python benchmarks/budget.py --budgets 15 --commands train --tables penguins
    .venv/bin/python benchmarks/budget.py --large --budgets 60
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
LARGE = {"name": "flights_3m", "file": "flights_3m.parquet", "target": "delay", "drop": []}


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
        return {"wall_s": wall, "to_bundle_s": wall, "status": "killed", "champion": ""}
    wall = time.monotonic() - started
    row: dict[str, Any] = {"wall_s": wall, "to_bundle_s": wall, "champion": ""}
    if done.returncode not in (0, 3):  # 3: finished, the model is the constant baseline
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {**row, "status": f"exit {done.returncode}: {last[:100]}"}
    document = json.loads(done.stdout)
    row["champion"] = str(document.get("champion", ""))
    timings = document.get("timings") or {}
    if command == "run" and "to_bundle_s" in timings and "total_s" in timings:
        row["to_bundle_s"] = wall - (float(timings["total_s"]) - float(timings["to_bundle_s"]))
    row["status"] = "ok" if done.returncode == 0 else "constant model"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="15,60", help="comma-separated seconds")
    parser.add_argument("--commands", default="train,run", help="train, run or both")
    parser.add_argument("--tables", default="", help="comma-separated names (default: all)")
    parser.add_argument("--large", action="store_true", help="add flights_3m (3M rows)")
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
    if args.large and (args.data / LARGE["file"]).is_file():
        tables.append({**LARGE, "path": str(args.data / LARGE["file"])})
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    header = f"{'table':<22}{'cmd':<7}{'budget':>7}{'to bundle':>11}{'wall':>8}"
    print(header + f"{'ratio':>7}{'limit':>8}  status / champion")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="apprentice-budget-") as folder:
        for budget in budgets:
            for table in tables:
                for command in commands:
                    workspace = Path(folder) / f"{command}-{table['name']}-{budget:g}"
                    workspace.mkdir()
                    row = run_one(table, command, budget, workspace)
                    row.update(table=table["name"], command=command, budget=budget)
                    row["ratio"] = row["to_bundle_s"] / budget
                    row["holds"] = row["to_bundle_s"] <= limit(budget)
                    rows.append(row)
                    print(
                        f"{table['name']:<22}{command:<7}{budget:>7g}{row['to_bundle_s']:>11.1f}"
                        f"{row['wall_s']:>8.1f}{row['ratio']:>7.2f}{limit(budget):>8.1f}  "
                        f"{row['status']} {row['champion']}" + ("" if row["holds"] else "  OVER"),
                        flush=True,
                    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if rows:
        worst = max(rows, key=lambda r: r["ratio"])
        worst_limit = max(rows, key=lambda r: r["to_bundle_s"] / limit(r["budget"]))
        print(
            f"worst ratio to bundle / budget: {worst['ratio']:.2f} ({worst['table']}, "
            f"{worst['command']}, {worst['budget']:g} s)"
        )
        print(
            "worst time / (1.05 x budget + 5): "
            f"{worst_limit['to_bundle_s'] / limit(worst_limit['budget']):.2f} "
            f"({worst_limit['table']}, {worst_limit['command']}, {worst_limit['budget']:g} s)"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    failed = [r for r in rows if not r["holds"] or r["status"] not in ("ok", "constant model")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
