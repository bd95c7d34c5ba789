"""Cleaning speed and memory on a 1M-row x 20-column real-shaped table.

The table (``benchmarks/_out/clean_speed_<rows>.csv``, git-ignored) is generated once,
deterministically, from real tables of ``../shared/data/tables/``:

* 15 columns from ``adult.csv`` (the UCI census extract, 32,561 rows, repeated): 6 integer
  columns, 9 text categories with their leading spaces and ``?`` markers; ``fnlwgt`` gets a
  copy-dependent offset so it stays high-cardinality;
* 5 columns built from ``nyc_taxis.csv`` (6,433 trips): ``pickup`` (datetime text, shifted 17
  minutes per copy, so nearly unique), ``fare`` (decimal, scaled per copy), ``trip_date``
  (``dd/mm/yyyy`` text), ``amount`` (``$1,234.56`` currency with thousands separators) and
  ``paid`` (``yes``/``no`` with some ``N/A``).

Each measurement runs in its own fresh subprocess; the best of ``--repeat`` runs is kept:

* ``pandas.read_csv(path)`` with default settings (the yardstick);
* ``apprentice.clean.clean_table`` on the text table: every column is first read as text by
  ``pyarrow.csv`` into pandas ``str`` columns, outside the timing (the kind of table
  ``apprentice.read`` returns, without depending on the reader's own speed);
* with ``--with-read``, ``apprentice.read(path)`` too, for the end-to-end figure.

With ``--wide COLUMNS`` the table is instead ``--rows`` rows x COLUMNS generated columns (two
in three integers, the rest two-decimal numbers, every 50th a small category), and the
measure is the whole file workflow, ``apprentice.workflows.clean.clean_file(path)``: read,
clean, PII scan and schema, against ``pandas.read_csv(path)`` (issue 16: 10,000 x 1,000
within 3 x).

Goals: clean time <= 3 x read_csv time; peak memory during cleaning (resident set growth over
the process's size just before cleaning, sampled every 5 ms) <= 3 x the cleaned frame's
``memory_usage(deep=True)``.

Usage::

    .venv/bin/python benchmarks/clean_speed.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/clean_speed.py --rows 200000   # quick run
    .venv/bin/python benchmarks/clean_speed.py --rows 1000 --wide 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "_out"
TABLES = REPO / ".." / "shared" / "data" / "tables"
GOAL_TIME = 3.0
GOAL_MEMORY = 3.0


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    adult = pd.read_csv(TABLES / "adult.csv", dtype=str, keep_default_na=False)
    taxis = pd.read_csv(TABLES / "nyc_taxis.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(20240601)
    a_idx = np.arange(rows) % len(adult)
    copy = np.arange(rows) // len(adult)
    frame = adult.iloc[a_idx].reset_index(drop=True)
    fnl = frame["fnlwgt"].astype(np.int64) + copy * 7
    frame["fnlwgt"] = fnl.astype(str)
    t_idx = np.arange(rows) % len(taxis)
    t_copy = np.arange(rows) // len(taxis)
    pickup = pd.to_datetime(taxis["pickup"].iloc[t_idx].to_numpy()) + pd.to_timedelta(
        t_copy * 17, unit="min"
    )
    frame["pickup"] = pickup.strftime("%Y-%m-%d %H:%M:%S")
    fare = taxis["fare"].iloc[t_idx].astype(float).to_numpy() * (1 + (t_copy % 97) / 1000)
    frame["fare"] = np.round(fare, 2).astype(str)
    frame["trip_date"] = pickup.strftime("%d/%m/%Y")
    total = taxis["total"].iloc[t_idx].astype(float).to_numpy() * (1 + (t_copy % 89) * 11.3)
    frame["amount"] = [f"${v:,.2f}" for v in np.round(total, 2)]
    paid = np.where(rng.random(rows) < 0.6, "yes", "no").astype(object)
    paid[rng.random(rows) < 0.02] = "N/A"
    frame["paid"] = paid
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def generate_wide(path: Path, rows: int, columns: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20261204)
    data: dict[str, Any] = {}
    for j in range(columns):
        if j % 50 == 49:
            data[f"k{j}"] = rng.choice(np.array(["north", "south", "east", "west"]), rows)
        elif j % 3 == 2:
            data[f"x{j}"] = np.round(rng.normal(100, 30, rows), 2)
        else:
            data[f"n{j}"] = rng.integers(0, 5000, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(data).to_csv(path, index=False)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


CHILD = r"""
import json, sys, threading, time
mode, path = sys.argv[1], sys.argv[2]
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096
out = {}
if mode == "pandas":
    import pandas as pd
    c = time.process_time(); t = time.perf_counter(); df = pd.read_csv(path)
    out["seconds"] = time.perf_counter() - t; out["cpu_seconds"] = time.process_time() - c
    out["table_bytes"] = int(df.memory_usage(deep=True).sum())
elif mode == "file":
    from apprentice.workflows.clean import clean_file
    c = time.process_time(); t = time.perf_counter(); res = clean_file(path)
    out["seconds"] = time.perf_counter() - t; out["cpu_seconds"] = time.process_time() - c
    out["shape"] = list(res.table.shape)
elif mode == "read":
    import apprentice
    t = time.perf_counter(); rr = apprentice.read(path); out["seconds"] = time.perf_counter() - t
    out["shape"] = list(rr.table.shape)
