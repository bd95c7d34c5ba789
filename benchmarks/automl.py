"""AutoML benchmark: apprentice against FLAML 2.7 and AutoGluon 1.6, side by side.

Every ``role: benchmark`` table of ``../shared/data/tables/MANIFEST.json`` (its ``drop``
columns removed) is split 75/25 per seed (stratified for classification; the same split for
every system), and each system trains on the 75% under the same time budget with one core:

* ``apprentice``: ``apprentice.train(train.csv, target=..., time_budget=B, n_jobs=1,
  test_size=0)``: the raw training file, no internal holdout (the outer test set is the
  holdout); predictions through the written bundle on the raw test rows.
* ``flaml``: ``flaml.AutoML().fit(X, y, task=..., metric=..., time_budget=B, n_jobs=1)`` on
  ``pandas.read_csv`` frames.
* ``autogluon``: ``TabularPredictor(label, eval_metric=...).fit(train, time_limit=B,
  presets="medium_quality", num_cpus=1, num_gpus=0)`` on ``pandas.read_csv`` frames.

Each system runs in its own virtual environment under ``.bench/`` (git-ignored), in a fresh
process with ``OMP_NUM_THREADS=1`` (and the BLAS equivalents). Metrics as in the AutoML
Benchmark: ROC AUC (binary), log loss (multiclass), RMSE (regression), computed here from the
predictions each system writes, with labels matched after normalisation (spaces, a trailing
full stop, letter case, ``1`` vs ``1.0``). Reported: per-table scores (mean ± sd over
seeds), average rank (a failure ranks last), failures, fit-time overrun against
``budget x 1.05 + 5 s`` (fit time measured around the fit call; apprentice's includes
reading and cleaning the file), single-row predict latency (median over 100 raw test rows,
one row per call, after 10 warm-up calls) and batch throughput (the whole test set at once).

Usage::

    python benchmarks/automl.py --setup                       # once: build the three venvs
    python benchmarks/automl.py --budget 60 --seeds 0,1,2 --markdown BENCHMARKS.md
    python benchmarks/automl.py --tables blood_transfusion --seeds 0 --budget 10   # smoke

The machine must be otherwise idle for timings to mean anything; systems run one after the
other.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TABLES = (REPO / ".." / "shared" / "data" / "tables").resolve()
BENCH = REPO / ".bench"
OUT = REPO / "benchmarks" / "_out" / "automl"
RUNNER = Path(__file__).resolve().parent / "_automl_runner.py"
SYSTEMS = ("apprentice", "flaml", "autogluon")
METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
HIGHER_IS_BETTER = {"roc_auc": True, "log_loss": False, "rmse": False}
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "APPRENTICE_THREADS": "1",
}

SETUP: dict[str, list[list[str]]] = {
    "apprentice": [["-m", "pip", "install", "--quiet", "-e", str(REPO)]],
    "flaml": [["-m", "pip", "install", "--quiet", "flaml[automl]>=2.7,<2.8", "pandas", "pyarrow"]],
    "autogluon": [
        # the CPU build of torch first, so AutoGluon does not pull the CUDA one
        [
            "-m",
            "pip",
            "install",
            "--quiet",
            "torch==2.13.0",
            "--index-url",
            "https://download.pytorch.org/whl/cpu",
        ],
        ["-m", "pip", "install", "--quiet", "autogluon.tabular[all]>=1.6,<1.7"],
    ],
}


# --------------------------------------------------------------------------- setup


def venv_python(system: str) -> Path:
    return BENCH / system / "bin" / "python"


def setup(systems: list[str]) -> None:
    """Create ``.bench/<system>`` and install the system into it."""
    BENCH.mkdir(exist_ok=True)
    for system in systems:
        python = venv_python(system)
        if not python.exists():
            print(f"[setup] creating {BENCH / system}", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(BENCH / system)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
            )
        for step in SETUP[system]:
            print(f"[setup] {system}: pip {' '.join(step[3:])}", flush=True)
            subprocess.run([str(python), *step], check=True)
        out = subprocess.run(
            [str(python), str(RUNNER), "--version", "--system", system],
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"[setup] {system}: {out.stdout.strip() or out.stderr.strip()[-300:]}", flush=True)


# --------------------------------------------------------------------------- data


def benchmark_tables(names: list[str] | None) -> list[dict[str, Any]]:
    manifest = json.loads((TABLES / "MANIFEST.json").read_text(encoding="utf-8"))
    tables = [t for t in manifest if t.get("role") == "benchmark"]
    if names:
        known = {t["name"] for t in tables}
        unknown = sorted(set(names) - known)
        if unknown:
            raise SystemExit(f"unknown benchmark tables: {', '.join(unknown)}")
        tables = [t for t in tables if t["name"] in names]
    return tables


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a delimited file, every cell as written."""
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader)
        rows = [r for r in reader if r]
    width = len(header)
    return header, [(r + [""] * width)[:width] for r in rows]


