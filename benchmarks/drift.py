"""Drift detection: false alarms, power, the retrain gate, and speed/memory against Evidently.

Five studies (``--only`` picks some):

``end_to_end``
    The whole ``monitor`` decision on real tables (benchmarks/data/drift_tables_split.json: 16
    tables split once at random into a design and a held-out half, both reported). Per table:
    a model trained on 6,000 raw rows (linear + LightGBM, no tuning: quick and reproducible),
    its reference profile from its own holdout; then, from the table's other rows, 20
    same-distribution samples of 500, 1,000, 2,000 and 5,000 rows, checked with labels and
    without. Goal: at most 5% of runs alert (Wilson 95% interval given). Power at 2,000
    rows, 10 samples each, labels kept: a 0.5-standard-deviation shift of the most important
    numeric feature; a category swap (the two commonest categories of the most important
    categorical feature whose two commonest hold >= 20% of the rows arrive each as the
    other); the first recoding, kept for comparison (``category_merge``: the commonest
    category of the most important categorical feature arrives as the second); 20% label
    noise. Goal: >= 90% alert.

``false_alarms``
    1,000 simulated no-drift samples per setting. Numeric: the two-sample KS test (reference
    1,000 rows against 1,000 and 10,000 current rows; 5,000 against 500). Categorical: the
    pooled-table chi-square test on 8 skewed categories (0.5% the rarest), with 200, 1,000 and
    10,000 reference rows and a current sample 10x larger (and equal-sized ones). Goal: every
    rate within 5% +- 1.5 points at alpha = 0.05.
``power``
    A 0.2-standard-deviation mean shift in the important one of 20 numeric features (half of
    the importance), n = 5,000 reference and current rows, the full check (Benjamini-Hochberg,
    effect-size floors, importance-weighted alert). Goal: an alert in >= 90% of samples.
``gate``
    200 simulated retrains where the new data carries no new signal (a logistic world; the
    champion fits 1,000 rows, the challenger those plus 1,000 new rows of the same
    distribution; decision holdout 500 fresh rows; 1,000 paired bootstrap resamples).
    Goal: a promotion in at most 5%.
``speed``
    1,000,000 reference and 1,000,000 current rows x 20 columns (15 numeric, 5 categorical;
    5 columns shifted), each tool in its own subprocess: apprentice (the reference profile
    from the reference frame, then the drift check) and Evidently 0.7 ``DataDriftPreset`` in
    ``.bench/evidently`` (``python -m venv .bench/evidently && .bench/evidently/bin/pip
    install 'evidently==0.7.*' 'pandas<3'``). Time and peak resident memory (VmHWM) of each.
    Goal: >= 10x faster and <= 1/3 of Evidently's memory.

Usage::

    .venv/bin/python benchmarks/drift.py --only end_to_end  # ~15 minutes on one core
    .venv/bin/python benchmarks/drift.py                    # everything
    .venv/bin/python benchmarks/drift.py --only speed --rows 200000
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "_out"
EVIDENTLY = REPO / ".bench" / "evidently" / "bin" / "python"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

ALPHA = 0.05

#: the power scenarios of ``end_to_end``
KINDS = ("numeric_shift", "category_swap", "category_merge", "label_noise")
#: a category swap needs its two categories to hold at least this share of the rows
SWAP_SHARE = 0.2


def false_alarms(sims: int) -> list[dict[str, Any]]:
    import numpy as np

    from apprentice.monitor.drift import chi_square, ks_test

    probs = np.array([0.4, 0.25, 0.15, 0.1, 0.05, 0.03, 0.015, 0.005])
    rows = []
    for n_ref, n_cur in ((1000, 1000), (1000, 10000), (5000, 500)):
        rng = np.random.default_rng(n_ref * 7 + n_cur)
        alarms = sum(
            ks_test(np.sort(rng.normal(size=n_ref)), np.sort(rng.normal(size=n_cur)))[1] < ALPHA
            for _ in range(sims)
        )
        rows.append({"test": "ks", "reference": n_ref, "current": n_cur, "rate": alarms / sims})
    for n_ref in (200, 1000, 10000):
        for factor in (1, 10):
            rng = np.random.default_rng(n_ref * 13 + factor)
            alarms = sum(
                chi_square(rng.multinomial(n_ref, probs), rng.multinomial(factor * n_ref, probs))[1]
                < ALPHA
                for _ in range(sims)
            )
            rows.append(
                {
                    "test": "chi2",
                    "reference": n_ref,
                    "current": factor * n_ref,
                    "rate": alarms / sims,
                }
            )
    for row in rows:
        row["sims"] = sims
        row["ok"] = abs(row["rate"] - ALPHA) <= 0.015
    return rows


def power(sims: int) -> dict[str, Any]:
    import numpy as np
    from tests.monitor.test_drift import _frame, _profile

    from apprentice.monitor.check import drift_alert, feature_drift
    from apprentice.monitor.policy import DriftPolicy

    rng = np.random.default_rng(5)
    policy = DriftPolicy()
    found = 0
    for _ in range(sims):
        columns, score = feature_drift(_profile(rng, 5000), _frame(rng, 5000, 0.2), policy)
        found += drift_alert(columns, score, policy)
    return {
        "sims": sims,
        "n": 5000,
        "shift_sd": 0.2,
        "rate": found / sims,
        "ok": found / sims >= 0.9,
    }


def gate(sims: int) -> dict[str, Any]:
    from tests.workflows.test_retrain import simulate_gate

    rate = simulate_gate(sims, seed=123, n_boot=1000)
    return {"sims": sims, "promotion_rate": rate, "ok": rate <= 0.05}


# --------------------------------------------------------------------------- speed

GEN = r"""
import sys, numpy as np, pandas as pd
rows, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(1)
def frame(shift):
    d = {}
    for i in range(15):
        mean = 0.3 if (shift and i < 3) else 0.0
        d[f"num{i}"] = rng.normal(mean, 1 + i / 10, size=rows)
    cats = np.array([f"c{j}" for j in range(12)])
    p = np.r_[np.full(4, 0.15), np.full(8, 0.05)]
    for i in range(5):
        q = p if not (shift and i < 2) else np.r_[np.full(4, 0.10), np.full(8, 0.075)]
        d[f"cat{i}"] = rng.choice(cats, size=rows, p=q)
    return pd.DataFrame(d)
