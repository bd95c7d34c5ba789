"""Scale: clean + train + batch-predict at 1e5, 1e6 and 1e7 rows, in-process and on Dask.

Data: the real ``flights_3m`` table (``../shared/data/tables/flights_3m.parquet``: US BTS
on-time data, January to June 2001; columns date, delay, distance, origin, destination;
target ``delay`` in minutes, regression). A fixed test set of 100,000 rows is drawn from it
once (seed 0) and never trained on. The training file of N rows is the first N rows of the
remaining 2.9M rows in a fixed shuffled order; **rows beyond those 2.9M are copies of them with
the date moved forward by 52 weeks per copy** (copy k: +52k weeks, so the weekday and season
pattern is kept and no copy duplicates another row exactly). Both files are written as CSV
text, the format users bring, so cleaning has real work to do (dates and numbers from text).

Each (rows, mode) runs in a fresh subprocess; a sampler reads the resident memory of that
process and of every process it starts (the Dask workers) from ``/proc`` every 50 ms.
Reported per run: wall time of each step, peak resident memory of the driver and of the
largest worker, the test RMSE, and for Dask the sample sizes used.

``inprocess``: ``apprentice.clean_file`` -> Parquet; ``apprentice.train`` on the CSV (time
budget B); ``bundle.predict`` on the test CSV as read.
``dask``: the same steps with ``--dask local:2`` semantics: a LocalCluster of 2
single-threaded worker processes (memory limit 4 GiB each); the file read and cleaned
partition by partition (recipe fitted on a sample), the search on a sample on the workers,
then LightGBM's Dask estimator on every training row, then partition-wise batch prediction.

Goals (issue 8): 1e7 rows complete with at most 4 GB peak per worker, time growing no faster
than linearly in rows, and the in-process default still winning below 1e6 rows.

Usage::

    .venv/bin/python benchmarks/scale.py                       # 1e5, 1e6, 1e7 (~30 min)
    .venv/bin/python benchmarks/scale.py --rows 100000 --modes dask --budget 20   # smoke
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FLIGHTS = (REPO / ".." / "shared" / "data" / "tables" / "flights_3m.parquet").resolve()
OUT = REPO / "benchmarks" / "_out" / "scale"
TEST_ROWS = 100_000
TARGET = "delay"


# --------------------------------------------------------------------------- data


def make_data(rows: int, folder: Path) -> tuple[Path, Path]:
    """The training CSV of ``rows`` rows and the fixed test CSV (see the module docstring)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    train_path = folder / f"flights_{rows}.csv"
    test_path = folder / "flights_test.csv"
    if train_path.exists() and test_path.exists():
        return train_path, test_path
    table = pq.read_table(FLIGHTS)
    order = np.random.default_rng(0).permutation(table.num_rows)
    if not test_path.exists():
        pcsv.write_csv(table.take(pa.array(order[:TEST_ROWS])), test_path)
    pool = table.take(pa.array(order[TEST_ROWS:]))
    tmp = train_path.with_suffix(".tmp")
    with pcsv.CSVWriter(tmp, pool.schema) as writer:
        left, copy = rows, 0
        while left > 0:
            part = pool.slice(0, min(left, pool.num_rows))
            if copy:
                moved = pc.add(part["date"], pa.scalar(timedelta(weeks=52 * copy)))
                part = part.set_column(part.schema.get_field_index("date"), "date", moved)
            for batch in part.to_batches(max_chunksize=500_000):
                writer.write_batch(batch)
            left -= part.num_rows
            copy += 1
    tmp.rename(train_path)
    return train_path, test_path


