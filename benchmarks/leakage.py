"""Leakage review: planted leaks of graded strength found, unchanged tables left alone.

Tables: the 25 of benchmarks/data/leakage_split.json (MANIFEST roles benchmark and
messy-examples), split once at random into a design and a held-out half before any threshold
was tuned; the thresholds of :mod:`apprentice.learn.leak_review` were tuned on the design half
only. Both halves are reported.

Per table: up to ``--rows`` rows sampled (seed 0), the manifest's ``drop`` columns removed
(documented leaks and identifiers), the rest typed by the same cleaning the ``train`` workflow
fits, the target prepared as the workflow does. The guard then runs as in ``train``: the
near-perfect single-feature rule (excludes) and the review (flags), on

* the table unchanged: any finding is a false flag (counted per table and per column);
* the table plus one planted leak, three kinds at five strengths each:

  - ``copy``: a noisy copy of the target (classification: the label, replaced by a random
    class with probability q; regression: the standardised target plus Gaussian noise);
  - ``indicator``: a near-deterministic yes/no for one class (the exit-interview pattern:
    yes for a share a of the class, b of the others); regression: the target's decile as a
    band label, a share q of the rows given a random band;
  - ``post``: a post-outcome number (a lognormal "days"/"amount" shifted by the class, or
    by the target for regression, plus a legitimate feature and noise).

The strength of each planted leak is its single-feature score measured independently of the
review: 5-fold out-of-fold mean target per value (numbers cut in 20 quantile bins), scored by
ROC AUC for the class the leak reveals (macro one-vs-rest for a multiclass ``copy``) or R².
Goal: >= 90% of the leaks with AUC >= 0.9 (R² >= 0.8) flagged, <= 5% false flags.

A leak counts as *strong* when its strength is >= 0.9 (R² >= 0.8) **and** above what the
table's own columns reach together on what it reveals (:func:`honest_reach`: a 5-fold
model of the honest columns, measured here, not by the review): a leak below that inflates
no score and is, by every statistic on the table, one more honest column (penguins and
shuttle, whose honest columns reach ROC AUC 0.999-1.000 for every class). The first
definition (strength alone) is reported beside it. See BENCHMARKS.md, "Guarding: leaks found
as a reviewer would", for the reasons and the figures of each pass.

Usage::

    PYTHONPATH=src OMP_NUM_THREADS=1 .venv/bin/python benchmarks/leakage.py      # ~20 min, 1 core
    ... benchmarks/leakage.py --tables penguins,titanic --rows 1000             # a quick look

Last run (2026-12-04, all 25 tables at 3,000 rows, two runs side by side on a 2-core
machine at load ~13; the review's own cost there: median 2.8 s (design) and 3.9 s
(held-out) of wall time, at most 18 s (letter, house_prices_kaggle); on one idle thread
about a tenth of that: 0.8 s of CPU for nyc_taxis, 1.7 s for shuttle at 10,000 rows)::

    | half     | tables | leaks AUC>=0.9 / R2>=0.8 flagged | weaker flagged | unchanged flagged  |
    | design   | 12     | 28/36 (78%, 95% [62%, 88%])      | 16/144 (11%)   | 0/12 (0/192 col.)  |
    | held_out | 13     | 53/57 (93%, 95% [83%, 97%])      | 7/138 (5%)     | 2/13 (8/217 col.)  |

Held-out flags on unchanged tables: compas_two_year's re-offence columns (r_offense_date,
r_case_number, r_charge_degree, r_charge_desc: recorded after the outcome, real leaks the
manifest keeps) and diamonds' carat, x, y, z: a **false flag** of the masking-group rule
(four near-copies of the stone's size, each alone R2 ~0.92, the model at 0.04 without all
four: honest redundancy looks like leaks that hide each other). Without the group rule
(``Thresholds(group_drop_min=inf)``, re-judged on the same measures) the held-out half
reads 45/57 (79%) and 1/13 (compas r_offense_date); the design half is 28/36 either way.
Misses left: penguins and shuttle (design), where the honest columns alone reach ROC AUC
0.999-1.000 and a planted leak adds nothing the model can see; letter and sms_spam
(held-out). The goal (>= 90% on both halves, <= 5% false flags) is not met on the design
half. The held-out half was measured before the one-class rule's 30-row class minimum
(which can only remove flags on classes of 10-29 sampled rows).

(The figures above are the first pass; the second pass, with the redundancy test and the
definition above, and the third, with the "spells the outcome" and "record of the outcome"
rules judged by the issue's own definition, are in BENCHMARKS.md.) ``--cache`` keeps two
halves measured side by side apart: each run rewrites the whole file it names.

The raw measures are cached in benchmarks/_out/leakage_measures.json, so ``--rejudge``
re-applies the rules (after a change of limits) in seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
TABLES = REPO.parent / "shared" / "data" / "tables"
if not TABLES.is_dir():
    TABLES = Path("/work/shared/data/tables")
SPLIT = REPO / "benchmarks" / "data" / "leakage_split.json"
OUT = REPO / "benchmarks" / "_out"
CACHE = OUT / "leakage_measures.json"
LEVELS = {
    # (classification parameter, regression parameter) per strength level 1..5
    "copy": ([0.95, 0.75, 0.5, 0.3, 0.1], [2.0, 1.2, 0.7, 0.4, 0.15]),
    "indicator": (
        [(0.35, 0.15), (0.6, 0.15), (0.8, 0.1), (0.9, 0.05), (0.97, 0.02)],
        [0.9, 0.6, 0.4, 0.2, 0.05],
    ),
    "post": ([0.5, 1.0, 1.8, 2.6, 4.0], [1.5, 0.9, 0.5, 0.3, 0.1]),
}


def _manifest() -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in json.loads((TABLES / "MANIFEST.json").read_text())}


def load(entry: dict[str, Any], rows: int) -> tuple[pd.DataFrame, Any]:
    """The typed feature frame (training-like) and the prepared target of a table."""
    from apprentice.learn.task import prepare_target
    from apprentice.workflows.train import _fit_cleaning

    read = entry.get("read") or {}
    path = TABLES / entry["file"]
    if read.get("reader") == "read_parquet":
        raw = pd.read_parquet(path).astype(str)
    else:
        kwargs = {k: v for k, v in read.items() if k != "reader"}
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)
    if len(raw) > rows:
        raw = raw.sample(rows, random_state=0).reset_index(drop=True)
    raw = raw.drop(columns=[c for c in entry.get("drop") or [] if c in raw.columns])
    info = prepare_target(raw[entry["target"]], name=entry["target"], task=entry["task"])
    raw = raw.loc[info.kept].reset_index(drop=True)
    features = raw.drop(columns=[entry["target"]])
    typed, _, _, _ = _fit_cleaning(features, features.iloc[:0])
    return typed.reset_index(drop=True), info


def plant(
    typed: pd.DataFrame, y: np.ndarray, task: str, kind: str, level: int, seed: int
) -> tuple[pd.Series, np.ndarray]:
    """A leak column of ``kind`` at strength ``level`` (0..4) and the class (or target) it
    reveals: a boolean mask of the class for classification, the target for regression."""
    rng = np.random.default_rng(seed)
    n = len(y)
    numeric = [c for c in typed.columns if pd.api.types.is_numeric_dtype(typed[c].dtype)]
    legit = np.zeros(n)
    if numeric:
        values = pd.to_numeric(typed[numeric[0]], errors="coerce").to_numpy(dtype=float)
        ranks = pd.Series(values).rank(pct=True).fillna(0.5).to_numpy()
        legit = (ranks - 0.5) * 2.0
    if task == "regression":
        z = pd.Series(y).rank(pct=True).to_numpy()
        z = (z - z.mean()) / z.std()
        p = LEVELS[kind][1][level]
        if kind == "copy":
            return pd.Series(z * 1.0 + rng.normal(0, p, n) + 0.0), y
        if kind == "indicator":
            band = np.minimum((pd.Series(y).rank(pct=True).to_numpy() * 10).astype(int), 9)
            swap = rng.random(n) < p
            band[swap] = rng.integers(0, 10, swap.sum())
            labels = np.array([f"band {k}" for k in range(10)], dtype=object)
            return pd.Series(pd.Categorical(labels[band])), y
        days = np.exp(0.8 * z + 0.3 * legit + rng.normal(0, p, n))
        return pd.Series(np.round(days * 30.0, 1)), y
    classes, counts = np.unique(y, return_counts=True)
    if task == "binary":
        c = classes[np.argmin(counts)]
    else:
        eligible = [k for k, m in zip(classes, counts, strict=True) if m >= 0.05 * n] or list(
            classes
        )
        c = eligible[int(rng.integers(len(eligible)))]
    hit = y == c
    if kind == "copy":
        q = LEVELS["copy"][0][level]
        noisy = y.copy()
        swap = rng.random(n) < q
        noisy[swap] = rng.choice(classes, swap.sum())
        names = np.array([f"class {k}" for k in range(int(classes.max()) + 1)], dtype=object)
        return pd.Series(pd.Categorical(names[noisy])), (y if task == "multiclass" else hit)
    if kind == "indicator":
        a, b = LEVELS["indicator"][0][level]
        yes = np.where(hit, rng.random(n) < a, rng.random(n) < b)
        return pd.Series(pd.Categorical(np.where(yes, "yes", "no"))), hit
    delta = LEVELS["post"][0][level]
    days = np.exp(1.0 - 0.6 * delta * hit + 0.3 * legit + rng.normal(0, 0.6, n))
    return pd.Series(np.round(days * 30.0, 1)), hit


def strength(leak: pd.Series, reveals: np.ndarray, task: str) -> float:
    """The leak's single-feature score: 5-fold out-of-fold mean target per value (20 quantile
    bins for numbers), ROC AUC for a class mask, macro one-vs-rest AUC for class codes, R²."""
    from sklearn.metrics import r2_score, roc_auc_score

    if isinstance(leak.dtype, pd.CategoricalDtype):
        codes = leak.cat.codes.to_numpy()
    else:
        values = leak.to_numpy(dtype=float)
        edges = np.unique(np.quantile(values, np.linspace(0, 1, 21)[1:-1]))
        codes = np.searchsorted(edges, values, side="right")
    n = len(codes)
    fold = np.random.default_rng(7).permutation(n) % 5
    if task == "regression" or reveals.dtype == bool:
        target = reveals.astype(float)[:, None]
    else:
        target = (reveals[:, None] == np.unique(reveals)[None, :]).astype(float)
    pred = np.zeros_like(target)
    for f in range(5):
        tr, va = fold != f, fold == f
        frame = pd.DataFrame(target[tr]).groupby(codes[tr]).mean()
        prior = target[tr].mean(axis=0)
        pred[va] = frame.reindex(codes[va]).to_numpy()
        pred[va] = np.where(np.isnan(pred[va]), prior, pred[va])
    if task == "regression":
        return float(r2_score(target[:, 0], pred[:, 0]))
    if target.shape[1] == 1:
        return float(roc_auc_score(target[:, 0] > 0.5, pred[:, 0]))
    aucs = [
        roc_auc_score(target[:, j] > 0.5, pred[:, j])
        for j in range(target.shape[1])
        if 0 < target[:, j].sum() < n
    ]
    return float(np.mean(aucs))


def honest_model(typed: pd.DataFrame, info: Any) -> np.ndarray:
    """Out-of-fold predictions of a full-size model on the table's own (honest) columns:
    class probabilities, or the prediction for regression. Five folds of a histogram
    gradient boosting of 100 rounds with an L2 penalty of 1 (unpenalised, a class of a few
    rows sends its leaf values to thousands and every class's probabilities to noise: the
    library's defaults put shuttle's honest columns at AUC 0.8, not 1.0), independent of the
    review's cheap two-fold model; categories coded by frequency rank."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from apprentice.learn.features import infer_kind
    from apprentice.learn.leak_review import _encode

    X, _ = _encode(typed, {str(c): infer_kind(typed[c]) for c in typed.columns})
    y = np.asarray(info.y)
    n = len(y)
    fold = np.random.default_rng(11).permutation(n) % 5
    classes = None if info.task == "regression" else np.unique(y)
    out = np.zeros(n) if classes is None else np.zeros((n, len(classes)))
    for f in range(5):
        tr, va = fold != f, fold == f
        if classes is None:
            model = HistGradientBoostingRegressor(
                max_iter=100, l2_regularization=1.0, random_state=0
            )
            out[va] = model.fit(X[tr], y[tr]).predict(X[va])
        else:
            model = HistGradientBoostingClassifier(
                max_iter=100, l2_regularization=1.0, random_state=0
            )
            got = model.fit(X[tr], y[tr]).predict_proba(X[va])
            out[np.ix_(va, np.searchsorted(classes, model.classes_))] = got
    return out


