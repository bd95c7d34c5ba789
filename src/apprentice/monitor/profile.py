"""The reference profile: what the monitor compares current data with.

Built at training time and stored in the bundle as ``profile.json`` (listed with its SHA-256
in the manifest): per feature its kind, missing rate, quantiles, decile histogram, a sorted
sample (for the two-sample tests) or category counts; per category of the most important
categorical features, summaries of the most important numeric ones (``joint``: the monitor's
test of the features' joint distribution, :mod:`apprentice.monitor.joint`); the prediction
distribution; and, for
classifiers, an isotonic calibration of the model's probabilities fitted on a reference set
kept apart from training (the holdout), with the realised metrics there (what confidence-based
performance estimation needs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import BundleError

OTHER = "__other__"


def sorted_quantile(sorted_values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile`` (linear method) of an already sorted array, without a partition."""
    n = len(sorted_values)
    pos = np.asarray(probs, dtype=float) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    return sorted_values[lo] * (1 - frac) + sorted_values[hi] * frac


def category_counts(values: Any) -> dict[str, int]:
    """Counts of non-missing values as text (pandas ``value_counts``)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    counts = series.dropna().astype(str).value_counts(sort=False)
    return {str(k): int(v) for k, v in counts.items()}


PROFILE = "profile.json"
VERSION = 1
MAX_SAMPLE = 20_000
MAX_CATEGORIES = 1_000
TEXT_UNIQUE_SHARE = 0.5


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return "numeric"
    non_missing = series.dropna()
    if len(non_missing) > 200 and non_missing.nunique() > TEXT_UNIQUE_SHARE * len(non_missing):
        return "text"
    return "categorical"


def numeric_values(series: pd.Series) -> np.ndarray:
    """Float values of a numeric or datetime column (datetimes as epoch seconds), NaN kept."""
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) else series
        out = stamps.astype("datetime64[ns]").astype("int64").astype(float) / 1e9
        out[series.isna().to_numpy()] = np.nan
        return np.asarray(out, dtype=float)
    return np.asarray(pd.to_numeric(series, errors="coerce"), dtype=float)


def numeric_profile(values: np.ndarray, *, seed: int = 0, max_sample: int = MAX_SAMPLE) -> dict:
    values = np.asarray(values, dtype=float)
    n_all = len(values)
    finite = values[np.isfinite(values)]
    rng = np.random.default_rng(seed)
    sample = finite if len(finite) <= max_sample else rng.choice(finite, max_sample, replace=False)
    sample = np.sort(sample)
    if len(finite):
        ordered = np.sort(finite)
        edges = np.unique(sorted_quantile(ordered, np.linspace(0.1, 0.9, 9)))
        cuts = np.searchsorted(ordered, edges, side="right")
        counts = np.diff(np.concatenate([[0], cuts, [len(finite)]]))
        hist = (counts / len(finite)).tolist()
        std = float(np.std(finite))
        q75, q25 = sorted_quantile(ordered, np.array([0.75, 0.25]))
        scale = std if std > 0 else float(q75 - q25) / 1.349
        quantiles = sorted_quantile(ordered, np.linspace(0, 1, 101)).tolist()
    else:
        edges, hist, scale, quantiles = np.zeros(0), [1.0], 0.0, []
    return {
        "kind": "numeric",
        "n": len(finite),
        "missing_rate": 1 - len(finite) / n_all if n_all else 0.0,
        "min": float(finite.min()) if len(finite) else None,
        "max": float(finite.max()) if len(finite) else None,
        "mean": float(finite.mean()) if len(finite) else None,
        "scale": scale,
        "quantiles": quantiles,
        "edges": edges.tolist(),
        "hist": hist,
        "sample": sample.tolist(),
    }


def categorical_profile(series: pd.Series, *, max_categories: int = MAX_CATEGORIES) -> dict:

    n_all = len(series)
    counts = category_counts(series)
    n = sum(counts.values())
    if len(counts) > max_categories:
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:max_categories]
        kept = dict(top)
        kept[OTHER] = n - sum(kept.values())
        counts = kept
    return {
        "kind": "categorical",
        "n": n,
        "missing_rate": 1 - n / n_all if n_all else 0.0,
        "counts": counts,
    }


def column_profile(series: pd.Series, *, seed: int = 0) -> dict[str, Any]:
    kind = _kind(series)
    if kind == "numeric":
        entry = numeric_profile(numeric_values(series), seed=seed)
        if pd.api.types.is_datetime64_any_dtype(series):
            entry["datetime"] = True
        return entry
    if kind == "text":
        n_all = len(series)
        return {
            "kind": "text",
            "n": int(series.notna().sum()),
            "missing_rate": float(series.isna().mean()) if n_all else 0.0,
        }
    return categorical_profile(series)


def frame_profile(frame: pd.DataFrame, *, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Profiles of every column of a typed frame."""
    return {str(c): column_profile(frame[c], seed=seed) for c in frame.columns}