# --------------------------------------------------------------------------- memory


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TreeSampler:
    """Peak resident memory of a process and of each of its descendants."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self.root = root
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in _tree(self.root):
                rss = _rss(pid)
                if rss > self.peaks.get(pid, 0):
                    self.peaks[pid] = rss
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- one run


def _rmse(y: Any, pred: Any) -> float:
    import numpy as np

    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    ok = np.isfinite(y)
    return float(np.sqrt(np.mean((y[ok] - pred[ok]) ** 2)))


def run_inprocess(train: Path, test: Path, work: Path, budget: float) -> dict[str, Any]:
    import pandas as pd

    import apprentice

    steps: dict[str, float] = {}
    start = time.perf_counter()
    cleaned = apprentice.clean_file(str(train))
    cleaned.write(output=work / "clean.parquet", ledger=work / "ledger.json")
    n_rows = len(cleaned.table)
    del cleaned
    steps["clean"] = time.perf_counter() - start

    start = time.perf_counter()
    result = apprentice.train(
        str(train), target=TARGET, time_budget=budget, out=work / "model", n_boot=200
    )
    steps["train"] = time.perf_counter() - start

    start = time.perf_counter()
    bundle = apprentice.load_bundle(work / "model")
    raw = apprentice.read(str(test)).table
    pred = bundle.predict(raw)
    pd.DataFrame({"prediction": pred}).to_csv(work / "pred.csv", index=False)
    steps["predict"] = time.perf_counter() - start
    y = pd.to_numeric(raw[TARGET], errors="coerce")
    return {
        "steps": steps,
        "rows_cleaned": n_rows,
        "rmse": _rmse(y, pred),
        "champion": result.champion,
    }


def run_dask(train: Path, test: Path, work: Path, budget: float) -> dict[str, Any]:
    import pandas as pd

    import apprentice
    from apprentice import scale
    from apprentice.scale.bigtrain import train_partitioned

    steps: dict[str, float] = {}
    with scale.connect("local:2", memory_limit="4GiB") as client:
        assert client is not None
        start = time.perf_counter()
        table = scale.read_partitioned(str(train), client=client)
        cleaned = scale.clean_partitioned(table, client=client)
        cleaned.write(client=client, output=work / "clean.parquet", ledger=work / "ledger.json")
        steps["clean"] = time.perf_counter() - start

        start = time.perf_counter()
        trained = train_partitioned(
            str(train), target=TARGET, client=client, time_budget=budget, out=work / "model"
        )
        steps["train"] = time.perf_counter() - start

        start = time.perf_counter()
        bundle = apprentice.load_bundle(work / "model")
        scale.predict_partitioned(bundle, str(test), work / "pred.csv", client=client)
        steps["predict"] = time.perf_counter() - start
    pred = pd.read_csv(work / "pred.csv")["prediction"]
    y = pd.to_numeric(pd.read_csv(test)[TARGET], errors="coerce")
    return {
        "steps": steps,
        "rows_cleaned": int(cleaned.rows_total),
        "sample_rows_clean": int(cleaned.sample_rows),
        "rmse": _rmse(y, pred),
        "details": trained.to_dict(),
    }


def child(args: argparse.Namespace) -> int:
    train, test = Path(args.train), Path(args.test)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    fn = run_inprocess if args.mode == "inprocess" else run_dask
    result = fn(train, test, work, args.budget)
    result["wall"] = time.perf_counter() - start
    Path(args.result).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


def measure(mode: str, rows: int, budget: float, timeout: float) -> dict[str, Any]:
    train, test = make_data(rows, OUT / "data")
    work = OUT / "runs" / f"{mode}_{rows}"
    result_path = work.with_suffix(".json")
    work.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            "--mode",
            mode,
            "--train",
            str(train),
            "--test",
            str(test),
            "--work",
            str(work),
            "--result",
            str(result_path),
            "--budget",
            str(budget),
        ],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    with TreeSampler(proc.pid) as sampler:
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in reversed(_tree(proc.pid)):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait()
            code = -9
    record: dict[str, Any] = {"mode": mode, "rows": rows, "budget": budget, "exit": code}
    if code == 0 and result_path.exists():
        record.update(json.loads(result_path.read_text(encoding="utf-8")))
    driver = sampler.peaks.pop(proc.pid, 0)
    record["peak_driver_gb"] = driver / 1e9
    record["peak_worker_gb"] = (
        max(sampler.peaks.values(), default=0) / 1e9 if mode == "dask" else None
    )
    return record


def markdown(records: list[dict[str, Any]]) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs: `python benchmarks/scale.py --rows "
        + ",".join(str(r) for r in sorted({r["rows"] for r in records}))
        + f" --budget {records[0]['budget']:g}`.",
        "",
        "| rows | mode | clean s | train s | predict s | total s | peak driver GB "
        "| peak worker GB | test RMSE |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        s = r.get("steps", {})
        worker = "" if r.get("peak_worker_gb") is None else f"{r['peak_worker_gb']:.2f}"
        lines.append(
            f"| {r['rows']:,} | {r['mode']} | {s.get('clean', float('nan')):.1f} "
            f"| {s.get('train', float('nan')):.1f} | {s.get('predict', float('nan')):.1f} "
            f"| {r.get('wall', float('nan')):.1f} | {r['peak_driver_gb']:.2f} | {worker} "
            f"| {r.get('rmse', float('nan')):.3f} |"
            + ("" if r["exit"] == 0 else f" FAILED (exit {r['exit']}; -9: timed out)")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,1000000,10000000")
    parser.add_argument("--modes", default="inprocess,dask")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--mode")
    parser.add_argument("--train")
    parser.add_argument("--test")
    parser.add_argument("--work")
    parser.add_argument("--result")
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    records = []
    for rows in [int(float(r)) for r in args.rows.split(",")]:
        for mode in args.modes.split(","):
            record = measure(mode, rows, args.budget, args.timeout)
            records.append(record)
            print(json.dumps(record, default=str), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(records, indent=2, default=str))
    print()
    print(markdown(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