def honest_reach(pred: np.ndarray, y: np.ndarray, reveals: np.ndarray, task: str) -> float:
    """What the honest columns together reach on what a planted leak reveals, in the units
    of :func:`strength`: ROC AUC of the revealed class against the rest (a class mask),
    macro one-vs-rest ROC AUC (class codes), or R²."""
    from sklearn.metrics import r2_score, roc_auc_score

    if task == "regression":
        return float(r2_score(reveals.astype(float), pred))
    classes = np.unique(y)
    if reveals.dtype == bool:
        c = y[reveals][0]
        return float(roc_auc_score(reveals, pred[:, int(np.searchsorted(classes, c))]))
    aucs = [
        roc_auc_score(y == c, pred[:, j])
        for j, c in enumerate(classes)
        if 0 < (y == c).sum() < len(y)
    ]
    return float(np.mean(aucs))


def guard(typed: pd.DataFrame, info: Any) -> dict[str, Any]:
    """What the ``train`` guard measures: near-perfect columns and the review's measures."""
    from apprentice.learn.features import infer_kind
    from apprentice.learn.leak_review import review_leakage
    from apprentice.learn.leakage import find_near_perfect

    kinds = {str(c): infer_kind(typed[c]) for c in typed.columns}
    near = find_near_perfect(typed, info.y, info.task, kinds, seed=0)
    rest = typed.drop(columns=list(near))
    begun = time.monotonic()
    review = review_leakage(
        rest, info.y, info.task, kinds, seed=0, class_names=[str(c) for c in info.classes or []]
    )
    m = review.measures
    return {
        "near": near,
        "seconds": time.monotonic() - begun,
        "measures": {
            **{
                k: m[k]
                for k in (
                    "names",
                    "single",
                    "full",
                    "task",
                    "class_names",
                    "single_by_class",
                    "full_by_class",
                    "group",
                    "group_without",
                    "group_links",
                )
            },
            "permuted": [float(v) for v in m.get("permuted", [])],
            "drops": {str(k): float(v) for k, v in m.get("drops", {}).items()},
            "without": {str(k): float(v) for k, v in m.get("without", {}).items()},
            "determinism": m.get("determinism", {}),
            "spelling": m.get("spelling", {}),
            "links": m.get("links", {}),
        }
        if m
        else {},
    }


