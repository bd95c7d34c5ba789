"""One monitoring check: current rows against the bundle's reference profile."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from apprentice.decision import decide
from apprentice.monitor.drift import (
    ColumnDrift,
    benjamini_hochberg,
    categorical_drift,
    drift_score,
    numeric_drift,
)
from apprentice.monitor.joint import JointDrift, joint_sums, joint_tests
from apprentice.monitor.policy import DriftPolicy, Policy


@dataclass
class MonitorResult:
    """What a check found; ``alerts`` is empty when all is fine."""

    rows: int
    drift: list[ColumnDrift]
    score: float
    quality: dict[str, Any]
    prediction: dict[str, Any] | None
    performance: dict[str, Any] | None
    estimated: dict[str, Any] | None
    alerts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    joint: list[JointDrift] = field(default_factory=list)
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return "alert" if self.alerts else "ok"

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "status": self.status,
                "checked_at": self.checked_at,
                "rows": self.rows,
                "alerts": self.alerts,
                "drift": {
                    "score": self.score,
                    "columns": [c.to_dict() for c in self.drift],
                    "joint": [j.to_dict() for j in self.joint],
                },
                "quality": self.quality,
                "prediction": self.prediction,
                "performance": self.performance,
                "estimated_performance": self.estimated,
                "notes": self.notes,
                "seconds": round(self.seconds, 3),
            }
        )


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become ``None``; numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def column_drift(name: str, ref: dict[str, Any], values: pd.Series) -> ColumnDrift | None:
    """The drift test of one column against its profile entry (``None``: not tested)."""
    from apprentice.monitor.profile import numeric_values

    if ref["kind"] == "text" or ref.get("n", 0) == 0:
        return None
    if ref["kind"] == "numeric":
        return numeric_drift(name, ref, numeric_values(values))
    return categorical_drift(name, ref, values)


def finish_drift(
    results: list[ColumnDrift],
    weights: dict[str, float],
    policy: DriftPolicy,
    joint: list[JointDrift] | None = None,
) -> tuple[list[ColumnDrift], float]:
    """BH across the columns and the joint tests of feature pairs (one family at
    ``policy.alpha``), effect-size floors, the importance-weighted score (of the columns)."""
    joint = joint or []
    for col in results:
        col.importance = float(weights.get(col.column, 0.0))
    adjusted = benjamini_hochberg([c.p_value for c in results] + [j.p_value for j in joint])
    for pair, adj in zip(joint, adjusted[len(results) :], strict=True):
        pair.p_adjusted = adj
        pair.importance = max(
            float(weights.get(pair.categorical, 0.0)), float(weights.get(pair.numeric, 0.0))
        )
        pair.drifted = bool(adj < policy.alpha and pair.shift >= policy.min_joint_shift)
    for col, adj in zip(results, adjusted[: len(results)], strict=True):
        col.p_adjusted = adj
        if col.n_current < policy.min_rows:
            col.notes.append(f"fewer than {policy.min_rows} current values: no verdict")
            continue
        if col.kind == "numeric":
            big = (col.distance["wasserstein"] >= policy.min_wasserstein) or (
                col.distance["psi"] >= policy.min_psi
            )
        else:
            big = col.distance["jensen_shannon"] >= policy.min_jensen_shannon
        col.drifted = bool(adj < policy.alpha and big)
    return results, drift_score(results)


def feature_drift(
    profile: dict[str, Any],
    current: pd.DataFrame,
    policy: DriftPolicy,
    joint: list[JointDrift] | None = None,
) -> tuple[list[ColumnDrift], float]:
    """Per-column tests, BH across columns (and the ``joint`` pairs' tests, when given),
    effect-size floors, importance-weighted score."""
    results: list[ColumnDrift] = []
    for name, ref in profile["features"].items():
        if name in current.columns:
            col = column_drift(name, ref, current[name])
            if col is not None:
                results.append(col)
    return finish_drift(results, profile.get("importance", {}), policy, joint)


def joint_drift(
    profile: dict[str, Any], current: pd.DataFrame, policy: DriftPolicy
) -> list[JointDrift] | None:
    """The joint tests of the profile's (categorical, numeric) pairs on typed current rows
    (``None``: the profile predates them); adjusted with the columns' in
    :func:`finish_drift`."""
    joint = profile.get("joint")
    if joint is None:
        return None
    sums = joint_sums(joint, profile["features"], current)
    return joint_tests(joint, sums, policy.min_rows)


#: the note of a check whose profile has no per-category summaries
NO_JOINT = (
    "the reference profile predates the joint check (numbers within categories): skipped; "
    "retrain the model with this apprentice to get it"
)


def joint_alert(joint: list[JointDrift], policy: DriftPolicy) -> dict[str, Any] | None:
    """The alert of the drifted pairs: what moved within which category; ``high`` when
    either feature carries ``important_feature`` of the importance."""
    drifted = sorted((j for j in joint if j.drifted), key=lambda j: (-j.importance, j.p_value))
    if not drifted:
        return None
    high = any(j.importance >= policy.important_feature for j in drifted)
    said = "; ".join(
        f"{j.describe()} (mean reference rank {j.worst['rank_reference']:.2f} -> "
        f"{j.worst['rank_current']:.2f}, p = {j.p_value:.2g}, importance {j.importance:.2f})"
        for j in drifted[:3]
        if j.worst is not None
    )
    more = f"; and {len(drifted) - 3} more pair(s)" if len(drifted) > 3 else ""
    return {
        "check": "joint_drift",
        "severity": "high" if high else "medium",
        "message": f"numbers within categories moved: {said}{more}",
    }


def _main_distance(col: ColumnDrift) -> float:
    """How far a column moved: W1/sd for numbers, the Jensen-Shannon distance for categories."""
    key = "wasserstein" if col.kind == "numeric" else "jensen_shannon"
    return float(col.distance.get(key, 0.0))


def drift_alert(columns: list[ColumnDrift], score: float, policy: DriftPolicy) -> bool:
    """Alert when the weighted drifted share exceeds ``max_score``, when one drifted column
    alone carries at least ``important_feature`` of the importance, or when one drifted
    column moved at least ``large_shift``, whatever its importance."""
    drifted = [c for c in columns if c.drifted]
    if not drifted:
        return False
    return (
        score > policy.max_score
        or max(c.importance for c in drifted) >= policy.important_feature
        or max(_main_distance(c) for c in drifted) >= policy.large_shift
    )


def drift_severity(columns: list[ColumnDrift], score: float, policy: DriftPolicy) -> str:
    """``high`` when the drift touches what the model relies on, else ``medium``."""
    drifted = [c for c in columns if c.drifted]
    important = any(c.importance >= policy.important_feature for c in drifted)
    return "high" if important or score > policy.max_score else "medium"


def prediction_drift(
    profile: dict[str, Any], output: np.ndarray, task: str, policy: Policy
) -> dict[str, Any] | None:
    ref = profile.get("prediction")
    if ref is None or len(output) == 0:
        return None
    output = np.asarray(output, dtype=float)
    if task == "regression":
        col = numeric_drift("prediction", ref, output)
    elif task == "binary":
        col = numeric_drift("prediction", ref, output[:, 1])
    else:
        col = categorical_drift("prediction", ref, pd.Series(output.argmax(axis=1).astype(str)))
    return prediction_verdict(col, task, policy)


def prediction_verdict(col: ColumnDrift, task: str, policy: Policy) -> dict[str, Any]:
    """The prediction distribution's test against the policy."""
    distance = col.distance["jensen_shannon" if col.kind == "categorical" else "wasserstein"]
    col.drifted = bool(
        col.p_value < policy.prediction.alpha and distance >= policy.prediction.min_distance
    )
    return col.to_dict()


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def labelled_performance(
    profile: dict[str, Any],
    output: np.ndarray,
    y: np.ndarray,
    task: str,
    policy: Policy,
    windows: np.ndarray | None = None,
    threshold: float | None = None,
) -> dict[str, Any] | None:
    """Metrics per window (time buckets, or blocks of ``window_rows``) and over all labelled
    rows, with 95% intervals; accuracy of the labels the model gives at its ``threshold``."""
    from apprentice.monitor.performance import row_stats

    ok = np.isfinite(y) if task == "regression" else y >= 0
    if not ok.any():
        return None
    idx = np.flatnonzero(ok)
    if windows is None:
        size = max(policy.performance.window_rows, 1)
        keys = np.asarray([f"rows {int(k) * size + 1}-" for k in np.arange(len(idx)) // size])
    else:
        keys = np.asarray(windows)[idx].astype(str)
    correct = None if task == "regression" else decide(output[idx], threshold) == y[idx]
    stats = row_stats(task, output[idx], y[idx], correct, profile.get("reference_metrics", {}))
    sums = [(key, stats[keys == key].sum(axis=0)) for key in dict.fromkeys(keys.tolist())]
    return judge_windows(sums, task, profile, policy)


def performance_window(key: str, stats: np.ndarray, task: str) -> dict[str, Any]:
    """One window's metric (mean absolute error, or accuracy) with its 95% interval (normal
    with the errors' ``sd``, or Wilson) and, for regression, the rank correlation of the
    predictions with the labels, from the window's sums (:mod:`apprentice.monitor.performance`).
    Whether it is worse than the reference is decided by :func:`judge_windows`."""
    from apprentice.monitor.performance import association, mean_sd

    n, value, sd = mean_sd(stats)
    if task == "regression":
        half = 1.96 * sd / math.sqrt(n) if n > 1 else math.nan
        window = {"window": key, "rows": n, "mae": value, "sd": sd}
        window |= {"low": value - half, "high": value + half}
        window["association"] = association(stats)
        return window
    low, high = wilson(value * n, n)
    return {"window": key, "rows": n, "accuracy": value, "low": low, "high": high}


def _worse_p(window: dict[str, Any], task: str, ref: dict[str, Any]) -> float:
    """One-sided p-value of "this window is worse than the reference holdout", a two-sample
    test that counts the reference's own uncertainty (its size and spread)."""
    from scipy.stats import norm

    n = int(window["rows"])
    n_ref = int(ref.get("n") or 0)
    if task == "regression":
        value, reference = float(window["mae"]), float(ref["mae"])
        sd = float(window["sd"])
        # an old profile without the holdout errors' spread: take the window's
        sd_ref = float(ref.get("mae_sd", sd))
        var = (sd * sd / n if n > 1 else math.inf) + (sd_ref * sd_ref / n_ref if n_ref else 0.0)
        diff = value - reference
    else:
        value, reference = float(window["accuracy"]), float(ref["accuracy"])
        pooled = (value * n + reference * n_ref) / (n + n_ref) if n_ref else reference
        var = pooled * (1 - pooled) * (1 / n + (1 / n_ref if n_ref else 0.0))
        diff = reference - value
    if not math.isfinite(var):
        return 1.0
    if var <= 0:
        return 0.0 if diff > 0 else 1.0
    return float(norm.sf(diff / math.sqrt(var)))


def _judge(
    window: dict[str, Any], task: str, ref: dict[str, Any], level: float, drop: float
) -> None:
    """One window's tests at ``level`` each (Bonferroni across windows and tests is the
    caller's): the metric worse than the reference by more than ``drop`` (relative for the
    error, absolute for accuracy), and, for regression, the rank correlation of predictions
    with labels lower than the holdout's by more than ``drop``."""
    from apprentice.monitor.performance import correlation_drop_p

    metric = "mae" if task == "regression" else "accuracy"
    reference = float(ref[metric])
    window["level"] = level
    value = window[metric]
    p = _worse_p(window, task, ref)
    window["p_value"] = p
    far = value > reference * (1 + drop) if task == "regression" else value < reference - drop
    fired = []
    if far and p < level:
        fired.append(metric)
    r, r_ref = window.get("association"), ref.get("association")
    if task == "regression" and r is not None and r_ref is not None:
        p_r = correlation_drop_p(float(r), int(window["rows"]), float(r_ref), int(ref["n"]))
        window["association_p"] = p_r
        if r < r_ref - drop and p_r < level:
            fired.append("association")
    window["fired"] = fired
    window["alert"] = bool(fired)


def judge_windows(
    sums: list[tuple[str, np.ndarray]], task: str, profile: dict[str, Any], policy: Policy
) -> dict[str, Any] | None:
    """The performance finding from each window's sums: every window, and all labelled rows
    together when there is more than one window, against the reference holdout by two-sample
    tests. One family at ``performance.alpha`` (weighted Bonferroni): all rows together get
    half of it, the windows share the other half, and each window's tests (the metric; for
    regression also the rank correlation) share its part. A window alerts only when a test
    is significant and its effect beyond ``max_drop``."""
    if not sums:
        return None
    metric = "mae" if task == "regression" else "accuracy"
    ref = dict(profile.get("reference_metrics", {}))
    reference = ref.get(metric)
    if ref.get("n") is None and reference is not None:
        ref["n"] = profile.get("reference_rows")
    rows = [performance_window(key, stats, task) for key, stats in sums]
    overall = None
    if len(rows) > 1:
        overall = performance_window("all rows", np.sum([s for _, s in sums], axis=0), task)
    tests = 2 if task == "regression" and ref.get("association") is not None else 1
    alpha = policy.performance.alpha
    window_level = (alpha / 2 if overall else alpha) / (len(rows) * tests)
    for window in rows:
        window["alert"] = False
    if overall is not None:
        overall["alert"] = False
    if reference is not None:
        for window in rows:
            _judge(window, task, ref, window_level, policy.performance.max_drop)
        if overall is not None:
            _judge(overall, task, ref, alpha / 2 / tests, policy.performance.max_drop)
    return {
        "metric": metric,
        "reference": reference,
        "reference_rows": ref.get("n"),
        "reference_association": ref.get("association"),
        "direction": "higher is worse" if task == "regression" else "lower is worse",
        "alpha": alpha,
        "windows": rows,
        "overall": overall,
    }


def performance_alert(performance: dict[str, Any]) -> dict[str, Any] | None:
    """The alert of a performance finding: what rose or fell, over all rows and in which
    window (the worst that fired)."""
    overall = performance.get("overall")
    windows = performance["windows"]
    metric = performance["metric"]
    higher_worse = metric == "mae"
    size = performance.get("reference_rows")
    of = f" (holdout of {size} rows)" if size else ""
    parts = []
    for check in (metric, "association"):
        fired = [w for w in windows if check in w.get("fired", [])]
        whole = overall is not None and check in overall.get("fired", [])
        if not fired and not whole:
            continue
        key = "association" if check == "association" else metric
        up = check == metric and higher_worse
        found = []
        if whole:
            assert overall is not None
            found.append(("over all rows", overall))
        if fired:
            worst = max(fired, key=lambda w: w[key]) if up else min(fired, key=lambda w: w[key])
            found.append((f"in {len(fired)} of {len(windows)} window(s), worst {worst['window']}",
                          worst))  # fmt: skip
        if check == "association":
            said = "; ".join(
                f"{where}: {w['association']:.3f}, p = {w['association_p']:.2g}"
                for where, w in found
            )
            parts.append(
                "the predictions' rank correlation with the labels fell below the reference "
                f"{performance['reference_association']:.3f}{of} {said}"
            )
        else:
            verb = "rose above" if higher_worse else "fell below"
            said = "; ".join(
                f"{where}: {w[metric]:.4g} [95% CI {w['low']:.4g}, {w['high']:.4g}], "
                f"p = {w['p_value']:.2g}"
                for where, w in found
            )
            parts.append(f"{metric} {verb} the reference {performance['reference']:.4g}{of} {said}")
    if not parts:
        return None
    return {"check": "performance", "message": "; ".join(parts)}


def outside_support(drift: list[ColumnDrift], quality: dict[str, Any], policy: Policy) -> str:
    """Why a label-free estimate cannot be trusted here ('' when it can): CBPE reads the
    model's confidence, which means nothing where the rows left the training support."""
    reasons = [
        f"'{i['column']}' has values outside the reference range"
        for i in quality.get("issues", [])
        if i.get("check") == "out_of_range"
    ]
    reasons += [
        f"'{c.column}' moved {_main_distance(c):.2f}"
        for c in drift
        if c.drifted and _main_distance(c) >= policy.drift.large_shift
    ]
    return "; ".join(reasons[:3])


def time_windows(raw: pd.DataFrame, time_column: str | None, window: str) -> np.ndarray | None:
    """Each row's time window (``None`` without a time column)."""
    if time_column is None:
        return None
    if time_column not in raw.columns:
        from apprentice.errors import ConfigError

        raise ConfigError(f"the time column '{time_column}' is not in the current data")
    stamps = pd.to_datetime(raw[time_column], errors="coerce", utc=True)
    windows = stamps.dt.floor(window).dt.strftime("%Y-%m-%dT%H:%M").fillna("unknown")
    return np.asarray(windows.to_numpy())


def check(
    bundle: Any,
    raw: pd.DataFrame,
    *,
    policy: Policy | None = None,
    profile: dict[str, Any] | None = None,
    time_column: str | None = None,
    window: str = "1D",
) -> MonitorResult:
    """Compare raw current rows (as read from a file or the prediction log) with the
    reference profile; labels are used when the target column is present."""
    from apprentice.monitor import cbpe
    from apprentice.monitor.profile import encode_target, load_profile, typed_features
    from apprentice.monitor.quality import quality_checks

    started = time.monotonic()
    policy = policy or Policy()
    profile = profile or load_profile(bundle)
    task = bundle.task
    raw = raw.reset_index(drop=True)
    raw.columns = pd.Index([str(c) for c in raw.columns])
    labels = None
    if bundle.target is not None and bundle.target in raw.columns:
        labels = encode_target(raw[bundle.target], task, bundle.classes)
    windows = time_windows(raw, time_column, window)
    features = raw.drop(columns=[c for c in (bundle.target,) if c in raw.columns])
    typed = typed_features(bundle, features) if len(raw) else features
    output = bundle.predictor.predict_frame(typed) if len(raw) else np.zeros((0, 0))
    joint = joint_drift(profile, typed, policy.drift) if len(raw) else []
    drift, score = feature_drift(profile, typed, policy.drift, joint)
    quality = quality_checks(
        profile,
        typed,
        raw=bundle._select(features) if bundle.input_columns and len(raw) else None,
        raw_columns=list(features.columns),
        input_columns=bundle.input_columns,
        policy=policy.quality,
    )
    prediction = prediction_drift(profile, output, task, policy)
    performance = (
        labelled_performance(profile, output, labels, task, policy, windows, bundle.threshold)
        if labels is not None and len(raw)
        else None
    )
    estimated = None
    if task != "regression" and profile.get("calibration") and len(raw):
        estimated = cbpe.estimate(profile["calibration"], output, task, bundle.threshold)
    return conclude(
        profile,
        policy,
        rows=len(raw),
        drift=drift,
        score=score,
        quality=quality,
        prediction=prediction,
        performance=performance,
        estimated=estimated,
        started=started,
        joint=joint,
    )


def conclude(
    profile: dict[str, Any],
    policy: Policy,
    *,
    rows: int,
    drift: list[ColumnDrift],
    score: float,
    quality: dict[str, Any],
    prediction: dict[str, Any] | None,
    performance: dict[str, Any] | None,
    estimated: dict[str, Any] | None,
    started: float,
    joint: list[JointDrift] | None = None,
) -> MonitorResult:
    """The alerts from the findings of a check, and its result (``joint``: the pairs'
    tests, adjusted with the columns'; ``None``: the profile predates them)."""
    if estimated is not None:
        ref_acc = profile.get("reference_metrics", {}).get("accuracy")
        if ref_acc is not None:
            estimated["reference_accuracy"] = ref_acc
    notes: list[str] = []
    alerts: list[dict[str, Any]] = []
    if rows < policy.drift.min_rows:
        notes.append(f"only {rows} current rows: too few for drift verdicts")
    if drift_alert(drift, score, policy.drift):
        drifted = sorted((c for c in drift if c.drifted), key=lambda c: -c.importance)
        alerts.append(
            {
                "check": "feature_drift",
                "severity": drift_severity(drift, score, policy.drift),
                "message": f"importance-weighted drift score {score:.2f}; drifted: "
                + ", ".join(
                    f"{c.column} (importance {c.importance:.2f}, moved {_main_distance(c):.2f})"
                    for c in drifted[:5]
                ),
            }
        )
    if joint is None:
        notes.append(NO_JOINT)
    else:
        found = joint_alert(joint, policy.drift)
        if found is not None:
            alerts.append(found)
    alerts.extend(quality["issues"])
    if prediction and prediction["drifted"]:
        alerts.append({"check": "prediction_drift", "message": "the predictions have drifted"})
    if performance:
        alert = performance_alert(performance)
        if alert is not None:
            alerts.append(alert)
    if estimated is not None:
        untrusted = outside_support(drift, quality, policy)
        if untrusted:
            estimated["trusted"] = False
            estimated["why_not_trusted"] = untrusted
            notes.append(f"the label-free estimate is not trusted: {untrusted}")
        else:
            estimated["trusted"] = True
    if (
        estimated is not None
        and estimated["trusted"]
        and estimated.get("reference_accuracy") is not None
    ):
        drop = estimated["reference_accuracy"] - estimated["accuracy"]
        if drop > policy.performance.max_drop:
            alerts.append(
                {
                    "check": "estimated_performance",
                    "message": f"estimated accuracy {estimated['accuracy']:.3f} (CBPE, no "
                    f"labels) is {drop:.3f} below the reference",
                }
            )
    return MonitorResult(
        rows=rows,
        drift=drift,
        score=score,
        quality=quality,
        prediction=prediction,
        performance=performance,
        estimated=estimated,
        alerts=alerts,
        notes=notes,
        joint=joint or [],
        seconds=time.monotonic() - started,
    )
