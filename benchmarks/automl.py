"""AutoML benchmark: apprentice against FLAML 2.7 and AutoGluon 1.6, side by side.

The tables: the AutoML suite (``benchmarks/data/automl_suite.json``, 51 public tables that
packages on the package index ship inside them; ``benchmarks/automl_suite.py`` writes them as
CSV), split once at random into a design half and a held-out half
(``benchmarks/data/automl_split.json``); ``--suite shared`` runs the older suite, every
``role: benchmark`` table of ``../shared/data/tables/MANIFEST.json``. A table's ``drop``
columns are removed, rows without a target are dropped, and the rest is split 75/25 per seed
(stratified for classification; the same split for every system). Each system trains on the
75% under the same time budget with one core:

* ``apprentice``: ``apprentice.train(train.csv, target=..., task=..., time_budget=B, n_jobs=1,
  test_size=0)``: the raw training file, no internal holdout (the outer test set is the
  holdout); predictions through the written bundle on the raw test rows.
* ``flaml``: ``flaml.AutoML().fit(X, y, task=..., metric=..., time_budget=B, n_jobs=1)`` on
  ``pandas.read_csv`` frames.
* ``autogluon``: ``TabularPredictor(label, eval_metric=...).fit(train, time_limit=B,
  presets="medium_quality", num_cpus=1, num_gpus=0)`` on ``pandas.read_csv`` frames.

Each system runs in its own virtual environment under ``.bench/`` (git-ignored), in a fresh
process with ``OMP_NUM_THREADS=1`` (and the BLAS equivalents), optionally pinned to one CPU
(``--cpu N``: ``taskset -c N``). Metrics as in the AutoML Benchmark: ROC AUC (binary), log
loss (multiclass), RMSE (regression), computed here from the predictions each system writes,
with labels matched after normalisation (spaces, a trailing full stop, letter case, ``1`` vs
``1.0``).

Resumable: every (suite, budget, table, seed, system) run writes one result file under
``benchmarks/_out/automl/results/`` (git-ignored) with its test predictions, and a run whose
file exists is skipped; so the benchmark runs in pieces. ``--report`` aggregates whatever
results exist, per half and per budget: per-table scores (mean ± sd over seeds), average rank
(a failure ranks last), failures, the worst fit time over the budget, fit-time overruns
against ``budget x 1.05 + 5 s`` (fit time measured around the fit call; apprentice's
includes reading and cleaning the file), single-row predict latency (median over 100 raw test
rows, one row per call, after 10 warm-up calls), and per table the paired difference of
apprentice to the best anchor (the better of FLAML and AutoGluon on that table) with a 95%
interval from a paired bootstrap over test rows (each seed's test set resampled, the
differences averaged over seeds): a win or a loss is claimed only when the interval excludes 0.

Usage::

    python benchmarks/automl.py --setup                   # once: build the three venvs
    python benchmarks/automl_suite.py --setup && python benchmarks/automl_suite.py
    python benchmarks/automl.py --half design --seeds 0 --budget 60 --cpu 1
    python benchmarks/automl.py --report --markdown benchmarks/_out/automl/report.md
    python benchmarks/automl.py --suite shared --tables blood_transfusion --seeds 0 --budget 10

Timings mean something only on an otherwise idle core; systems run one after the other.
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
SUITE_MANIFEST = REPO / "benchmarks" / "data" / "automl_suite.json"
SUITE_SPLIT = REPO / "benchmarks" / "data" / "automl_split.json"
SUITE_DATA = REPO / "benchmarks" / "_out" / "automl_suite"
BENCH = REPO / ".bench"
OUT = REPO / "benchmarks" / "_out" / "automl"
RESULTS = OUT / "results"
RUNNER = Path(__file__).resolve().parent / "_automl_runner.py"
SYSTEMS = ("apprentice", "flaml", "autogluon")
ANCHORS = ("flaml", "autogluon")
METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
HIGHER_IS_BETTER = {"roc_auc": True, "log_loss": False, "rmse": False}
N_BOOTSTRAP = 500
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "APPRENTICE_THREADS": "1",
}

# Each step is a list of alternatives, tried in order until one succeeds.
SETUP: dict[str, list[list[list[str]]]] = {
    "apprentice": [[["-m", "pip", "install", "--quiet", "-e", str(REPO)]]],
    "flaml": [
        [["-m", "pip", "install", "--quiet", "flaml[automl]>=2.7,<2.8", "pandas", "pyarrow"]]
    ],
    "autogluon": [
        # the CPU build of torch first, so AutoGluon does not pull the CUDA one; where that
        # index cannot be reached (only the package index is), torch from the package index
        [
            [
                "-m",
                "pip",
                "install",
                "--quiet",
                "--retries",
                "1",
                "--timeout",
                "15",
                "torch==2.13.0",
                "--index-url",
                "https://download.pytorch.org/whl/cpu",
            ],
            ["-m", "pip", "install", "--quiet", "torch>=2.13,<2.14"],
        ],
        [["-m", "pip", "install", "--quiet", "autogluon.tabular[all]>=1.6,<1.7"]],
    ],
}


# --------------------------------------------------------------------------- setup


def venv_python(system: str) -> Path:
    return BENCH / system / "bin" / "python"


def setup(systems: list[str]) -> None:
    """Create ``.bench/<system>`` and install the system into it."""
    BENCH.mkdir(exist_ok=True)
    for system in systems:
        started = time.monotonic()
        python = venv_python(system)
        if not python.exists():
            print(f"[setup] creating {BENCH / system}", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(BENCH / system)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
            )
        for alternatives in SETUP[system]:
            for i, step in enumerate(alternatives):
                print(f"[setup] {system}: pip {' '.join(step[3:])}", flush=True)
                done = subprocess.run([str(python), *step], check=False)
                if done.returncode == 0:
                    break
                if i == len(alternatives) - 1:
                    raise SystemExit(f"[setup] {system}: pip failed ({done.returncode})")
        out = subprocess.run(
            [str(python), str(RUNNER), "--version", "--system", system],
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"[setup] {system}: {out.stdout.strip() or out.stderr.strip()[-300:]}", flush=True)
        size = sum(f.stat().st_size for f in (BENCH / system).rglob("*") if f.is_file())
        print(
            f"[setup] {system}: {time.monotonic() - started:.0f} s, {size / 2**30:.2f} GiB",
            flush=True,
        )


# --------------------------------------------------------------------------- data


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
    header, rows = read_rows(Path(table["path"]))
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


def suite_tables(suite: str, half: str, names: list[str] | None) -> list[dict[str, Any]]:
    """The tables to run: a suite's, one half of it, or the named ones; each with its path."""
    if suite == "shared":
        manifest = json.loads((TABLES / "MANIFEST.json").read_text(encoding="utf-8"))
        tables = [
            {**t, "path": str(TABLES / t["file"]), "half": "all"}
            for t in manifest
            if t.get("role") == "benchmark"
        ]
    else:
        manifest = json.loads(SUITE_MANIFEST.read_text(encoding="utf-8"))
        split_doc = json.loads(SUITE_SPLIT.read_text(encoding="utf-8"))
        where = {n: h for h in ("design", "held_out") for n in split_doc[h]}
        tables = [
            {**t, "path": str(SUITE_DATA / t["file"]), "half": where[t["name"]]} for t in manifest
        ]
        if half != "all":
            tables = [t for t in tables if t["half"] == half]
    if names:
        known = {t["name"] for t in tables}
        unknown = sorted(set(names) - known)
        if unknown:
            raise SystemExit(f"unknown tables (in this suite and half): {', '.join(unknown)}")
        tables = [t for t in tables if t["name"] in names]
    missing = [t["name"] for t in tables if not Path(t["path"]).exists()]
    if missing:
        raise SystemExit(
            f"{len(missing)} table file(s) missing ({', '.join(missing[:5])}...): "
            "run `python benchmarks/automl_suite.py` first"
        )
    return tables