frame(False).to_parquet(out + "/drift_ref.parquet")
frame(True).to_parquet(out + "/drift_cur.parquet")
"""

OURS = r"""
import sys, time, json
mode = sys.argv[2]
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"): return int(line.split()[1]) * 1024
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"): return int(line.split()[1]) * 1024
import pandas as pd, pyarrow.parquet as pq
import scipy.stats
from apprentice.monitor.check import column_drift, finish_drift, feature_drift
from apprentice.monitor.policy import DriftPolicy
from apprentice.monitor.profile import column_profile, frame_profile
ref_file = pq.ParquetFile(sys.argv[1] + "/drift_ref.parquet")
cur_file = pq.ParquetFile(sys.argv[1] + "/drift_cur.parquet")
names = ref_file.schema_arrow.names
weights = {c: 1 / len(names) for c in names}
if mode == "in_memory":  # both frames whole in memory, as Evidently gets them
    ref, cur = ref_file.read().to_pandas(), cur_file.read().to_pandas()
base = rss()
t = time.perf_counter()
if mode == "in_memory":
    profile = {"features": frame_profile(ref), "importance": weights}
    cols, score = feature_drift(profile, cur, DriftPolicy())
elif mode == "chunked":  # the CLI's path: mergeable statistics, 100,000 current rows at a time
    from apprentice.monitor.partial import _column_partial, _merge_column
    profile = {c: column_profile(ref_file.read(columns=[c]).column(0).to_pandas()) for c in names}
    total = {}
    for batch in cur_file.iter_batches(batch_size=100_000):
        chunk = batch.to_pandas()
        for c in names:
            part = _column_partial(profile[c], chunk[c])
            total[c] = part if c not in total else _merge_column(total[c], part, profile[c])
        del chunk
    cols, score = finish_drift([total[c].drift(c, profile[c]) for c in names], weights,
                               DriftPolicy())