def measure(names: list[str], rows: int) -> list[dict[str, Any]]:
    manifest = _manifest()
    out: list[dict[str, Any]] = []
    for name in names:
        entry = manifest[name]
        begun = time.monotonic()
        typed, info = load(entry, rows)
        y = np.asarray(info.y)
        honest_pred = honest_model(typed, info)
        cases = [("unchanged", -1)] + [(k, lvl) for k in LEVELS for lvl in range(5)]
        for kind, level in cases:
            frame = typed
            score = honest = None
            if kind != "unchanged":
                seed = 1000 * level + len(kind) + len(name)
                leak, reveals = plant(typed, y, info.task, kind, level, seed)
                score = strength(leak, reveals, info.task)
                honest = honest_reach(honest_pred, y, reveals, info.task)
                frame = typed.assign(planted_leak=leak.to_numpy())
            got = guard(frame, info)
            out.append(
                {
                    "table": name,
                    "task": info.task,
                    "kind": kind,
                    "level": level,
                    "strength": score,
                    "honest": honest,
                    "rows": len(frame),
                    "columns": frame.shape[1],
                    **got,
                }
            )
        print(
            f"{name}: {info.task}, {len(typed)} rows x {typed.shape[1]} columns, "
            f"{time.monotonic() - begun:.0f} s",
            file=sys.stderr,
        )
    return out