# --------------------------------------------------------------------------- scoring


def aligned(job: dict[str, Any], result: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Truth and predictions in one layout for every system.

    Regression: (true values, predicted values). Classification: (true class index per row,
    a probability row per test row over the classes seen in the test set, in a fixed order).
    """
    import numpy as np

    y = job["y_test"]
    if job["task"] == "regression":
        truth = [float(v) for v in y]
        pred = np.asarray(result["predictions"], dtype=float)
        if pred.shape != (len(truth),):
            raise ValueError(f"{pred.shape[0]} predictions for {len(truth)} test rows")
        return truth, pred.tolist()
    truth_labels = [norm_label(v) for v in y]
    classes = sorted(set(truth_labels), key=lambda c: (not c.lstrip("-").isdigit(), c))
    system = [norm_label(c) for c in result["classes"]]
    proba = np.asarray(result["predictions"], dtype=float)
    if proba.shape[0] != len(y):
        raise ValueError(f"{proba.shape[0]} predictions for {len(y)} test rows")
    columns = [proba[:, system.index(c)] if c in system else np.zeros(len(y)) for c in classes]
    index = {c: i for i, c in enumerate(classes)}
    return [index[v] for v in truth_labels], np.column_stack(columns).tolist()


def metric_value(task: str, truth: Any, pred: Any) -> float:
    """ROC AUC (binary), log loss (multiclass) or RMSE (regression) of aligned arrays."""
    import numpy as np

    t = np.asarray(truth)
    p = np.asarray(pred, dtype=float)
    if task == "regression":
        return float(np.sqrt(np.mean((t - p) ** 2)))
    if task == "binary":
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(t == 1, p[:, 1]))
    p = np.clip(p, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(t)), t])))


# --------------------------------------------------------------------------- running


def result_path(suite: str, budget: float, table: str, seed: int, system: str) -> Path:
    return RESULTS / suite / f"budget{budget:g}" / table / f"seed{seed}" / f"{system}.json"


def run_system(
    system: str,
    job: dict[str, Any],
    budget: float,
    seed: int,
    workdir: Path,
    cpu: int | None,
) -> dict[str, Any]:
    python = venv_python(system)
    if not python.exists():
        return {"status": "failed", "error": f"{python} missing: run --setup first"}
    out_path = workdir / f"{system}.json"
    if out_path.exists():
        out_path.unlink()
    spec = {k: v for k, v in job.items() if k != "y_test"}
    spec.update(budget=budget, seed=seed, workdir=str(workdir / system), out=str(out_path))
    env = {**os.environ, **THREAD_ENV}
    limit = budget * 3 + 600
    command = [str(python), str(RUNNER), "--system", system, "--job", json.dumps(spec)]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"killed after {limit:.0f} s"}
    wall = time.monotonic() - start
    if not out_path.exists():
        return {
            "status": "failed",
            "error": (proc.stderr or proc.stdout).strip()[-600:],
            "process_seconds": wall,
        }
    result = dict(json.loads(out_path.read_text(encoding="utf-8")))
    result["process_seconds"] = wall
    if result.get("status") == "ok":
        try:
            truth, pred = aligned(job, result)
            result["score"] = metric_value(job["task"], truth, pred)
            result["truth"], result["aligned"] = truth, pred
        except Exception as exc:  # a malformed prediction file is that system's failure
            result.update(status="failed", error=f"scoring: {type(exc).__name__}: {exc}")
    result.pop("predictions", None)
    return result


def run(
    suite: str,
    tables: list[dict[str, Any]],
    seeds: list[int],
    budget: float,
    systems: list[str],
    cpu: int | None,
    keep: bool,
) -> None:
    """Run every missing (table, seed, system) result; results already written are skipped."""
    for seed in seeds:
        for table in tables:
            workdir = OUT / "runs" / table["name"] / f"seed{seed}"
            job: dict[str, Any] | None = None
            for system in systems:
                path = result_path(suite, budget, table["name"], seed, system)
                if path.exists():
                    continue
                if job is None:
                    job = prepare(table, seed, workdir)
                result = run_system(system, job, budget, seed, workdir, cpu)
                record = {
                    "suite": suite,
                    "table": table["name"],
                    "half": table["half"],
                    "task": table["task"],
                    "seed": seed,
                    "system": system,
                    "metric": job["metric"],
                    "n_train": job["n_train"],
                    "n_test": job["n_test"],
                    "budget": budget,
                    "cpu": cpu,
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    **result,
                }
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(record), encoding="utf-8")
                tmp.replace(path)
                shown = (
                    f"{record['score']:.4f}"
                    if record.get("status") == "ok"
                    else f"FAILED ({str(record.get('error', ''))[-200:]})"
                )
                print(
                    f"{table['name']:<26} seed {seed} {system:<10} {job['metric']} {shown} "
                    f"fit {record.get('fit_seconds') or float('nan'):.1f} s "
                    f"latency {record.get('latency_ms_median') or float('nan'):.3f} ms",
                    flush=True,
                )
            if not keep:
                shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- report


def load_results(suite: str) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((RESULTS / suite).glob("budget*/*/seed*/*.json"))
    ]


def paired_difference(
    task: str, runs: list[tuple[dict[str, Any], dict[str, Any]]], seed: int = 0
) -> tuple[float, float, float]:
    """apprentice's advantage over an anchor (positive: apprentice better), with a 95% interval.

    ``runs`` pairs apprentice's and the anchor's result on the same test set, one pair per
    seed. The point estimate is the mean over seeds of the metric difference; the interval
    comes from a paired bootstrap: each replicate resamples every seed's test rows (the same
    rows for both systems) and averages the differences over seeds.
    """
    import numpy as np

    sign = 1.0 if HIGHER_IS_BETTER[METRIC[task]] else -1.0
    rng = np.random.default_rng(seed)
    point = []
    reps = np.zeros(N_BOOTSTRAP)
    for mine, theirs in runs:
        truth = np.asarray(mine["truth"])
        a = np.asarray(mine["aligned"], dtype=float)
        b = np.asarray(theirs["aligned"], dtype=float)
        point.append(sign * (metric_value(task, truth, a) - metric_value(task, truth, b)))
        n = len(truth)
        for i in range(N_BOOTSTRAP):
            idx = rng.integers(0, n, n)
            if task == "binary" and truth[idx].min() == truth[idx].max():
                idx = np.arange(n)
            reps[i] += sign * (
                metric_value(task, truth[idx], a[idx]) - metric_value(task, truth[idx], b[idx])
            )
    reps /= len(runs)
    low, high = np.percentile(reps, [2.5, 97.5])
    return float(np.mean(point)), float(low), float(high)


def report(suite: str, systems: list[str]) -> str:
    """Markdown tables of every result present: per half, per budget."""
    import numpy as np

    records = load_results(suite)
    if not records:
        return f"No results under {RESULTS / suite} yet.\n"
    lines: list[str] = []
    halves = sorted({r["half"] for r in records}, key=lambda h: ["design", "held_out"].index(h)
                    if h in ("design", "held_out") else 2)  # fmt: skip
    for half in halves:
        for budget in sorted({r["budget"] for r in records if r["half"] == half}):
            group = [r for r in records if r["half"] == half and r["budget"] == budget]
            lines += report_block(suite, half, budget, group, systems, np)
    return "\n".join(lines) + "\n"


def report_block(
    suite: str,
    half: str,
    budget: float,
    records: list[dict[str, Any]],
    systems: list[str],
    np: Any,
) -> list[str]:
    limit = budget * 1.05 + 5
    by_key: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for r in records:
        by_key.setdefault((r["table"], r["seed"]), {})[r["system"]] = r
    # only (table, seed) pairs every system has run are compared
    complete = {k: v for k, v in by_key.items() if all(s in v for s in systems)}
    tables = sorted({t for t, _ in complete})
    ranks: dict[str, list[float]] = {s: [] for s in systems}
    for (_table, _seed), runs in sorted(complete.items()):
        higher = HIGHER_IS_BETTER[next(iter(runs.values()))["metric"]]
        ok = {s: r["score"] for s, r in runs.items() if s in systems and r.get("status") == "ok"}
        for s in systems:
            if s not in ok:
                ranks[s].append(float(len(systems)))
                continue
            better = sum(1 for v in ok.values() if (v > ok[s] if higher else v < ok[s]))
            same = sum(1 for v in ok.values() if v == ok[s])
            ranks[s].append(better + 1 + (same - 1) / 2)
    seeds = sorted({seed for _, seed in complete})
    title = "design half" if half == "design" else "held-out half" if half == "held_out" else half
    lines = [
        f"### {suite} suite, {title}, budget {budget:g} s",
        "",
        f"{len(tables)} tables x seeds {seeds} where all of {', '.join(systems)} have a result "
        f"({len(complete)} (table, seed) pairs); fit limit budget x 1.05 + 5 s = {limit:.0f} s. "
        "Scores: mean ± sd over seeds; ROC AUC higher is better, log loss and RMSE lower.",
        "",
        "| table | task | metric | rows | " + " | ".join(systems) + " | Δ vs best anchor "
        "(95% CI) | verdict |",
        "|---|---|---|---|" + "---|" * len(systems) + "---|---|",
    ]
    verdicts = {"win": 0, "loss": 0, "tie": 0}
    for table in tables:
        runs_by_seed = {
            seed: complete[(table, seed)] for seed in seeds if (table, seed) in complete
        }
        first = next(iter(runs_by_seed.values()))
        cells = []
        means: dict[str, float] = {}
        for s in systems:
            vals = [r[s]["score"] for r in runs_by_seed.values() if r[s].get("status") == "ok"]
            failed = len(runs_by_seed) - len(vals)
            if not vals:
                cells.append("failed")
                continue
            means[s] = float(np.mean(vals))
            sd = f" ± {np.std(vals, ddof=1):.4g}" if len(vals) > 1 else ""
            cells.append(f"{means[s]:.4f}{sd}" + (f" ({failed} failed)" if failed else ""))
        delta, verdict = "n/a", "n/a"
        higher = HIGHER_IS_BETTER[first[systems[0]]["metric"]]
        anchors = [a for a in ANCHORS if a in means]
        if "apprentice" in systems and anchors:
            best = max(anchors, key=lambda a: means[a] if higher else -means[a])
            pairs = [
                (r["apprentice"], r[best])
                for r in runs_by_seed.values()
                if r["apprentice"].get("status") == "ok" and r[best].get("status") == "ok"
            ]
            if "apprentice" not in means:
                verdict = "loss (failed)"
                verdicts["loss"] += 1
            elif pairs:
                d, lo, hi = paired_difference(first[systems[0]]["task"], pairs)
                delta = f"{d:+.4g} [{lo:+.4g}, {hi:+.4g}] vs {best}"
                verdict = "win" if lo > 0 else "loss" if hi < 0 else "tie"
                verdicts[verdict] += 1
        task = first[systems[0]]["task"]
        rows = first[systems[0]]["n_train"] + first[systems[0]]["n_test"]
        row = [table, task, METRIC[task], f"{rows:,}", *cells, delta, verdict]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"Δ: apprentice's score minus the best anchor's (sign flipped for log loss and RMSE, so "
        f"positive means apprentice is better), mean over seeds; interval from a paired "
        f"bootstrap over test rows ({N_BOOTSTRAP} replicates). apprentice against the best "
        f"anchor: {verdicts['win']} wins, {verdicts['tie']} ties (interval includes 0), "
        f"{verdicts['loss']} losses.",
        "",
        "| system | average rank | failures | worst fit / budget | overruns (> limit) | "
        "single-row latency (ms, median) |",
        "|---|---|---|---|---|---|",
    ]
    for s in systems:
        mine = [runs[s] for runs in complete.values()]
        ok = [r for r in mine if r.get("status") == "ok"]
        fits = [r["fit_seconds"] for r in ok if r.get("fit_seconds") is not None]
        lat = [r["latency_ms_median"] for r in ok if r.get("latency_ms_median") is not None]
        worst = max(fits, default=None)
        rank = f"{np.mean(ranks[s]):.2f}" if ranks[s] else "n/a"
        lines.append(
            f"| {s} | {rank} | {len(mine) - len(ok)} / {len(mine)} | "
            + (f"{worst / budget:.2f} ({worst:.0f} s)" if worst is not None else "n/a")
            + f" | {sum(1 for f in fits if f > limit)} | "
            + (f"{np.median(lat):.3f}" if lat else "n/a")
            + " |"
        )
    failures = [
        f"- {r['table']} seed {r['seed']} {r['system']}: {str(r.get('error', ''))[-300:]}"
        for runs in complete.values()
        for r in runs.values()
        if r.get("status") != "ok"
    ]
    if failures:
        lines += ["", "Failures:", "", *failures]
    return [*lines, ""]


def write_markdown(path: Path, text: str) -> None:
    """Replace the AutoML-suite section of ``path`` (between markers), or append it."""
    start, end = "<!-- automl-suite:start -->", "<!-- automl-suite:end -->"
    block = f"{start}\n{text}{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) + 1 :]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", action="store_true", help="create .bench venvs and install")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--suite", choices=("automl", "shared"), default="automl")
    parser.add_argument("--half", choices=("design", "held_out", "all"), default="design")
    parser.add_argument("--tables", default="", help="comma-separated names (default: the half)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin each fit: taskset -c CPU")
    parser.add_argument("--report", action="store_true", help="aggregate the results present")
    parser.add_argument("--markdown", type=Path, default=None, help="write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the per-run work folders")
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems: {', '.join(unknown)}")
    if args.setup:
        setup(systems)
        return 0
    if not args.report:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        names = [t.strip() for t in args.tables.split(",") if t.strip()] or None
        tables = suite_tables(args.suite, args.half, names)
        run(args.suite, tables, seeds, args.budget, systems, args.cpu, args.keep)
    text = report(args.suite, systems)
    print()
    print(text)
    if args.markdown is not None:
        write_markdown(args.markdown, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
