"""What apprentice's model space can reach on design tables of the AutoML suite, without a clock.

Offline, not the timed suite: on the benchmark's own 75/25 split (``benchmarks/automl.py``'s
``prepare``, seed 0 unless told), apprentice's search runs with no time budget and no tuning
(``time_budget=None, max_trials=0``, every family eligible), then every portfolio member is
refitted on all training rows (with the rounds its cross-validation chose) and scored on the
test rows, as is the greedy ensemble the search chose. Each line: the member, its CV score,
its test score and the best stored anchor score at 60 s (FLAML/AutoGluon result files under
``--results``, when present). The work is fixed (no deadline), so two versions of apprentice
can be compared under any load::

    PYTHONPATH=src python benchmarks/automl_reach.py --tables vega_airports,sk_digits

Design tables only: held-out tables are refused.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import automl

RESULTS = automl.RESULTS / "automl" / "budget60"


def anchors(table: str, seed: int, results: Path) -> dict[str, float]:
    """The stored anchor scores (FLAML, AutoGluon, apprentice) at 60 s, where present."""
    out = {}
    for system in automl.SYSTEMS:
        path = results / table / f"seed{seed}" / f"{system}.json"
        if path.exists():
            data = json.loads(path.read_text())
            if data.get("status") == "ok":
                out[system] = float(data["score"])
    return out


def reach(job: dict[str, Any], seed: int, families: tuple[str, ...] | None) -> list[tuple]:
    """(name, cv score, test score) of every member refitted on all rows, and the ensemble."""
    import numpy as np

    import apprentice
    from apprentice.learn.features import FeaturePipeline
    from apprentice.learn.models import fit_model
    from apprentice.learn.search import _target_type, search
    from apprentice.learn.task import prepare_target
    from apprentice.workflows.train import _fit_cleaning

    target = job["target"]
    raw = apprentice.read(job["train"]).table
    info = prepare_target(raw[target], name=target, task=job["task"])
    raw = raw.drop(columns=[target]).loc[info.kept].reset_index(drop=True)
    raw_test = apprentice.read(job["test"]).table.drop(columns=[target])
    # typed as apprentice.train types them: the cleaning recipe learned on the training rows
    X, test, _recipe, _records = _fit_cleaning(raw, raw_test)
    result = search(
        X,
        info.y,
        task=info.task,
        n_classes=info.n_classes,
        metric=job["metric"],
        time_budget=None,
        max_trials=0,
        seed=seed,
        n_threads=1,
        fast_predict=False,
        families=families,
        refit_extra=False,
    )
    rows: list[tuple] = []
    preds: dict[str, Any] = {}
    for r in result.candidates:
        if not r.ok or r.family == "ensemble":
            continue
        pipe = FeaturePipeline(
            view=r.config.view,
            kinds=result.kinds,
            target_type=_target_type(info.task),
            random_state=seed,
        )
        matrix = pipe.fit_transform(X, info.y)
        model = fit_model(
            r.config,
            task=info.task,
            n_classes=info.n_classes,
            X=matrix,
            y=info.y,
            categorical=list(pipe.categorical_indices_),
            n_threads=1,
            seed=seed,
            iterations=r.refit_iterations(len(result.folds)),
        )
        preds[r.name] = model.predict(pipe.transform(test))
        rows.append((r.name, r.cv_mean, _score(job, info, preds[r.name])))
    if result.champion == "ensemble":
        cv = float(np.mean(result.champion_cv))
        blend = sum(preds[m] * w for m, w in result.members)
        note = "+".join(f"{m}*{w:.2f}" for m, w in result.members)
        rows.append((f"ensemble ({note})", cv, _score(job, info, blend)))
    return rows


def _score(job: dict[str, Any], info: Any, pred: Any) -> float:
    classes = None if info.classes is None else [str(c) for c in info.classes]
    out = {"classes": classes, "predictions": pred.tolist()}
    truth, aligned = automl.aligned(job, out)
    return automl.metric_value(job["task"], truth, aligned)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", required=True, help="comma-separated design tables")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", default="", help="comma-separated families (default all)")
    parser.add_argument("--tag", default="", help="a label printed on each line")
    parser.add_argument("--data", type=Path, default=automl.SUITE_DATA)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    automl.SUITE_DATA = args.data
    names = [t for t in args.tables.split(",") if t]
    families = tuple(f for f in args.families.split(",") if f) or None
    for table in automl.suite_tables("automl", "design", names):
        workdir = Path(tempfile.mkdtemp(prefix="automl-reach-"))
        try:
            job = automl.prepare(table, args.seed, workdir)
            start = time.process_time()
            rows = reach(job, args.seed, families)
            cpu = time.process_time() - start
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        stored = anchors(table["name"], args.seed, args.results)
        known = " ".join(f"{k} {v:.5f}" for k, v in stored.items())
        print(f"{args.tag} {table['name']} {job['metric']} (stored 60 s: {known}) cpu {cpu:.0f} s")
        for name, cv, test in sorted(rows, key=lambda r: r[2], reverse=job["metric"] == "roc_auc"):
            print(f"{args.tag}   {name:60s} cv {cv:.5f} test {test:.5f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