# --------------------------------------------------------------------------- calibration


def fit_calibration(proba: np.ndarray, y: np.ndarray, task: str) -> dict[str, Any]:
    """Isotonic calibration on the reference rows, stored as interpolation knots.

    Binary: the positive-class probability to P(y = 1). Multiclass: the top-label confidence
    to P(prediction correct).
    """
    from sklearn.isotonic import IsotonicRegression

    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y).astype(int)
    if task == "binary":
        score, outcome = proba[:, 1], (y == 1).astype(float)
    else:
        score, outcome = proba.max(axis=1), (proba.argmax(axis=1) == y).astype(float)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(score, outcome)
    return {
        "kind": "isotonic",
        "target": "positive" if task == "binary" else "top_label_correct",
        "x": [float(v) for v in iso.X_thresholds_],
        "y": [float(v) for v in iso.y_thresholds_],
        "rows": len(y),
    }


def apply_calibration(calibration: dict[str, Any], score: np.ndarray) -> np.ndarray:
    x = np.asarray(calibration["x"], dtype=float)
    yv = np.asarray(calibration["y"], dtype=float)
    if len(x) == 0:
        return np.asarray(score, dtype=float)
    return np.interp(np.asarray(score, dtype=float), x, yv)


# --------------------------------------------------------------------------- the profile


def prediction_profile(output: np.ndarray, task: str, seed: int = 0) -> dict[str, Any]:
    """The prediction distribution: values (regression), positive-class score (binary), or
    predicted-class counts (multiclass)."""
    output = np.asarray(output, dtype=float)
    if task == "regression":
        return numeric_profile(output, seed=seed)
    if task == "binary":
        return numeric_profile(output[:, 1], seed=seed)
    labels = pd.Series(output.argmax(axis=1).astype(str))
    return categorical_profile(labels)


def encode_target(values: pd.Series, task: str, classes: list[Any] | None) -> np.ndarray:
    """Labels as class indices (``-1`` when unknown or missing) or floats (regression): the
    one copy in :func:`apprentice.decision.encode_labels`."""
    from apprentice.decision import encode_labels

    return encode_labels(values, task, classes)


#: the smallest probability a log loss reads (a loss is at most -log(1e-4) = 9.2 per row)
LOSS_FLOOR = 1e-4