else:
    import pandas as pd, pyarrow as pa, pyarrow.csv as pv
    from apprentice.clean import clean_table
    t = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split(",")
    opts = pv.ConvertOptions(
        column_types={c: pa.large_string() for c in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    mapper = {pa.large_string(): pd.StringDtype("pyarrow", float("nan"))}.get
    rr = pv.read_csv(path, convert_options=opts).to_pandas(types_mapper=mapper)
    out["text_seconds"] = time.perf_counter() - t
    out["text_bytes"] = int(rr.memory_usage(deep=True).sum())
    import gc; gc.collect()
    base = rss(); peak = [base]; stop = [False]
    def sample():
        while not stop[0]:
            peak[0] = max(peak[0], rss()); time.sleep(0.005)
    th = threading.Thread(target=sample, daemon=True); th.start()
    c = time.process_time(); t = time.perf_counter(); res = clean_table(rr)
    out["seconds"] = time.perf_counter() - t; out["cpu_seconds"] = time.process_time() - c
    stop[0] = True; th.join()
    peak[0] = max(peak[0], rss())
    out["peak_growth_bytes"] = peak[0] - base
    out["table_bytes"] = int(res.table.memory_usage(deep=True).sum())
    out["kinds"] = {c.name: c.kind for c in res.ledger.columns}
print(json.dumps(out))
"""


def run_child(mode: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    ap.add_argument("--with-read", action="store_true", help="also time apprentice.read(path)")
    ap.add_argument(
        "--wide", type=int, default=0, help="a generated table of this many columns instead"
    )
    args = ap.parse_args(argv)
    if args.wide:
        return wide(args)
    path = OUT / f"clean_speed_{args.rows}.csv"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    size_mb = path.stat().st_size / 1e6
    pandas_runs = [run_child("pandas", path) for _ in range(args.repeat)]
    ours = [run_child("clean", path) for _ in range(args.repeat)]
    best_pd = min(r["seconds"] for r in pandas_runs)
    best = min(ours, key=lambda r: r["seconds"])
    ratio = best["seconds"] / best_pd
    best_pd_cpu = min(r["cpu_seconds"] for r in pandas_runs)
    best_cpu = min(r["cpu_seconds"] for r in ours)
    cpu_ratio = best_cpu / best_pd_cpu
    mem_ratio = best["peak_growth_bytes"] / best["table_bytes"]
    read = run_child("read", path) if args.with_read else None
    print(f"table: {args.rows:,} rows x 20 columns, {size_mb:.0f} MB CSV")
    print(f"  pandas.read_csv (defaults)         {best_pd:7.2f} s")
    print(
        f"  apprentice clean_table             {best['seconds']:7.2f} s   "
        f"ratio {ratio:.2f} (goal <= 3)"
    )
    print(
        f"  CPU time: read_csv {best_pd_cpu:.2f} s, clean_table {best_cpu:.2f} s, "
        f"ratio {cpu_ratio:.2f} (less sensitive to a busy machine)"
    )
    print(f"  (text table via pyarrow, untimed   {best['text_seconds']:7.2f} s)")
    if read is not None:
        e2e = read["seconds"] + best["seconds"]
        print(
            f"  apprentice.read, for reference     {read['seconds']:7.2f} s   shape {read['shape']}"
        )
        print(f"  apprentice.read + clean_table      {e2e:7.2f} s   ratio {e2e / best_pd:.2f}")
    print(
        f"  peak memory growth while cleaning {best['peak_growth_bytes'] / 1e6:7.0f} MB; cleaned "
        f"frame {best['table_bytes'] / 1e6:.0f} MB; ratio {mem_ratio:.2f} (goal <= 3)"
    )
    print("  types: " + ", ".join(f"{k}={v}" for k, v in best["kinds"].items()))
    result = {
        "rows": args.rows,
        "csv_mb": size_mb,
        "pandas_read_csv_seconds": best_pd,
        "clean_seconds": best["seconds"],
        "time_ratio": ratio,
        "cpu_ratio": cpu_ratio,
        "peak_growth_bytes": best["peak_growth_bytes"],
        "cleaned_bytes": best["table_bytes"],
        "memory_ratio": mem_ratio,
        "goal_met": ratio <= GOAL_TIME and mem_ratio <= GOAL_MEMORY,
        "apprentice_read": read,
        "runs": {"pandas": pandas_runs, "clean": ours},
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def wide(args: argparse.Namespace) -> int:
    """The wide-table figure: ``clean_file`` (read, clean, PII, schema) vs ``read_csv``."""
    path = OUT / f"clean_speed_wide_{args.rows}x{args.wide}.csv"
    if not path.exists():
        generate_wide(path, args.rows, args.wide)
    pandas_runs = [run_child("pandas", path) for _ in range(args.repeat)]
    ours = [run_child("file", path) for _ in range(args.repeat)]
    best_pd = min(r["seconds"] for r in pandas_runs)
    best = min(r["seconds"] for r in ours)
    cpu_pd = min(r["cpu_seconds"] for r in pandas_runs)
    cpu = min(r["cpu_seconds"] for r in ours)
    size_mb = path.stat().st_size / 1e6
    print(f"wide table: {args.rows:,} rows x {args.wide:,} columns, {size_mb:.0f} MB CSV")
    print(f"  pandas.read_csv (defaults)            {best_pd:7.2f} s  (CPU {cpu_pd:.2f} s)")
    print(
        f"  apprentice clean_file (read+clean+PII) {best:7.2f} s  (CPU {cpu:.2f} s)  "
        f"ratio {best / best_pd:.2f} (goal <= {GOAL_TIME:g}), CPU ratio {cpu / cpu_pd:.2f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": args.rows,
                    "columns": args.wide,
                    "pandas_read_csv_seconds": best_pd,
                    "clean_file_seconds": best,
                    "time_ratio": best / best_pd,
                    "cpu_ratio": cpu / cpu_pd,
                    "runs": {"pandas": pandas_runs, "file": ours},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
