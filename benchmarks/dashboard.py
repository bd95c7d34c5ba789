"""The monitoring dashboard on a large prediction log.

A small adult-census bundle (linear model, with its reference profile), a generated SQLite log
of N predictions over 10 days (feedback on a third; the log's own schema, so the database
keeps its per-minute aggregates as the server's inserts would), then ``dashboard_html`` timed
three times (the page the server's ``GET /dashboard`` returns): wall and CPU seconds (this
process; SQLite runs in it).

    .venv/bin/python benchmarks/dashboard.py            # 1,000,000 rows
    .venv/bin/python benchmarks/dashboard.py --rows 200000

Goal (issue 13): under 2 s on a 1M-row log.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs", flush=True)
    from tests.learn._data import text_table
    from tests.monitor._biglog import big_log

    from apprentice.bundle import load_bundle, train
    from apprentice.monitor import attach_profile, build_profile
    from apprentice.monitor.dashboard import dashboard_html

    work = Path(args.keep or tempfile.mkdtemp(prefix="apprentice-dashboard-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        rows = text_table("adult.csv", rows=4000, seed=11)
        reference, current = rows.iloc[:3000], rows.iloc[3000:]
        result = train(
            reference.iloc[:2200], target="income", out=work / "bundle", time_budget=None,
            max_trials=0, families=("linear",), n_jobs=1, n_boot=50,
        )  # fmt: skip
        attach_profile(result.path, build_profile(result.bundle, reference.iloc[2200:]))
        started = time.perf_counter()
        url = big_log(
            work / "predictions.sqlite",
            current.drop(columns=["income"]).to_dict(orient="records"),
            current["income"].tolist(),
            n=args.rows,
        )
        written = time.perf_counter() - started
        print(f"log of {args.rows:,} rows written in {written:.1f} s", flush=True)
        bundle = load_bundle(result.path)
        times, cpu = [], []
        for _ in range(3):
            started, used = time.perf_counter(), time.process_time()
            page = dashboard_html(url, bundle)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        assert f"{args.rows:,} predictions" in page
        summary = {
            "rows": args.rows,
            "seconds": [round(t, 3) for t in times],
            "best": round(min(times), 3),
            "cpu_seconds": [round(t, 3) for t in cpu],
            "load_average": os.getloadavg()[0],
        }
        print(json.dumps(summary))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
