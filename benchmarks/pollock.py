"""Pollock data-loading benchmark: apprentice against pandas, CleverCSV and DuckDB.

Pollock (Vitagliano, Hameed, Jiang, Reisener, Abedjan, Naumann: "Pollock: A Data Loading
Benchmark", PVLDB 16(8), 2023) pollutes one clean CSV file in 2,290 ways (wrong delimiters,
missing or extra separators and quotes in one row, preambles, multi-row or missing headers,
several tables in one file, other row delimiters ...) and scores how well a loader recovers
the clean table. Data: ``../shared/data/pollock`` relative to the repository root (``--data``
to override): ``csv/`` the polluted files, ``clean/`` the ground truth, ``parameters/`` the
true dialect of each file, ``weights.json`` per-file weights (how common each pollution is in
real open-data files).

Every loader reads every file fully automatically, with no hint (encoding included):

* ``apprentice``: ``apprentice.read(path)``; header = ``original_columns`` (an empty header
  row when ``result.header_generated``), rows = ``table`` (quarantined rows are not in it).
* ``pandas``: ``pd.read_csv(path, sep=None, engine="python", dtype=str,
  keep_default_na=False, on_bad_lines="skip")``; header = ``df.columns``.
* ``clevercsv``: the file text (UTF-8, else Latin-1), ``clevercsv.Sniffer().sniff(text)``,
  then ``clevercsv.reader`` with that dialect; first row = header.
* ``duckdb``: ``read_csv(path, all_varchar=true, strict_mode=false, null_padding=true,
  ignore_errors=true, parallel=false)`` on a fresh in-memory connection with one thread;
  header = column names.

Reference loaders for checking the scorer (``--loaders clean,pycsv-given``): ``clean`` returns
the ground truth itself (must score exactly 10 / 10) and ``pycsv-given`` reads the polluted
file with Python's ``csv`` module and the true parameters (delimiter, quote, escape, preamble
and header lines; a multi-row header merged with spaces, as the clean files do).

Each (loader, file) pair runs in one of at most ``--jobs`` (default 2) long-lived worker
processes, on a private copy of the polluted file alone in a scratch folder (so no loader can
reach ``clean/`` or ``parameters/``). A call that takes longer than ``--timeout`` seconds
(default 20) has its worker killed and counts as a failure, as does a crash of the worker.
The output is written as RFC CSV with the ``csv`` module, read back and scored by
``_pollock_score`` (the measures, the normalisation and every edge case are documented
there), by our rules and, for comparison with the published figures, by the original
scorer's. ``seconds`` is the time spent inside the loader calls (summed over files; module
imports are done before), not the scoring.

Usage::

    .venv/bin/python benchmarks/pollock.py                       # all four loaders
    .venv/bin/python benchmarks/pollock.py --loaders apprentice --worst 20
    .venv/bin/python benchmarks/pollock.py --files 'row_more_sep*' --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fnmatch
import importlib
import io
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pollock_score as ps

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data" / "pollock"
COMPETITORS = ("pandas", "clevercsv", "duckdb")
DEFAULT_LOADERS = ("apprentice", *COMPETITORS)
REFERENCE_LOADERS = ("clean", "pycsv-given")

# ---------------------------------------------------------------------------------------------
# Loaders (run inside the worker processes; heavy imports happen there)
# ---------------------------------------------------------------------------------------------


def load_apprentice(path: str, params: dict[str, Any], clean: str) -> ps.Table:
    import apprentice

    return ps.apprentice_table(apprentice.read(path))


def load_pandas(path: str, params: dict[str, Any], clean: str) -> ps.Table:
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pd.read_csv(
            path,
            sep=None,
            engine="python",
            dtype=str,
            keep_default_na=False,
            on_bad_lines="skip",
        )
    return ps.Table([str(c) for c in df.columns], ps.frame_rows(df))


def load_clevercsv(path: str, params: dict[str, Any], clean: str) -> ps.Table:
    import clevercsv

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    dialect = clevercsv.Sniffer().sniff(text)
    if dialect is None:
        raise ValueError("CleverCSV could not determine the dialect")
    rows = [list(r) for r in clevercsv.reader(io.StringIO(text, newline=""), dialect)]
    if not rows:
        return ps.Table([], [])
    return ps.Table(rows[0], rows[1:])


def load_duckdb(path: str, params: dict[str, Any], clean: str) -> ps.Table:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads = 1")
        cur = con.execute(
            "SELECT * FROM read_csv(?, all_varchar = true, strict_mode = false, "
            "null_padding = true, ignore_errors = true, parallel = false)",
            [path],
        )
        header = [str(d[0]) for d in cur.description]
        rows = [[ps._cell_text(v) for v in row] for row in cur.fetchall()]
    finally:
        con.close()
    return ps.Table(header, rows)


def load_clean(path: str, params: dict[str, Any], clean: str) -> ps.Table:
    return ps.load_truth(clean, params)


def load_pycsv_given(path: str, params: dict[str, Any], clean: str) -> ps.Table:
    """Python's csv module with the true dialect from the parameters file."""
    text = Path(path).read_bytes().decode(params.get("encoding") or "utf-8")
    delimiter = params.get("delimiter") or ","
    skipinitialspace = False
    if len(delimiter) > 1:  # ", ": split on the first char, drop the spaces after it
        delimiter, skipinitialspace = delimiter[0], delimiter[1:].strip() == ""
    quotechar = params.get("quotechar") or None
    escapechar = params.get("escapechar") or None
    doublequote = escapechar is None or escapechar == quotechar
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar=quotechar,
        quoting=csv.QUOTE_MINIMAL if quotechar else csv.QUOTE_NONE,
        escapechar=None if doublequote else escapechar,
        doublequote=doublequote,
        skipinitialspace=skipinitialspace,
    )
    rows = [r for r in reader if r]
    rows = rows[int(params.get("preamble_lines") or 0) :]
    footnotes = int(params.get("footnote_lines") or 0)
    if footnotes:
        rows = rows[:-footnotes]
    n_header = int(params.get("header_lines") or 0)
    if n_header == 0:
        return ps.Table([], rows)
    head, body = rows[:n_header], rows[n_header:]
    width = max((len(r) for r in head), default=0)
    header = [
        " ".join(r[i] for r in head if i < len(r) and r[i] != "").strip() for i in range(width)
    ]
    return ps.Table(header, body)