else:  # column by column: the profile keeps a summary; one column of each side at a time
    profile = {c: column_profile(ref_file.read(columns=[c]).column(0).to_pandas()) for c in names}
    cols = [column_drift(c, profile[c], cur_file.read(columns=[c]).column(0).to_pandas())
            for c in names]
    cols, score = finish_drift([c for c in cols if c is not None], weights, DriftPolicy())
elapsed = time.perf_counter() - t
print(json.dumps({"mode": mode, "seconds": elapsed, "peak_bytes": peak(), "baseline_bytes": base,
                  "drifted": sorted(c.column for c in cols if c.drifted)}))
"""

THEIRS = r"""
import sys, time, json, pandas as pd
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"): return int(line.split()[1]) * 1024
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"): return int(line.split()[1]) * 1024
ref = pd.read_parquet(sys.argv[1] + "/drift_ref.parquet")
cur = pd.read_parquet(sys.argv[1] + "/drift_cur.parquet")
from evidently import Report
from evidently.presets import DataDriftPreset
base = rss()
t = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
result = snapshot.dict()
elapsed = time.perf_counter() - t
drifted = []
for m in result.get("metrics", []):
    cfg = str(m.get("metric_id", ""))
    if "ValueDrift" in cfg:
        v = m.get("value")
        drifted.append((cfg, v))
print(json.dumps({"seconds": elapsed, "peak_bytes": peak(), "baseline_bytes": base,
                  "value_drift_metrics": len(drifted)}))
