"""Read speed and memory: ``apprentice.read`` against ``pyarrow.csv.read_csv`` on a ~1 GB CSV.

The file (``benchmarks/_out/nyc_taxis_<N>mb.csv``, git-ignored) is generated once from the real
table ``../shared/data/tables/nyc_taxis.csv`` (6,433 NYC taxi trips, 14 columns: two
timestamps, an integer, five decimals, six text columns). It is the table repeated until the
file reaches ``--size-mb`` (default 1024) MB, each copy ``k`` with varied values so that no two
copies are identical: both timestamps shifted by ``k * 17`` minutes and the five decimal columns
(distance, fare, tip, tolls, total) scaled by ``1 + (k mod 97) / 1000`` and rounded to cents.
It is written by ``pyarrow.csv.CSVWriter`` (comma, quotes only where needed, LF line ends,
missing values as empty fields): a clean, ordinary CSV.

Each reader runs in its own fresh subprocess (``--repeat`` times, best time kept):

* ``pyarrow``: ``pyarrow.csv.read_csv(path)`` (its default: multi-threaded, typed columns);
  table size = ``table.nbytes``.
* ``apprentice``: ``apprentice.read(path)`` with no hint; table size =
  ``result.table.memory_usage(deep=True).sum()``.

Time is measured inside the subprocess around the read call only (imports excluded), as
wall time and as the process's CPU time (all threads; a guide when the machine is busy);
throughput = file size / wall time. Peak memory is the subprocess's peak resident set size
(``ru_maxrss`` from ``os.wait4`` for that very child), which includes the interpreter and
imports; the peak of a child that only does the imports is printed as the baseline. Goals:
apprentice/pyarrow throughput >= 0.5 and apprentice peak memory / its table size < 3. A child
whose resident memory passes ``--mem-limit-gb`` or whose run passes ``--timeout`` is killed and
reported as such.

Usage::

    .venv/bin/python benchmarks/read_speed.py                  # ~1 GB file
    .venv/bin/python benchmarks/read_speed.py --size-mb 50     # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "_out"
SOURCE = REPO / ".." / "shared" / "data" / "tables" / "nyc_taxis.csv"
GOAL_THROUGHPUT_RATIO = 0.5
GOAL_MEMORY_RATIO = 3.0

# ---------------------------------------------------------------------------------------------
# Test file
# ---------------------------------------------------------------------------------------------


def generate(path: Path, size_mb: int, source: Path = SOURCE) -> None:
    """Write the test CSV of about ``size_mb`` MB at ``path`` (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    base = pacsv.read_csv(source)
    decimals = ["distance", "fare", "tip", "tolls", "total"]
    stamps = ["pickup", "dropoff"]
    target = size_mb * 1024 * 1024
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with pacsv.CSVWriter(str(tmp), base.schema, write_options=options) as writer:
        k = 0
        while True:
            cols = {}
            for name in base.column_names:
                col = base[name]
                if name in stamps:
                    col = pc.add(col, pa.scalar(k * 17 * 60, pa.duration("s")))
                elif name in decimals:
                    col = pc.round(pc.multiply(col, 1 + (k % 97) / 1000), 2)
                cols[name] = col
            writer.write_table(pa.table(cols, schema=base.schema))
            k += 1
            written = tmp.stat().st_size
            if written >= target:
                break
            if k % 200 == 0:
                print(f"  generating: {written / 1e6:.0f} MB", file=sys.stderr)
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------------------------


def child(reader: str, path: str) -> None:
    """Run one read in this process and print one JSON line with the measures."""
    if reader == "baseline":
        import pandas  # noqa: F401
        import pyarrow.csv  # noqa: F401

        import apprentice

        print(json.dumps({"seconds": 0.0, "cpu_seconds": 0.0, "table_bytes": 0, "rows": 0}))
        return
    if reader == "pyarrow":
        import pyarrow.csv as pacsv

        start, cpu = time.perf_counter(), time.process_time()
        table = pacsv.read_csv(path)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        size, rows, cols = table.nbytes, table.num_rows, table.num_columns
    elif reader == "apprentice":
        import apprentice

        start, cpu = time.perf_counter(), time.process_time()
        result = apprentice.read(path)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        frame = result.table
        size = int(frame.memory_usage(deep=True).sum())
        rows, cols = frame.shape
    else:
        raise SystemExit(f"unknown reader {reader!r}")
    sys.stdout.flush()
    measures = {"seconds": seconds, "cpu_seconds": cpu, "table_bytes": int(size)}
    print(json.dumps({**measures, "rows": rows, "cols": cols}))


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(reader: str, path: Path, *, mem_limit: float, timeout: float) -> dict[str, Any]:
    """Run ``reader`` on ``path`` in a fresh subprocess; its time, table size and peak RSS."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", reader, str(path)]
    # files, not pipes: a chatty child cannot block on a full pipe
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, text=True)
        start = time.monotonic()
        killed = None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if _rss_bytes(proc.pid) > mem_limit:
                killed = f"killed: resident memory over {mem_limit / 2**30:.0f} GiB"
            elif time.monotonic() - start > timeout:
                killed = f"killed: over {timeout:g} s"
            if killed:
                os.kill(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    out: dict[str, Any] = {
        "reader": reader,
        "peak_rss": rusage.ru_maxrss * 1024,  # Linux: KiB
        "wall": time.monotonic() - start,
        "error": killed,
    }
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if killed is None and (proc.returncode != 0 or not lines):
        tail = (stderr or stdout).strip().splitlines()[-3:]
        out["error"] = f"exit code {proc.returncode}: " + " | ".join(tail)
    if lines and out["error"] is None:
        out.update(json.loads(lines[-1]))
    return out


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="file size in MB (default 1024)")
    ap.add_argument("--file", type=Path, default=None, help="use this CSV instead")
    ap.add_argument("--readers", default="pyarrow,apprentice", help="comma list")
    ap.add_argument("--repeat", type=int, default=1, help="runs per reader, best kept")
    ap.add_argument("--mem-limit-gb", type=float, default=None, help="default: 80%% of RAM")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    ap.add_argument("--json", type=Path, default=None, help="write the measures here")
    args = ap.parse_args(argv)

    path = args.file or OUT / f"nyc_taxis_{args.size_mb}mb.csv"
    if not path.exists():
        if args.file:
            print(f"{path} does not exist", file=sys.stderr)
            return 2
        print(f"generating {path} from {SOURCE.resolve()} ...", file=sys.stderr)
        t0 = time.perf_counter()
        generate(path, args.size_mb)
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    size = path.stat().st_size
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    mem_limit = args.mem_limit_gb * 2**30 if args.mem_limit_gb else 0.8 * ram
    print(f"file: {path} ({_mb(size)}), {os.cpu_count()} CPU(s), {ram / 2**30:.0f} GiB RAM")
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(
            f"warning: load average {load:.1f} on {os.cpu_count()} CPU(s): other work competes "
            "for the CPU, wall times are pessimistic ('cpu s' is the read's own CPU time)"
        )

    base = measure("baseline", path, mem_limit=mem_limit, timeout=args.timeout)
    baseline = base["peak_rss"]
    print(f"baseline peak RSS (interpreter + pandas, pyarrow, apprentice imports): {_mb(baseline)}")

    results: dict[str, dict[str, Any]] = {}
    for reader in [r.strip() for r in args.readers.split(",") if r.strip()]:
        best: dict[str, Any] | None = None
        for _ in range(max(1, args.repeat)):
            r = measure(reader, path, mem_limit=mem_limit, timeout=args.timeout)
            if best is None or (
                r["error"] is None and (best["error"] is not None or r["seconds"] < best["seconds"])
            ):
                best = r
        assert best is not None
        if best["error"] is None:
            best["throughput_mb_s"] = size / 1e6 / best["seconds"]
            best["memory_ratio"] = best["peak_rss"] / best["table_bytes"]
            best["memory_ratio_above_baseline"] = (best["peak_rss"] - baseline) / best[
                "table_bytes"
            ]
        results[reader] = best

    print()
    print(
        f"{'reader':<12}{'seconds':>9}{'cpu s':>8}{'MB/s':>9}{'rows':>12}{'table':>11}"
        f"{'peak RSS':>11}{'peak/table':>12}{'(-baseline)':>12}"
    )
    for name, r in results.items():
        if r["error"]:
            print(f"{name:<12}  FAILED ({r['error']}); peak RSS {_mb(r['peak_rss'])}")
            continue
        print(
            f"{name:<12}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.1f}{r['throughput_mb_s']:>9.1f}"
            f"{r['rows']:>12,}"
            f"{_mb(r['table_bytes']):>11}{_mb(r['peak_rss']):>11}"
            f"{r['memory_ratio']:>12.2f}{r['memory_ratio_above_baseline']:>12.2f}"
        )
    a, p = results.get("apprentice"), results.get("pyarrow")
    if a and p and not a["error"] and not p["error"]:
        ratio = a["throughput_mb_s"] / p["throughput_mb_s"]
        print()
        ok = "met" if ratio >= GOAL_THROUGHPUT_RATIO else "NOT met"
        print(
            f"apprentice / pyarrow throughput: {ratio:.3f} (goal >= {GOAL_THROUGHPUT_RATIO}: {ok})"
        )
        ok = "met" if a["memory_ratio"] < GOAL_MEMORY_RATIO else "NOT met"
        print(
            f"apprentice peak memory / table size: {a['memory_ratio']:.2f} "
            f"(goal < {GOAL_MEMORY_RATIO:g}: {ok})"
        )
        if a["rows"] != p["rows"]:
            print(f"warning: row counts differ (apprentice {a['rows']:,}, pyarrow {p['rows']:,})")
    if size < 200e6:
        print("note: on a small file the interpreter and imports dominate peak memory")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"file": str(path), "bytes": size, "baseline_rss": baseline, "results": results}
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