LOADERS = {
    "apprentice": load_apprentice,
    "pandas": load_pandas,
    "clevercsv": load_clevercsv,
    "duckdb": load_duckdb,
    "clean": load_clean,
    "pycsv-given": load_pycsv_given,
}

# ---------------------------------------------------------------------------------------------
# Worker processes
# ---------------------------------------------------------------------------------------------


def _run_task(task: dict[str, Any], scratch: Path) -> dict[str, Any]:
    params = ps.load_parameters(task["params"])
    loader = LOADERS[task["loader"]]
    loaded: ps.Table | None = None
    error = None
    # The loader sees a private copy of the polluted file, alone in a scratch folder, so that
    # nothing it does can reach the ground truth next to the original.
    path = scratch / task["file"]
    shutil.copyfile(task["path"], path)
    start = time.perf_counter()
    try:
        loaded = loader(str(path), params, task["clean"])
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    seconds = time.perf_counter() - start
    path.unlink(missing_ok=True)
    if loaded is not None:
        try:
            text = ps.to_rfc_csv(loaded.header, loaded.rows)
        except Exception as exc:  # output not writable as CSV: the loader's fault
            loaded, error = None, f"output not writable as CSV: {type(exc).__name__}: {exc}"
    # Scoring errors are the harness's fault: let them propagate to the parent.
    if loaded is None:
        scores = scores_pollock = ps.failed_scores()
    else:
        if task.get("out"):
            out = Path(task["out"])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8", newline="")
        output = ps.parse_rfc_csv(text)
        scores = ps.score_tables(ps.load_truth(task["clean"], params), output)
        scores_pollock = ps.score_tables_pollock(ps.load_clean_rows(task["clean"]), output)
    return {
        "scores": scores,
        "scores_pollock": scores_pollock,
        "seconds": seconds,
        "error": error,
    }


