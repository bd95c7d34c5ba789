"""Scoring a trained model on labelled rows: ``apprentice.evaluate(bundle, frame)``.

The same metrics, intervals and decision threshold as the run's holdout (the bundle's own
threshold for binary label metrics), on any labelled frame a user has: a later month, a
partner's sample, the rows of one segment. The model is anything with the bundle's interface
(``task``, ``classes``, ``target``, ``threshold``, ``predict`` / ``predict_proba`` on raw
rows, ``check_columns``): a :class:`~apprentice.bundle.Bundle`, or a run result whose
``bundle`` is one. This stage does not load bundles itself (it sits before the bundle stage).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from apprentice.decision import encode_labels
from apprentice.errors import InputError
from apprentice.evaluate.metrics import N_BOOT, Interval, holdout_metrics

__all__ = ["Scores", "score"]


@dataclass
class Scores:
    """Metrics of a model on labelled rows, each with its bootstrap interval."""

    task: str
    target: str
    rows: int
    scored: int
    metrics: dict[str, Interval]
    threshold: float | None = None
    #: labels that are missing or not a class the model knows, with a few examples
    unusable: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """One row per metric: ``metric``, ``value``, ``low``, ``high``."""
        return pd.DataFrame(
            [{"metric": k, **v.to_dict()} for k, v in self.metrics.items()],
            columns=["metric", "value", "low", "high"],
        )

    def __getitem__(self, metric: str) -> Interval:
        return self.metrics[metric]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "target": self.target,
            "rows": self.rows,
            "scored": self.scored,
            "threshold": self.threshold,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "unusable": self.unusable,
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in list(self.metrics.items())[:3])
        return f"Scores({self.scored} of {self.rows} rows, {shown})"

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{v.value:.4f}</td>"
            f"<td style='text-align:right'>[{v.low:.4f}, {v.high:.4f}]</td></tr>"
            for k, v in self.metrics.items()
        )
        cut = f"; decision threshold {self.threshold:.4g}" if self.threshold is not None else ""
        skipped = self.rows - self.scored
        note = f"; {skipped} row(s) without a usable label left out" if skipped else ""
        return (
            f"<div><b>{self.scored} labelled rows</b> of '{html.escape(self.target)}' "
            f"({html.escape(self.task)}){cut}{note}<table><thead><tr><th>metric</th>"
            f"<th>value</th><th>95% interval</th></tr></thead><tbody>{body}</tbody></table></div>"
        )


def _model(model: Any) -> Any:
    if hasattr(model, "predict") and hasattr(model, "task"):
        return model
    inner = getattr(model, "bundle", None)
    if inner is not None and hasattr(inner, "predict"):
        return inner
    raise InputError(
        f"cannot score with a {type(model).__name__}: give a bundle (apprentice.load_bundle"
        "(PATH), or r.bundle of a run result)"
    )


def score(
    model: Any,
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
) -> Scores:
    """The model's metrics on a labelled frame, with ``confidence`` bootstrap intervals.

    ``target`` defaults to the model's target column. Rows whose label is missing or not a
    class the model knows are left out and counted; columns the model needs must be present
    (an :class:`~apprentice.errors.InputError` names the missing ones).
    """
    bundle = _model(model)
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"evaluate needs a pandas DataFrame of labelled rows, not {type(frame)}")
    target = target or bundle.target
    if not target or target not in frame.columns:
        raise InputError(
            f"the frame has no target column {target!r}: its columns are "
            + ", ".join(repr(str(c)) for c in list(frame.columns)[:20])
        )
    check = bundle.check_columns(list(frame.columns))
    if check.missing:
        raise InputError(f"the frame {check.describe()}")
    if bundle.task != "regression" and not bundle.classes:
        raise InputError("the model does not list its classes; it cannot score labels")
    y = encode_labels(frame[target], bundle.task, bundle.classes)
    usable = ~np.isnan(y) if bundle.task == "regression" else y >= 0
    bad = frame.loc[~usable, target]
    examples = [str(v) for v in bad.dropna().astype(str).unique()[:5]]
    unusable: dict[str, Any] = {"rows": int((~usable).sum()), "examples": examples}
    if not usable.any():
        raise InputError(
            f"no row of {target!r} holds a usable label"
            + (
                f" (labels such as {', '.join(repr(e) for e in examples)} are not "
                f"classes of the model: {bundle.classes})"
                if examples
                else " (all missing)"
            )
        )
    rows = frame.loc[usable].drop(columns=[target])
    if bundle.task == "regression":
        pred = np.asarray(bundle.predict(rows), dtype=float)
    else:
        pred = np.asarray(bundle.predict_proba(rows), dtype=float)
    metrics = holdout_metrics(
        bundle.task,
        y[usable],
        pred,
        threshold=bundle.threshold,
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )
    return Scores(
        task=bundle.task,
        target=str(target),
        rows=len(frame),
        scored=int(usable.sum()),
        metrics=metrics,
        threshold=bundle.threshold,
        unusable=unusable,
    )