def rehonest(cases: list[dict[str, Any]], rows: int) -> None:
    """Recompute :func:`honest_reach` of cached cases in place (the same tables, rows and
    planted leaks; the review's measures are left as they are)."""
    manifest = _manifest()
    for name in sorted({c["table"] for c in cases}):
        typed, info = load(manifest[name], rows)
        y = np.asarray(info.y)
        pred = honest_model(typed, info)
        for c in cases:
            if c["table"] == name and c["kind"] != "unchanged":
                seed = 1000 * c["level"] + len(c["kind"]) + len(name)
                _, reveals = plant(typed, y, info.task, c["kind"], c["level"], seed)
                c["honest"] = honest_reach(pred, y, reveals, info.task)


def flagged(case: dict[str, Any], thresholds: Any) -> list[str]:
    """Every column the guard would report: near-perfect ones and the review's findings."""
    from apprentice.learn.leak_review import judge

    cols = list(case["near"])
    m = case["measures"]
    if m:
        m = {
            **m,
            "permuted": np.asarray(m["permuted"]),
            "drops": {int(k): v for k, v in m["drops"].items()},
            "without": {int(k): v for k, v in m["without"].items()},
            "determinism": {
                c: {k: tuple(v) for k, v in cols.items()} for c, cols in m["determinism"].items()
            },
            "spelling": {k: tuple(v) for k, v in (m.get("spelling") or {}).items()},
            "links": {k: tuple(v) for k, v in (m.get("links") or {}).items()},
        }
        cols += [f.column for f in judge(m, thresholds)]
    return cols