# Modules each loader needs, imported when a worker starts so that import time is not
# counted in the first load's seconds.
_PRELOAD = {
    "apprentice": ("apprentice", "apprentice.read.delimited", "pandas"),
    "pandas": ("pandas",),
    "clevercsv": ("clevercsv",),
    "duckdb": ("duckdb",),
}


def _worker(conn: Connection, loaders: tuple[str, ...]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # keep the worker quiet (loaders may print, from Python or C): stdout to /dev/null
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    for loader in loaders:
        for module in _PRELOAD.get(loader, ()):
            with contextlib.suppress(Exception):  # a broken import fails at the first load
                importlib.import_module(module)
    with tempfile.TemporaryDirectory(prefix="pollock-") as scratch:
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if task is None:
                return
            try:
                conn.send({"ok": True, **_run_task(task, Path(scratch))})
            except Exception:
                conn.send({"ok": False, "traceback": traceback.format_exc()})


class _Slot:
    def __init__(self, ctx: Any, loaders: tuple[str, ...]) -> None:
        self.ctx = ctx
        self.loaders = loaders
        self.start()

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.conn: Connection = parent
        self.proc = self.ctx.Process(target=_worker, args=(child, self.loaders), daemon=True)
        self.proc.start()
        child.close()
        self.task: dict[str, Any] | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


def run_tasks(
    tasks: list[dict[str, Any]], *, jobs: int, timeout: float, progress: bool
) -> list[ps.FileResult]:
    """Run every task in a pool of ``jobs`` workers with a per-task ``timeout``."""
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    loaders = tuple(dict.fromkeys(t["loader"] for t in tasks))
    slots = [_Slot(ctx, loaders) for _ in range(max(1, min(jobs, len(tasks))))]
    queue = list(reversed(tasks))
    results: list[ps.FileResult] = []
    done = 0
    try:
        while queue or any(s.task for s in slots):
            for s in slots:
                if s.task is None and queue:
                    s.task = queue.pop()
                    s.deadline = time.monotonic() + timeout
                    s.conn.send(s.task)
            busy = [s for s in slots if s.task is not None]
            wait_for = max(0.0, min(s.deadline for s in busy) - time.monotonic())
            ready = wait([s.conn for s in busy], timeout=wait_for)
            now = time.monotonic()
            for s in busy:
                task = s.task
                assert task is not None
                result: ps.FileResult | None = None
                if s.conn in ready:
                    try:
                        msg = s.conn.recv()
                    except (EOFError, OSError):
                        s.proc.join(2)
                        code = s.proc.exitcode
                        s.kill()
                        s.start()
                        result = ps.FileResult(
                            task["file"],
                            task["loader"],
                            ps.failed_scores(),
                            timeout,
                            f"worker crashed (exit code {code})",
                        )
                    else:
                        if not msg["ok"]:
                            raise RuntimeError(
                                f"scoring {task['loader']} on {task['file']} failed:\n"
                                + msg["traceback"]
                            )
                        result = ps.FileResult(
                            task["file"],
                            task["loader"],
                            msg["scores"],
                            msg["seconds"],
                            msg["error"],
                            msg["scores_pollock"],
                        )
                elif now >= s.deadline:
                    s.kill()
                    s.start()
                    result = ps.FileResult(
                        task["file"],
                        task["loader"],
                        ps.failed_scores(),
                        timeout,
                        f"timeout after {timeout:g} s",
                    )
                if result is not None:
                    s.task = None
                    results.append(result)
                    done += 1
                    if progress and (done % 200 == 0 or done == len(tasks)):
                        print(f"  {done}/{len(tasks)} loads scored", file=sys.stderr, flush=True)
    finally:
        for s in slots:
            s.stop()
    return results


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def report(
    by_loader: dict[str, list[ps.FileResult]],
    weights: dict[str, float],
    *,
    worst: int,
    wall: float,
) -> dict[str, Any]:
    aggs = {name: ps.aggregate(res, weights) for name, res in by_loader.items()}
    for name, res in by_loader.items():
        compat = ps.aggregate(res, weights, pollock_rules=True)
        aggs[name]["pollock_rules"] = {k: compat[k] for k in ("simple", "weighted", "measures")}
    print()
    print(f"{'':<13}{'---- our rules ----':>19}{'':>20}{'-- Pollock rules --':>21}")
    print(
        f"{'loader':<13}{'simple':>8}{'weighted':>11}{'failures':>11}{'seconds':>9}"
        f"{'simple':>10}{'weighted':>11}"
    )
    for name, a in aggs.items():
        c = a["pollock_rules"]
        print(
            f"{name:<13}{_fmt(a['simple']):>8}{_fmt(a['weighted']):>11}"
            f"{a['failures']:>6}/{a['files']:<4}{a['seconds']:>9.1f}"
            f"{_fmt(c['simple']):>10}{_fmt(c['weighted']):>11}"
        )
    print(f"(wall time {wall:.1f} s; seconds = time inside the loader calls)")
    print(
        "(Pollock rules = the original scorer's, to compare with the published figures: first\n"
        " clean row always the header, records as concatenated cells, raw cells; our rules,\n"
        " documented in _pollock_score.py, are the ones the goals and breakdowns use)"
    )
    print()
    short = {
        "success": "succ",
        "header_precision": "hdr_P",
        "header_recall": "hdr_R",
        "header_f1": "hdr_F1",
        "record_precision": "rec_P",
        "record_recall": "rec_R",
        "record_f1": "rec_F1",
        "cell_precision": "cell_P",
        "cell_recall": "cell_R",
        "cell_f1": "cell_F1",
    }
    print("mean of each measure:")
    print(f"{'loader':<13}" + "".join(f"{short[m]:>8}" for m in ps.MEASURES))
    for name, a in aggs.items():
        print(f"{name:<13}" + "".join(f"{a['measures'][m]:>8.4f}" for m in ps.MEASURES))

    if "apprentice" in aggs:
        a = aggs["apprentice"]
        others = [n for n in aggs if n != "apprentice"]
        if others:
            print()
            print("apprentice / competitor (simple, weighted):")
            for n in others:
                o = aggs[n]
                rs = a["simple"] / o["simple"] if o["simple"] else float("nan")
                rw = a["weighted"] / o["weighted"] if o["weighted"] else float("nan")
                print(f"  vs {n:<12} {rs:.3f}  {rw:.3f}")
        ok_s = a["simple"] >= ps.GOAL_SIMPLE
        ok_w = (a["weighted"] or 0) >= ps.GOAL_WEIGHTED
        print(
            f"goal: simple >= {ps.GOAL_SIMPLE} ({'met' if ok_s else 'NOT met'}), "
            f"weighted >= {ps.GOAL_WEIGHTED} ({'met' if ok_w else 'NOT met'}), "
            f"no failure ({'met' if a['failures'] == 0 else 'NOT met'})"
        )

    print()
    print("published Pollock scores (simple / weighted), for reference:")
    for name, (s, w) in ps.PUBLISHED.items():
        print(f"  {name:<34}{s:>7.3f} / {w:.3f}")

    focus = "apprentice" if "apprentice" in by_loader else next(iter(by_loader))
    results = by_loader[focus]
    total_w = sum(weights[r.file] for r in results)
    n = len(results)
    cats: dict[str, list[ps.FileResult]] = defaultdict(list)
    for r in results:
        cats[ps.category(r.file)].append(r)
    rows = []
    for cat, rs in cats.items():
        mean = sum(r.total for r in rs) / len(rs)
        lost_simple = sum(10 - r.total for r in rs) / n
        lost_weighted = sum((10 - r.total) * weights[r.file] for r in rs) / total_w
        fails = sum(1 for r in rs if r.scores["success"] == 0)
        rows.append((cat, len(rs), mean, lost_simple, lost_weighted, fails))
    rows.sort(key=lambda x: (-x[4], -x[3], x[0]))
    print()
    print(f"{focus} by pollution category (points lost = contribution to 10 - score):")
    print(
        f"{'category':<38}{'files':>6}{'mean/10':>9}{'lost simple':>13}{'lost wtd':>10}{'fail':>6}"
    )
    for cat, k, mean, ls, lw, fails in rows:
        print(f"{cat:<38}{k:>6}{mean:>9.3f}{ls:>13.4f}{lw:>10.4f}{fails:>6}")

    if worst:
        print()
        print(f"{focus}: the {worst} worst files (sum of the 10 measures; weight):")
        for r in sorted(results, key=lambda r: (r.total, r.file))[:worst]:
            s = r.scores
            detail = f"hdr {s['header_f1']:.2f} rec {s['record_f1']:.2f} cell {s['cell_f1']:.2f}"
            err = f"  [{r.error}]" if r.error else ""
            print(f"  {r.total:6.3f}  {r.file:<40} w={weights[r.file]:<8.3g} {detail}{err}")
    return aggs


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def _source_version() -> str:
    """The commit of the checkout being measured, and whether src/ has uncommitted changes."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "version unknown (not a git checkout)"
    return f"commit {head}" + (" + uncommitted changes in src/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Pollock data folder")
    ap.add_argument(
        "--loaders",
        default=",".join(DEFAULT_LOADERS),
        help=f"comma list from {', '.join(LOADERS)} (default: %(default)s)",
    )
    ap.add_argument("--files", default=None, help="glob on the file names, e.g. 'row_less*'")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files (sorted)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per load (default 20)")
    ap.add_argument("--worst", type=int, default=0, help="list the N worst files of apprentice")
    ap.add_argument("--json", type=Path, default=None, help="write all per-file scores here")
    ap.add_argument(
        "--out", type=Path, default=None, help="keep each loader's RFC CSV output in this folder"
    )
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)

    data: Path = args.data.resolve()
    if not (data / "csv").is_dir():
        print(f"no Pollock data at {data} (expected csv/, clean/, parameters/)", file=sys.stderr)
        return 2
    loaders = [x.strip() for x in args.loaders.split(",") if x.strip()]
    unknown = [x for x in loaders if x not in LOADERS]
    if unknown:
        print(f"unknown loader(s) {unknown}; choose from {list(LOADERS)}", file=sys.stderr)
        return 2
    files = sorted(f for f in os.listdir(data / "csv") if f.endswith(".csv"))
    if args.files:
        files = [f for f in files if fnmatch.fnmatch(f, args.files)]
    if args.limit is not None:
        files = files[: args.limit]
    if not files:
        print("no file selected", file=sys.stderr)
        return 2

    weights_path = data / "weights.json"
    raw_weights = json.loads(weights_path.read_text()) if weights_path.exists() else {}
    weights, missing = ps.resolve_weights(files, raw_weights)
    unused = len(set(raw_weights) - set(os.listdir(data / "csv")))
    print(f"Pollock benchmark: {len(files)} files from {data}")
    if missing:
        print(
            f"  {len(missing)} file(s) without a weight in weights.json got the mean weight of "
            f"their category (else of all weighted files): {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else "")
        )
    else:
        print(f"  every file has a weight in weights.json (total {sum(weights.values()):.2f})")
    if unused:
        print(f"  ({unused} weights.json entries name no file in csv/ and are ignored)")
    print(f"  loaders: {', '.join(loaders)}; {args.jobs} worker(s), {args.timeout:g} s timeout")
    if "apprentice" in loaders:
        print(f"  apprentice: {_source_version()}")

    tasks = []
    for loader in loaders:
        for f in files:
            tasks.append(
                {
                    "loader": loader,
                    "file": f,
                    "path": str(data / "csv" / f),
                    "clean": str(data / "clean" / f),
                    "params": str(data / "parameters" / f"{f}_parameters.json"),
                    "out": str(args.out / loader / f) if args.out else None,
                }
            )
    start = time.perf_counter()
    results = run_tasks(tasks, jobs=args.jobs, timeout=args.timeout, progress=not args.quiet)
    wall = time.perf_counter() - start
    by_loader: dict[str, list[ps.FileResult]] = {n: [] for n in loaders}
    for r in sorted(results, key=lambda r: r.file):
        by_loader[r.loader].append(r)
    aggs = report(by_loader, weights, worst=args.worst, wall=wall)

    if args.json:
        payload = {
            "data": str(data),
            "files": len(files),
            "apprentice_version": _source_version(),
            "weights_missing": missing,
            "loaders": aggs,
            "published": {k: {"simple": s, "weighted": w} for k, (s, w) in ps.PUBLISHED.items()},
            "results": [
                {**r.to_dict(), "weight": weights[r.file]} for rs in by_loader.values() for r in rs
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1))
        print(f"\nper-file scores written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