def norm_label(value: Any) -> str:
    """A label compared across systems: spaces, trailing '.', case and 1 vs 1.0 ignored."""
    text = str(value).strip()
    try:
        number = float(text)
        if math.isfinite(number):
            return str(int(number)) if number.is_integer() else repr(number)
    except ValueError:
        pass
    if text.endswith(".") and len(text) > 1:
        text = text[:-1]
    return text.strip().casefold()


def split(rows: list[list[str]], target: int, task: str, seed: int) -> tuple[list[int], list[int]]:
    """A 75/25 split of row positions, stratified by label for classification."""
    rng = random.Random(seed)
    if task == "regression":
        order = list(range(len(rows)))
        rng.shuffle(order)
        cut = round(0.25 * len(order))
        return sorted(order[cut:]), sorted(order[:cut])
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(norm_label(row[target]), []).append(i)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(groups):
        members = groups[label]
        rng.shuffle(members)
        k = round(0.25 * len(members)) if len(members) >= 2 else 0
        test.extend(members[:k])
        train.extend(members[k:])
    return sorted(train), sorted(test)


def prepare(table: dict[str, Any], seed: int, workdir: Path) -> dict[str, Any]:
    """Write train.csv / test.csv for one table and seed; return the task description."""
    header, rows = read_rows(TABLES / table["file"])
    drop = set(table.get("drop") or [])
    keep = [i for i, name in enumerate(header) if name not in drop]
    header = [header[i] for i in keep]
    rows = [[r[i] for i in keep] for r in rows]
    target = header.index(table["target"])
    rows = [r for r in rows if r[target].strip() not in ("", "?")]
    train_idx, test_idx = split(rows, target, table["task"], seed)
    workdir.mkdir(parents=True, exist_ok=True)
    for name, idx in (("train.csv", train_idx), ("test.csv", test_idx)):
        with (workdir / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows[i] for i in idx)
    return {
        "train": str(workdir / "train.csv"),
        "test": str(workdir / "test.csv"),
        "target": table["target"],
        "task": table["task"],
        "metric": METRIC[table["task"]],
        "y_test": [rows[i][target] for i in test_idx],
        "n_train": len(train_idx),
        "n_test": len(test_idx),
    }


# --------------------------------------------------------------------------- scoring


def score(job: dict[str, Any], result: dict[str, Any]) -> float:
    """The benchmark metric of a system's test predictions."""
    import numpy as np

    y = job["y_test"]
    if job["task"] == "regression":
        truth = np.array([float(v) for v in y])
        pred = np.asarray(result["predictions"], dtype=float)
        return float(np.sqrt(np.mean((truth - pred) ** 2)))
    truth_labels = [norm_label(v) for v in y]
    classes = sorted(set(truth_labels), key=lambda c: (not c.lstrip("-").isdigit(), c))
    system = [norm_label(c) for c in result["classes"]]
    proba = np.asarray(result["predictions"], dtype=float)
    columns = []
    for c in classes:
        columns.append(proba[:, system.index(c)] if c in system else np.zeros(len(y)))
    P = np.column_stack(columns)
    index = {c: i for i, c in enumerate(classes)}
    t = np.array([index[v] for v in truth_labels])
    if job["task"] == "binary":
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(t == 1, P[:, 1]))
    P = np.clip(P, 1e-15, 1.0)
    P = P / P.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(P[np.arange(len(t)), t])))


# --------------------------------------------------------------------------- running