def wilson(k: int, n: int) -> str:
    if n == 0:
        return "-"
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"[{max(0, centre - half):.0%}, {min(1, centre + half):.0%}]"


def summarise(cases: list[dict[str, Any]], split: dict[str, Any], command: str) -> str:
    from apprentice.learn.leak_review import THRESHOLDS

    lines = [
        "| half | tables | strong leaks flagged (AUC >= 0.9 / R2 >= 0.8, above the honest "
        "columns) | strong leaks flagged, old definition (AUC >= 0.9 / R2 >= 0.8) | weaker "
        "leaks flagged | unchanged tables flagged (false) | false columns | "
        "review s (median, max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    per_column: list[str] = []
    misses: list[str] = []
    excluded: list[str] = []
    by_band: dict[str, list[int]] = {}
    for half in ("design", "held_out"):
        mine = [c for c in cases if c["table"] in split[half]]
        if not mine:
            continue
        planted = [c for c in mine if c["kind"] != "unchanged"]
        strong = [c for c in planted if _strong(c)]
        strong_old = [c for c in planted if _strong_old(c)]
        weak = [c for c in planted if not _strong_old(c)]
        hit_s = sum("planted_leak" in flagged(c, THRESHOLDS) for c in strong)
        hit_o = sum("planted_leak" in flagged(c, THRESHOLDS) for c in strong_old)
        hit_w = sum("planted_leak" in flagged(c, THRESHOLDS) for c in weak)
        clean = [c for c in mine if c["kind"] == "unchanged"]
        false_tables = [c for c in clean if flagged(c, THRESHOLDS)]
        false_cols = sum(len(flagged(c, THRESHOLDS)) for c in clean)
        total_cols = sum(c["columns"] for c in clean)
        secs = sorted(c["seconds"] for c in mine)
        lines.append(
            f"| {half} | {len({c['table'] for c in mine})} | {hit_s}/{len(strong)} "
            f"({_pct(hit_s, len(strong))}, 95% {wilson(hit_s, len(strong))}) | "
            f"{hit_o}/{len(strong_old)} ({_pct(hit_o, len(strong_old))}, "
            f"95% {wilson(hit_o, len(strong_old))}) | "
            f"{hit_w}/{len(weak)} ({_pct(hit_w, len(weak))}) | "
            f"{len(false_tables)}/{len(clean)} ({_pct(len(false_tables), len(clean))}, "
            f"95% {wilson(len(false_tables), len(clean))}) | "
            f"{false_cols}/{total_cols} ({_pct(false_cols, total_cols)}, "
            f"95% {wilson(false_cols, total_cols)}) | "
            f"{secs[len(secs) // 2]:.1f}, {secs[-1]:.1f} |"
        )
        for c in strong_old:
            if not _strong(c):
                got = "flagged" if "planted_leak" in flagged(c, THRESHOLDS) else "not flagged"
                excluded.append(
                    f"- {half} {c['table']} {c['kind']} level {c['level'] + 1}: strength "
                    f"{c['strength']:.3f}, honest columns {c['honest']:.3f} ({got})"
                )
        for c in false_tables:
            per_column.append(f"- {half} {c['table']}: {', '.join(flagged(c, THRESHOLDS))}")
        for c in strong:
            if "planted_leak" not in flagged(c, THRESHOLDS):
                misses.append(
                    f"- {half} {c['table']} {c['kind']} level {c['level'] + 1}: "
                    f"strength {c['strength']:.3f}, honest columns {c['honest']:.3f}"
                )
        for c in mine:
            if c["kind"] == "unchanged":
                continue
            band = _band(c)
            got = by_band.setdefault(f"{half} {band}", [0, 0])
            got[0] += "planted_leak" in flagged(c, THRESHOLDS)
            got[1] += 1
    text = "\n".join(lines)
    text += "\n\nFlag rate by leak strength (single-feature AUC, or R² for regression):\n\n"
    text += "| half | strength | flagged |\n|---|---|---|\n"
    for key in sorted(by_band):
        half, band = key.split(" ", 1)
        k, n = by_band[key]
        text += f"| {half} | {band} | {k}/{n} ({_pct(k, n)}) |\n"
    text += "\nFalse flags on unchanged tables (per column):\n\n"
    text += "\n".join(per_column) if per_column else "- none"
    text += "\n\nStrong leaks missed:\n\n" + ("\n".join(misses) if misses else "- none")
    text += (
        "\n\nStrong by the old definition only (the honest columns together reach as much "
        "on what the leak reveals):\n\n" + ("\n".join(excluded) if excluded else "- none")
    )
    return text + f"\n\nCommand: `{command}`\n"


def _strong_old(case: dict[str, Any]) -> bool:
    """A leak with single-feature AUC >= 0.9 (R² >= 0.8): the issue's first definition."""
    s = case["strength"]
    return s is not None and (s >= 0.8 if case["task"] == "regression" else s >= 0.9)


def _strong(case: dict[str, Any]) -> bool:
    """A strong leak (:func:`_strong_old`) that also scores alone above what every honest
    column together reaches on what it reveals (:func:`honest_reach`): a leak below that
    adds nothing a model, or a reviewer, can see (measures without it: counted strong)."""
    honest = case.get("honest")
    return _strong_old(case) and (honest is None or case["strength"] > honest)


def _band(case: dict[str, Any]) -> str:
    s = case["strength"]
    if case["task"] == "regression":
        edges = [(0.8, "R2 >= 0.8"), (0.5, "R2 0.5-0.8"), (-9, "R2 < 0.5")]
    else:
        edges = [(0.9, "AUC >= 0.9"), (0.75, "AUC 0.75-0.9"), (-9, "AUC < 0.75")]
    return next(label for edge, label in edges if s >= edge)


def _pct(k: int, n: int) -> str:
    return f"{k / n:.0%}" if n else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--tables", default="", help="comma-separated names (default: all)")
    parser.add_argument("--rejudge", action="store_true", help="reuse the cached measures")
    parser.add_argument("--cache", type=Path, default=CACHE, help="the measures file")
    parser.add_argument(
        "--rehonest",
        action="store_true",
        help="with --rejudge: recompute the honest columns' reach and save it in the cache",
    )
    args = parser.parse_args()
    cache: Path = args.cache
    split = json.loads(SPLIT.read_text())
    names = args.tables.split(",") if args.tables else split["design"] + split["held_out"]
    if args.rejudge:
        cases = [c for c in json.loads(cache.read_text()) if c["table"] in names]
        missing = sorted(set(names) - {c["table"] for c in cases})
        if missing:
            print(f"no cached measures for {', '.join(missing)}", file=sys.stderr)
        if args.rehonest:
            rehonest(cases, args.rows)
            kept = [c for c in json.loads(cache.read_text()) if c["table"] not in names]
            cache.write_text(json.dumps(kept + cases, default=_jsonable))
    else:
        cases = measure(names, args.rows)
        OUT.mkdir(parents=True, exist_ok=True)
        kept = json.loads(cache.read_text()) if cache.is_file() else []
        kept = [c for c in kept if c["table"] not in names] + cases
        cache.write_text(json.dumps(kept, default=_jsonable))
    command = "PYTHONPATH=src OMP_NUM_THREADS=1 .venv/bin/python benchmarks/leakage.py " + " ".join(
        sys.argv[1:]
    )
    print(summarise(cases, split, command.strip()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value))


if __name__ == "__main__":
    main()