def row_log_loss(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each labelled row's log loss: ``-log`` of the probability the model gave its class
    (at least :data:`LOSS_FLOOR`); ``y`` holds class indices, all known."""
    picked = np.asarray(proba, dtype=float)[np.arange(len(y)), np.asarray(y, dtype=int)]
    return np.asarray(-np.log(np.clip(picked, LOSS_FLOOR, 1.0)))


def typed_features(bundle: Any, raw: pd.DataFrame) -> pd.DataFrame:
    """Raw rows through the bundle's cleaning recipe: the typed feature columns."""
    from apprentice.bundle.cleaning import clean_frame

    frame = bundle._select(raw) if bundle.input_columns else raw
    typed = clean_frame(bundle.cleaner, frame)
    cols = [c for c in bundle.manifest.get("feature_columns", typed.columns) if c in typed.columns]
    return typed[cols]


def unparsed(raw: pd.Series, typed: pd.Series) -> pd.Series:
    """Raw cells with text in them that the cleaning recipe turned into a missing value."""
    text = raw.astype("string").str.strip()
    filled = text.notna() & (text != "")
    return text[filled & typed.isna().to_numpy()]


def unreadable_share(
    raw: pd.Series, typed: pd.Series, markers: set[str] | frozenset[str] = frozenset()
) -> float:
    """Share of filled cells the recipe cannot read, beyond the known missing-value markers."""
    from apprentice.clean.markers import MISSING_TOKENS

    bad = unparsed(raw, typed)
    bad = bad[~bad.isin(markers) & ~bad.str.casefold().isin(MISSING_TOKENS)]
    text = raw.astype("string").str.strip()
    filled = int((text.notna() & (text != "")).sum())
    return len(bad) / filled if filled else 0.0


def unreadable_shares(
    raw: pd.DataFrame, typed: pd.DataFrame, markers: dict[str, list[str]]
) -> dict[str, float]:
    """Per column, the reference's own share of unreadable cells (a free-form code typed as a
    number has some in every sample: only a jump above it is news)."""
    return {
        str(name): unreadable_share(raw[name], typed[name], set(markers.get(str(name), [])))
        for name in typed.columns
        if name in raw.columns
    }


def missing_markers(raw: pd.DataFrame, typed: pd.DataFrame) -> dict[str, list[str]]:
    """Per column, the raw tokens the recipe reads as missing in the reference (``?``,
    ``NA``...): the tokens that are not unseen values when they turn up later.

    A marker repeats (at least twice and 0.5% of the rows); one-off unreadable values of a
    free-form column are not markers, they are the column's normal unreadable share."""
    out: dict[str, list[str]] = {}
    floor = max(2, int(0.005 * len(raw)))
    for name in typed.columns:
        if name in raw.columns:
            counts = unparsed(raw[name], typed[name]).value_counts()
            tokens = counts[counts >= floor].head(50)
            if len(tokens):
                out[str(name)] = [str(t) for t in tokens.index]
    return out


def build_profile(
    bundle: Any,
    holdout: pd.DataFrame,
    *,
    train_features: pd.DataFrame | None = None,
    importance: dict[str, float] | None = None,
    seed: int = 0,
    importance_rows: int = 1000,
) -> dict[str, Any]:
    """The reference profile of ``bundle``.

    ``holdout``: raw reference rows kept apart from training, with the target column (the
    prediction distribution and the calibration come from them). ``train_features``: the
    typed training features (their distributions are the feature reference); the holdout's
    features are used when it is not given. ``importance``: feature -> weight for the drift
    score (uniform when not given, or the bundle manifest's ``importance`` when present).
    ``importance_rows``: the reference rows the model's own importance is computed on when
    not given (its cost per row grows with the model; 0: none computed).
    """
    from apprentice.monitor.joint import joint_profile
    from apprentice.monitor.performance import reference_association, sorted_sample

    task = bundle.task
    features = train_features
    if features is None:
        features = typed_features(bundle, holdout)
    cols = [c for c in bundle.manifest.get("feature_columns", features.columns)]
    features = features[[c for c in cols if c in features.columns]]
    raw_holdout = holdout.drop(columns=[bundle.target], errors="ignore")
    output = bundle._output(raw_holdout)
    reference_typed = typed_features(bundle, raw_holdout)
    markers = missing_markers(raw_holdout, reference_typed)
    profile: dict[str, Any] = {
        "version": VERSION,
        "task": task,
        "classes": bundle.classes,
        "rows": len(features),
        "reference_rows": len(holdout),
        "features": frame_profile(features, seed=seed),
        "prediction": prediction_profile(output, task, seed=seed),
        "markers": markers,
        "unreadable": unreadable_shares(raw_holdout, reference_typed, markers),
        "unreadable_n": {
            str(c): int(raw_holdout[c].astype("string").str.strip().fillna("").ne("").sum())
            for c in reference_typed.columns
            if c in raw_holdout.columns
        },
        "importance": _importance(
            bundle,
            list(features.columns),
            importance or _model_importance(bundle, holdout, importance_rows),
        ),
    }
    profile["joint"] = joint_profile(features, profile["features"], profile["importance"])
    if bundle.target is not None and bundle.target in holdout.columns and len(holdout):
        y = encode_target(holdout[bundle.target], task, bundle.classes)
        if task == "regression":
            ok = np.isfinite(y)
            if ok.any():
                errors = np.abs(output[ok] - y[ok])
                profile["reference_metrics"] = {
                    "mae": float(np.mean(errors)),
                    "rmse": float(math.sqrt(np.mean(errors**2))),
                    # the holdout's size and spread: the monitor's two-sample test needs them
                    "n": int(ok.sum()),
                    "mae_sd": float(np.std(errors, ddof=1)) if ok.sum() > 1 else 0.0,
                }
                # the holdout's predictions and labels (sorted samples): a window's rows are
                # ranked among them, and the rank correlation of predictions with labels
                # on the holdout is what the monitor's association test compares with
                scores = {
                    "prediction": sorted_sample(output[ok], seed),
                    "label": sorted_sample(y[ok], seed + 1),
                }
                profile["reference_metrics"]["scores"] = scores
                profile["reference_metrics"]["association"] = reference_association(
                    output[ok], y[ok], scores
                )
        else:
            ok = y >= 0
            if ok.sum() >= 10:
                # the labels the bundle gives: at its decision threshold (binary)
                pred = bundle.decide(output[ok])
                losses = row_log_loss(output[ok], y[ok])
                profile["reference_metrics"] = {
                    "accuracy": float(np.mean(pred == y[ok])),
                    "n": int(ok.sum()),
                    "threshold": bundle.threshold,
                    # the per-row log loss's mean and spread: the watch loop's loss test
                    "log_loss": float(losses.mean()),
                    "log_loss_sd": float(losses.std(ddof=1)),
                }
                profile["calibration"] = fit_calibration(output[ok], y[ok], task)
    return profile


def _model_importance(
    bundle: Any, holdout: pd.DataFrame, rows: int = 1000
) -> dict[str, float] | None:
    """Mean absolute contribution per column on up to ``rows`` reference rows (the bundle's
    own explanation math); ``None`` when the model cannot be explained."""
    if len(holdout) == 0 or rows <= 0:
        return None
    try:
        from apprentice.bundle.contrib import contributions

        frame = holdout.drop(columns=[bundle.target], errors="ignore").iloc[:rows]
        c = contributions(bundle, frame)
        values = np.abs(np.asarray(c.values, dtype=float)).mean(axis=0)
        return {str(name): float(v) for name, v in zip(c.columns, values, strict=True)}
    except Exception:  # importance only weights the drift score; uniform weights then
        return None


def _importance(
    bundle: Any, columns: list[str], given: dict[str, float] | None
) -> dict[str, float]:
    raw = given
    if raw is None:
        found = bundle.manifest.get("importance")
        if isinstance(found, dict):
            raw = {str(k): float(v) for k, v in found.items()}
        elif isinstance(found, list):
            raw = {
                str(r.get("feature")): float(r.get("importance", 0.0))
                for r in found
                if isinstance(r, dict)
            }
    if not raw:
        return dict.fromkeys(columns, 1.0 / max(len(columns), 1))
    weights = {c: max(float(raw.get(c, 0.0)), 0.0) for c in columns}
    total = sum(weights.values())
    if total <= 0:
        return dict.fromkeys(columns, 1.0 / max(len(columns), 1))
    # a floor so that a column the model barely uses still counts a little
    floor = 0.05 / max(len(columns), 1)
    weights = {c: w / total + floor for c, w in weights.items()}
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


def attach_profile(bundle_path: str | Path, profile: dict[str, Any], *, bundle: Any = None) -> Path:
    """Write ``profile.json`` into a bundle and list it, with its SHA-256, in the manifest
    (and in ``bundle.manifest`` when the loaded bundle is given)."""
    from apprentice.bundle.io import MANIFEST, _json_default, sha256_file
    from apprentice.bundle.sign import sign_bundle

    root = Path(bundle_path)
    target = root / PROFILE
    target.write_text(
        json.dumps(profile, default=_json_default, allow_nan=True, ensure_ascii=False),
        encoding="utf-8",
    )
    manifest_path = root / MANIFEST
    document = json.loads(manifest_path.read_text(encoding="utf-8"))
    document.setdefault("files", {})[PROFILE] = sha256_file(target)
    document["profile"] = PROFILE
    manifest_path.write_text(
        json.dumps(document, default=_json_default, ensure_ascii=False), encoding="utf-8"
    )
    sign_bundle(root)  # the manifest changed: sign it again
    if bundle is not None:
        bundle.manifest.setdefault("files", {})[PROFILE] = document["files"][PROFILE]
        bundle.manifest["profile"] = PROFILE
    return target


def load_profile(bundle: Any) -> dict[str, Any]:
    """The verified reference profile of a loaded bundle."""
    name = bundle.manifest.get("profile")
    files = bundle.manifest.get("files", {})
    if not name or name not in files:
        raise BundleError(
            f"the bundle at {bundle.path} holds no reference profile; retrain it with this "
            "apprentice (apprentice train) to monitor it"
        )
    from apprentice.bundle.io import sha256_file

    path = Path(bundle.path) / name
    if not path.is_file() or sha256_file(path) != files[name]:
        raise BundleError(f"{name} in {bundle.path} does not match its SHA-256 in the manifest")
    from apprentice.modelfiles.jsonfile import load_json

    return dict(load_json(path.read_bytes(), name))  # caps on size and depth, no RecursionError