def run_system(
    system: str, job: dict[str, Any], budget: float, seed: int, workdir: Path
) -> dict[str, Any]:
    python = venv_python(system)
    if not python.exists():
        return {"status": "failed", "error": f"{python} missing: run --setup first"}
    result_path = workdir / f"{system}.json"
    if result_path.exists():
        result_path.unlink()
    spec = {k: v for k, v in job.items() if k != "y_test"}
    spec.update(budget=budget, seed=seed, workdir=str(workdir / system), out=str(result_path))
    env = {**os.environ, **THREAD_ENV}
    limit = budget * 3 + 600
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [str(python), str(RUNNER), "--system", system, "--job", json.dumps(spec)],
            env=env,
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"killed after {limit:.0f} s"}
    wall = time.monotonic() - start
    if not result_path.exists():
        return {
            "status": "failed",
            "error": (proc.stderr or proc.stdout).strip()[-600:],
            "process_seconds": wall,
        }
    result = dict(json.loads(result_path.read_text(encoding="utf-8")))
    result["process_seconds"] = wall
    if result.get("status") == "ok":
        try:
            result["score"] = score(job, result)
        except Exception as exc:  # a malformed prediction file is that system's failure
            result.update(status="failed", error=f"scoring: {type(exc).__name__}: {exc}")
    result.pop("predictions", None)
    return result


def summarise(records: list[dict[str, Any]], budget: float, systems: list[str]) -> dict[str, Any]:
    import numpy as np

    limit = budget * 1.05 + 5
    ranks: dict[str, list[float]] = {s: [] for s in systems}
    by_table: dict[str, dict[str, list[float]]] = {}
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["table"], r["seed"]), []).append(r)
    for (table, _seed), group in sorted(groups.items()):
        higher = HIGHER_IS_BETTER[group[0]["metric"]]
        ok = [g for g in group if g.get("status") == "ok" and g.get("score") is not None]
        ordered = sorted(ok, key=lambda g: -g["score"] if higher else g["score"])
        for g in group:
            by_table.setdefault(table, {}).setdefault(g["system"], [])
            if g in ordered:
                # ties share the mean rank
                same = [o for o in ordered if o["score"] == g["score"]]
                first = ordered.index(same[0]) + 1
                ranks[g["system"]].append(first + (len(same) - 1) / 2)
                by_table[table][g["system"]].append(g["score"])
            else:
                ranks[g["system"]].append(float(len(systems)))
    summary: dict[str, Any] = {"budget": budget, "limit_seconds": limit, "systems": {}}
    for s in systems:
        mine = [r for r in records if r["system"] == s]
        ok = [r for r in mine if r.get("status") == "ok"]
        fits = [r["fit_seconds"] for r in ok if r.get("fit_seconds") is not None]
        lat = [r["latency_ms_median"] for r in ok if r.get("latency_ms_median") is not None]
        thr = [r["rows_per_second"] for r in ok if r.get("rows_per_second")]
        summary["systems"][s] = {
            "average_rank": float(np.mean(ranks[s])) if ranks[s] else None,
            "runs": len(mine),
            "failures": len(mine) - len(ok),
            "fit_seconds_max": max(fits) if fits else None,
            "overruns": sum(1 for f in fits if f > limit),
            "worst_overrun_seconds": max((f - limit for f in fits), default=None),
            "latency_ms_median": float(np.median(lat)) if lat else None,
            "rows_per_second_median": float(np.median(thr)) if thr else None,
        }
    summary["tables"] = {
        t: {
            s: {
                "mean": float(np.mean(v)) if v else None,
                "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None,
                "n": len(v),
            }
            for s, v in per.items()
        }
        for t, per in by_table.items()
    }
    return summary