"""


def _child(python: Path | str, code: str, *args: str, timeout: int) -> dict[str, Any]:
    proc = subprocess.run(
        [str(python), "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def speed(rows: int, timeout: int) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    folder = OUT / f"drift_{rows}"
    folder.mkdir(exist_ok=True)
    if not (folder / "drift_cur.parquet").is_file():
        subprocess.run([sys.executable, "-c", GEN, str(rows), str(folder)], check=True)
    ours = _child(sys.executable, OURS, str(folder), "columnwise", timeout=timeout)
    result: dict[str, Any] = {
        "rows": rows,
        "columns": 20,
        "apprentice": ours,
        "apprentice_chunked": _child(sys.executable, OURS, str(folder), "chunked", timeout=timeout),
        "apprentice_in_memory": _child(
            sys.executable, OURS, str(folder), "in_memory", timeout=timeout
        ),
    }
    if EVIDENTLY.is_file():
        try:
            result["evidently"] = _child(EVIDENTLY, THEIRS, str(folder), timeout=timeout)
        except subprocess.TimeoutExpired:
            result["evidently"] = {"error": f"over {timeout} s"}
    else:
        result["evidently"] = {"error": f"no Evidently venv at {EVIDENTLY.parent.parent}"}
    theirs = result["evidently"]
    if "seconds" in ours and "seconds" in theirs:
        result["speedup"] = theirs["seconds"] / ours["seconds"]
        result["memory_ratio"] = ours["peak_bytes"] / theirs["peak_bytes"]
        grow_o = ours["peak_bytes"] - ours["baseline_bytes"]
        grow_t = theirs["peak_bytes"] - theirs["baseline_bytes"]
        result["memory_growth_ratio"] = grow_o / grow_t if grow_t > 0 else math.nan
        result["ok"] = result["speedup"] >= 10 and result["memory_ratio"] <= 1 / 3
    return result


def _wilson(k: int, n: int) -> list[float]:
    z = 1.96
    if n == 0:
        return [math.nan, math.nan]
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def _raw_table(entry: dict[str, Any]) -> Any:
    import pandas as pd

    path = REPO / ".." / "shared" / "data" / "tables" / entry["file"]
    options = {k: v for k, v in entry.get("read", {}).items() if k != "reader"}
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, **options)
    return frame.drop(columns=[c for c in entry.get("drop", []) if c in frame.columns])


def _one_table(entry: dict[str, Any], samples: int, power_samples: int, work: Path) -> dict:
    import numpy as np
    import pandas as pd

    from apprentice.bundle import load_bundle, train
    from apprentice.monitor import check, load_profile

    target = entry["target"]
    raw = _raw_table(entry)
    raw = raw[raw[target].str.strip() != ""].sample(frac=1.0, random_state=0)
    n_train = min(6000, int(len(raw) * 0.5))
    fit, pool = raw.iloc[:n_train], raw.iloc[n_train:].reset_index(drop=True)
    result = train(fit.reset_index(drop=True), target=target, out=work / entry["name"],
                   time_budget=None, max_trials=0, families=("linear", "lightgbm"), n_jobs=1,
                   n_boot=50)  # fmt: skip
    bundle = load_bundle(result.path)
    profile = load_profile(bundle)
    sizes = [500, 1000, 2000, 5000]
    null: dict[str, list[Any]] = {"labelled": [], "unlabelled": []}
    for i in range(samples):
        # without replacement: duplicated rows are no sample a monitor ever sees
        size = min(sizes[i % len(sizes)], len(pool))
        sample = pool.sample(size, random_state=1000 + i)
        for kind in null:
            rows = sample if kind == "labelled" else sample.drop(columns=[target])
            found = check(bundle, rows.reset_index(drop=True))
            null[kind].append([a["check"] for a in found.alerts])
    importance = profile.get("importance", {})
    feats = profile["features"]

    def parses(column: str) -> bool:
        text = pool[column].str.strip()
        text = text[text != ""]
        return len(text) > 0 and pd.to_numeric(text, errors="coerce").notna().mean() > 0.9

    # a number in the raw file (a date is numeric in the profile, but no number to shift)
    numeric = [c for c in feats if feats[c]["kind"] == "numeric" and c in pool.columns
               and parses(c)]  # fmt: skip
    categorical = [c for c in feats if feats[c]["kind"] == "categorical" and c in pool.columns]

    def top_two_share(column: str) -> float:
        counts = pool[column].value_counts(normalize=True)
        return float(counts.iloc[:2].sum()) if len(counts) >= 2 else 0.0

    # a swap must change the meaning of enough rows to matter: the two commonest categories
    # together hold at least SWAP_SHARE of the rows (not two codes of a date-like column)
    swappable = [c for c in categorical if top_two_share(c) >= SWAP_SHARE]
    power: dict[str, Any] = {}
    rng = np.random.default_rng(7)

    def shifted(kind: str, rows: pd.DataFrame) -> pd.DataFrame | None:
        rows = rows.copy()
        if kind == "numeric_shift":
            if not numeric:
                return None
            col = max(numeric, key=lambda c: importance.get(c, 0.0))
            values = pd.to_numeric(rows[col].str.strip(), errors="coerce")
            sd = float(pd.to_numeric(pool[col].str.strip(), errors="coerce").std())
            moved = values + 0.5 * sd
            rows[col] = np.where(values.notna(), moved.map(lambda v: f"{v:.6g}"), rows[col])
            return rows
        if kind == "category_merge":  # the first definition, kept for comparison
            if not categorical:
                return None
            col = max(categorical, key=lambda c: importance.get(c, 0.0))
            top = rows[col].value_counts().index
            if len(top) < 2:
                return None
            # a recoding upstream: the commonest category now arrives as the second one
            rows[col] = rows[col].map(lambda v: top[1] if v == top[0] else v)
            return rows
        if kind == "category_swap":
            if not swappable:
                return None
            col = max(swappable, key=lambda c: importance.get(c, 0.0))
            first, second = pool[col].value_counts().index[:2]
            # a swap of meaning upstream: each of the two commonest categories arrives as the
            # other (when they are equally frequent the column's distribution does not move:
            # only the labels, through the performance check, can show it)
            swap = {first: second, second: first}
            rows[col] = rows[col].map(lambda v: swap.get(v, v))
            return rows
        labels = rows[target].to_numpy().copy()
        flip = rng.random(len(labels)) < 0.2
        if entry["task"] == "regression":
            labels[flip] = rng.permutation(pool[target].to_numpy())[: int(flip.sum())]
        else:
            classes = pool[target].unique()
            labels[flip] = [rng.choice([c for c in classes if c != v]) for v in labels[flip]]
        rows[target] = labels
        return rows

    from collections import Counter

    for kind in KINDS:
        hits, runs, fired = 0, 0, Counter[str]()
        for i in range(power_samples):
            sample = pool.sample(min(2000, len(pool)), random_state=2000 + i)
            rows = shifted(kind, sample.reset_index(drop=True))
            if rows is None:
                break
            runs += 1
            alerts = check(bundle, rows).alerts
            hits += bool(alerts)
            fired.update({a["check"] for a in alerts})
        power[kind] = {"runs": runs, "alerts": hits, "by_check": dict(fired)}
    by = lambda cols: max(cols, key=lambda c: importance.get(c, 0.0)) if cols else None  # noqa: E731
    power["columns"] = {"numeric_shift": by(numeric), "category_merge": by(categorical),
                        "category_swap": by(swappable),
                        "swap_top_two_share": round(top_two_share(by(swappable)), 3)
                        if swappable else None}  # fmt: skip
    return {"table": entry["name"], "task": entry["task"], "null": null, "power": power}


def end_to_end(samples: int, power_samples: int, tables: list[str] | None) -> dict[str, Any]:
    import tempfile
    from collections import Counter

    manifest = json.loads(
        (REPO / ".." / "shared" / "data" / "tables" / "MANIFEST.json").read_text()
    )
    entries = {e["name"]: e for e in manifest}
    split = json.loads((REPO / "benchmarks" / "data" / "drift_tables_split.json").read_text())
    out: dict[str, Any] = {"halves": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for half in ("design", "held_out"):
            per_table = []
            for name in split[half]:
                if tables and name not in tables:
                    continue
                started = time.perf_counter()
                found = _one_table(entries[name], samples, power_samples, Path(tmp))
                found["seconds"] = round(time.perf_counter() - started, 1)
                print(json.dumps(found), file=sys.stderr)
                per_table.append(found)
            summary: dict[str, Any] = {}
            for kind in ("labelled", "unlabelled"):
                runs = [a for t in per_table for a in t["null"][kind]]
                k = sum(bool(a) for a in runs)
                checks = Counter(c for a in runs for c in set(a))
                summary[f"false_alarm_{kind}"] = {"runs": len(runs), "alerts": k,
                    "rate": round(k / max(len(runs), 1), 4), "interval": _wilson(k, len(runs)),
                    "by_check": dict(checks)}  # fmt: skip
            for kind in KINDS:
                runs = sum(t["power"][kind]["runs"] for t in per_table)
                hits = sum(t["power"][kind]["alerts"] for t in per_table)
                summary[f"power_{kind}"] = {
                    "runs": runs,
                    "alerts": hits,
                    "rate": round(hits / max(runs, 1), 4),
                    "interval": _wilson(hits, runs),
                }
            out["halves"][half] = {"summary": summary, "tables": per_table}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=["false_alarms", "power", "gate", "speed"])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--power-sims", type=int, default=200)
    parser.add_argument("--gate-sims", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--samples", type=int, default=20, help="end_to_end: null samples")
    parser.add_argument("--tables", nargs="*", help="end_to_end: only these tables")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in args.only:
        started = time.perf_counter()
        if name == "false_alarms":
            results[name] = false_alarms(args.sims)
        elif name == "power":
            results[name] = power(args.power_sims)
        elif name == "gate":
            results[name] = gate(args.gate_sims)
        elif name == "speed":
            results[name] = speed(args.rows, args.timeout)
        elif name == "end_to_end":
            results[name] = end_to_end(args.samples, 10, args.tables)
        print(f"{name} ({time.perf_counter() - started:.0f} s):", file=sys.stderr)
        print(json.dumps(results[name], indent=1, default=str), file=sys.stderr)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "drift.json").write_text(json.dumps(results, indent=1, default=str))
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
