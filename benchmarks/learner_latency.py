"""Single-row ``Bundle.predict`` latency and bundle size per boosting learner.

For each family (LightGBM for reference, XGBoost, CatBoost) and each task kind, a bundle is
trained on the first rows of a table with that family only (no time budget, the portfolio
configurations of the family, no ensemble, one thread), loaded back, and called with one
raw record at a time: the median and 99th percentile over ``--calls`` records (after 20
warm-up calls), and the size of the model file and of the whole bundle folder.

    .venv/bin/python benchmarks/learner_latency.py            # all three tables
    .venv/bin/python benchmarks/learner_latency.py --quick    # 1,000 rows, 100 calls

Timings depend on the machine's load: say what it was when you report them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

TABLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tables"
#: table -> target, one per task kind (adult: many categorical columns)
CASES = {
    "adult.csv": "income",
    "penguins.csv": "species",
    "automobile.csv": "price",
}
FAMILIES = ("lightgbm", "xgboost", "catboost")


def _measure(bundle: Any, records: list[dict[str, Any]], calls: int) -> tuple[float, float]:
    for record in records[:20]:
        bundle.predict(record)
    times = []
    for i in range(calls):
        record = records[i % len(records)]
        start = time.perf_counter()
        bundle.predict(record)
        times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows, calls = (1000, 100) if args.quick else (args.rows, args.calls)
    from apprentice.bundle import load_bundle, train

    results = []
    for table, target in CASES.items():
        frame = pd.read_csv(TABLES / table, dtype=str, keep_default_na=False).head(rows)
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / table
            frame.to_csv(source, index=False)
            records = frame.drop(columns=[target]).head(200).to_dict("records")
            for family in FAMILIES:
                out = Path(folder) / family
                start = time.perf_counter()
                train(
                    source,
                    target=target,
                    out=out,
                    time_budget=None,
                    max_trials=0,
                    families=(family,),
                    ensemble=False,
                    n_jobs=1,
                    n_boot=50,
                )
                fit = time.perf_counter() - start
                bundle = load_bundle(out)
                kinds = [m["kind"] for m in bundle.manifest["model"]["members"]]
                model_bytes = sum(
                    (out / m["file"]).stat().st_size for m in bundle.manifest["model"]["members"]
                )
                total = sum(p.stat().st_size for p in out.iterdir())
                p50, p99 = _measure(bundle, records, calls)
                result = {
                    "table": table,
                    "family": family,
                    "kinds": kinds,
                    "rows": len(frame),
                    "train_s": round(fit, 1),
                    "latency_ms_p50": round(p50, 3),
                    "latency_ms_p99": round(p99, 3),
                    "model_kb": round(model_bytes / 1024, 1),
                    "bundle_kb": round(total / 1024, 1),
                }
                results.append(result)
                print(json.dumps(result), flush=True)
    print(json.dumps({"load_1min": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