def markdown(summary: dict[str, Any], tables: list[dict[str, Any]], seeds: list[int]) -> str:
    systems = list(summary["systems"])
    lines = [
        "## AutoML: apprentice vs FLAML vs AutoGluon",
        "",
        f"Budget {summary['budget']:g} s per fit, one core each, seeds {seeds}; "
        f"fit limit budget x 1.05 + 5 s = {summary['limit_seconds']:.1f} s. "
        "Metrics: ROC AUC (binary, higher is better), log loss (multiclass, lower), RMSE "
        "(regression, lower); mean ± sd over seeds. Command: `python benchmarks/automl.py "
        f"--budget {summary['budget']:g} --seeds {','.join(map(str, seeds))} "
        "--markdown BENCHMARKS.md`.",
        "",
        "| table | task | metric | " + " | ".join(systems) + " |",
        "|---|---|---|" + "---|" * len(systems),
    ]
    for t in tables:
        per = summary["tables"].get(t["name"], {})
        cells = []
        for s in systems:
            v = per.get(s, {})
            if v.get("mean") is None:
                cells.append("failed")
            else:
                sd = f" ± {v['sd']:.4f}" if v.get("sd") is not None else ""
                cells.append(f"{v['mean']:.4f}{sd}")
        row = " | ".join([t["name"], t["task"], METRIC[t["task"]], *cells])
        lines.append(f"| {row} |")
    lines += [
        "",
        "| system | average rank | failures | overruns | worst overrun (s) | "
        "single-row latency (ms, median) | batch rows/s (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s, v in summary["systems"].items():

        def fmt(x: Any, spec: str = ".2f") -> str:
            return "n/a" if x is None else format(x, spec)

        lines.append(
            f"| {s} | {fmt(v['average_rank'])} | {v['failures']} / {v['runs']} | "
            f"{v['overruns']} | {fmt(v['worst_overrun_seconds'], '+.1f')} | "
            f"{fmt(v['latency_ms_median'], '.3f')} | {fmt(v['rows_per_second_median'], ',.0f')} |"
        )
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, text: str) -> None:
    """Replace the AutoML section of ``path`` (between markers), or append it."""
    start, end = "<!-- automl:start -->", "<!-- automl:end -->"
    block = f"{start}\n{text}{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) + 1 :]
    else:
        new = old.rstrip("\n") + "\n\n" + block
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", action="store_true", help="create .bench venvs and install")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--tables", default="", help="comma-separated names (default: all)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=OUT / "results.json")
    parser.add_argument("--markdown", type=Path, default=None, help="update this file's section")
    parser.add_argument("--keep", action="store_true", help="keep the per-run work folders")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the runs already logged (same table, seed, system and budget)",
    )
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems: {', '.join(unknown)}")
    if args.setup:
        setup(systems)
        return 0
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    tables = benchmark_tables([t for t in args.tables.split(",") if t.strip()] or None)
    records: list[dict[str, Any]] = []
    # every finished run is appended to a log at once, so a long run that is cut off
    # can be taken up again with --resume instead of starting over
    log = args.out.with_suffix(".jsonl")
    log.parent.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, int, str], dict[str, Any]] = {}
    if args.resume and log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            old = json.loads(line)
            if old.get("budget") == args.budget:
                done[(old["table"], old["seed"], old["system"])] = old
    elif log.exists():
        log.unlink()
    for seed in seeds:
        for table in tables:
            workdir = OUT / "runs" / table["name"] / f"seed{seed}"
            job: dict[str, Any] | None = None
            for system in systems:
                if (table["name"], seed, system) in done:
                    records.append(done[(table["name"], seed, system)])
                    continue
                if job is None:
                    job = prepare(table, seed, workdir)
                result = run_system(system, job, args.budget, seed, workdir)
                record = {
                    "table": table["name"],
                    "seed": seed,
                    "system": system,
                    "metric": job["metric"],
                    "n_train": job["n_train"],
                    "n_test": job["n_test"],
                    "budget": args.budget,
                    **result,
                }
                records.append(record)
                with log.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
                shown = (
                    f"{record.get('score', float('nan')):.4f}"
                    if record.get("status") == "ok"
                    else f"FAILED ({str(record.get('error', ''))[-200:]})"
                )
                print(
                    f"{table['name']:<22} seed {seed} {system:<10} {job['metric']} {shown} "
                    f"fit {record.get('fit_seconds') or float('nan'):.1f} s "
                    f"latency {record.get('latency_ms_median') or float('nan'):.3f} ms",
                    flush=True,
                )
            if not args.keep:
                for system in systems:
                    shutil.rmtree(workdir / system, ignore_errors=True)
    summary = summarise(records, args.budget, systems)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"summary": summary, "records": records}, indent=2), encoding="utf-8"
    )
    text = markdown(summary, tables, seeds)
    print()
    print(text)
    if args.markdown is not None:
        write_markdown(args.markdown, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
