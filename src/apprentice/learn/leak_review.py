"""Leakage found as a reviewer would: by comparing each column with the others.

A column is suspicious when its evidence is far beyond what every other column shows:

* **dominates** — dropping it costs the model far more than dropping any other column
  (drop-column importance, refitted without it), and it is strong on its own;
* **alone near the full model** — on its own it scores almost what the whole model scores,
  far above the next best single column;
* **near-deterministic for one class** — one of its values covers most rows of a class and
  almost no other row (the "exit interview done" pattern), unlike any other column;
* **sets one class apart** — with several classes, it alone tells one class from the rest
  almost perfectly, nearly as well as all columns together and far better than any other
  column (a leak about one outcome hides in an average over all classes);
* **leaks that hide each other** — several columns each reach almost the full model's score
  alone, far above every other column, and dropping them *together* costs the model much
  (one at a time each costs nothing: the others stand in for it); unless they are all one
  measurement written several ways (see "honest redundancy" below);
* **spells the outcome** — a column of few values (at most 20) that is nearly a one-to-one
  code of the outcome: both ``H(y|x)`` and ``H(x|y)`` small, measured as the symmetric
  uncertainty ``U = 2 I(x; y) / (H(x) + H(y))`` against the classes, each class set against
  the rest, or the target's deciles, at least ``spell_min`` and ``spell_margin`` above any
  other such column. Honest columns describe the case, not the outcome: a site, a grade or a
  sex holds several outcomes per value (the best honest column of the 12 design tables,
  penguins' island, reaches U 0.51; a noisy ward-per-class code or a yes/no recorded for one
  class reaches 0.63-0.89). This sees a leak even where the honest columns are as strong;
* **a record of the outcome** — a number that marks a class (Youden's J at least
  ``unlinked_j``) yet, *inside* the classes, is tied to no other number (largest absolute
  rank correlation with another numeric column, averaged over the classes, at most
  ``unlinked_max``), while every other number that marks a class on the table is tied at
  least ``unlinked_margin`` more. A measurement of the case (a flipper's length) stays tied
  to the case's other measurements (body mass) inside each class; a record of the outcome
  (days to a post-outcome event) is linked to them only through the class (the same
  data-processing argument as below). Where the honest numbers are themselves untied inside
  the classes there is no contrast, and the rule stays silent;
* **too good to be true** — the model with it beats the model without it by a jump that
  the other columns together never reach: both scores are reported.

**Honest redundancy is not a leak.** Two records of the outcome (a rescue list, a lifeboat
number) are linked *through the target*: each is the outcome plus its own slips, so by the
data-processing inequality one tells no more about the other than the target itself does,
``I(A; B) <= min(I(A; y), I(B; y))``. Two near-copies of an honest measurement (a stone's
carat and its width) are linked *directly*: one tells far more about the other than the
target does. The review measures these mutual informations (binned, bias-corrected) between
the members of a masking group; members linked beyond the inequality (``I(A; B)`` above
``copy_ratio`` times the smaller target link) are one measurement, and a group that is a
single such measurement is judged column by column like any other (where its copies keep
each other from standing out), not as leaks that hide each other. The group rule needs at
least two distinct measurements. (A leak with exact copies of itself is, by these numbers,
the same as an honest measurement written twice: it is left to the single-column rules.)

The checks run on the training part only (never the holdout), on a row sample, with a cheap
model (a small, regularised histogram gradient boosting, two folds, its raw scores ranked):
a few seconds on a large table, and capped by ``seconds``. Scores are in *skill* units so
the tasks compare: ROC AUC becomes ``2 * AUC - 1`` (one-vs-rest, weighted by prevalence,
for several classes), R² stays R².
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from apprentice.learn.features import as_datetime, as_keys, as_numeric, infer_kind

logger = logging.getLogger(__name__)

#: rows the review samples from the training part
REVIEW_ROWS = 4000
#: columns whose drop-column importance is measured (the strongest by permutation / alone)
DROP_CANDIDATES = 3
#: a group refit drops together every column (at most GROUP_MAX, the strongest) that alone
#: reaches GROUP_SHARE of the full model's skill and at least GROUP_MIN: leaks that mask each
#: other (several records of the outcome) each cost nothing when dropped one at a time
GROUP_MIN = 0.7
GROUP_SHARE = 0.85
GROUP_MAX = 5
#: the fewest rows of a class for its own one-vs-rest scores to be judged
CLASS_MIN_ROWS = 30


@dataclass(frozen=True)
class Thresholds:
    """The rules' limits, in skill units (tuned on the design half of ``benchmarks/leakage.py``)."""

    #: dominates: the drop in skill when the column is removed, at least ...
    drop_min: float = 0.04
    #: ... and at least this many times the largest drop of any other column
    drop_ratio: float = 3.0
    #: ... and the column alone reaches at least this skill
    drop_single_min: float = 0.8
    #: alone near the full model: single skill at least this share of the full model's ...
    near_full_share: float = 0.85
    #: ... at least this skill in absolute terms ...
    near_full_min: float = 0.8
    #: ... and this far above the next best single column
    near_full_margin: float = 0.1
    #: one class: a value's recall minus its false-positive rate for a class (Youden's J) ...
    one_class_j: float = 0.8
    #: ... this far above the best J of any other column
    one_class_margin: float = 0.35
    #: one class alone near the full model (several classes): the column's skill for one
    #: class against the rest at least this ...
    class_min: float = 0.95
    #: ... at least this share of the full model's skill for that class ...
    class_share: float = 0.9
    #: ... and this far above the next best column's for that class
    class_margin: float = 0.1
    #: a group of mutually masking columns: removed together, the skill drops at least this
    group_drop_min: float = 0.1
    #: ... each member alone reaching this share of the full model's skill
    group_share: float = GROUP_SHARE
    #: two members are copies of one measurement (honest redundancy) when their mutual
    #: information exceeds this many times the smaller of their informations about the target
    #: (records of the outcome stay at or below 1: the data-processing inequality)
    copy_ratio: float = 1.2
    #: spells the outcome: a code column (at most 20 values) whose symmetric uncertainty with
    #: the outcome (the classes, one class against the rest, or the target's deciles) is at
    #: least this ...
    spell_min: float = 0.6
    #: ... and this far above any other code column's
    spell_margin: float = 0.1
    #: a record of the outcome: a numeric column that marks a class with J at least this ...
    unlinked_j: float = 0.7
    #: ... while inside the classes no other numeric column is tied to it beyond this
    #: (largest absolute rank correlation, averaged over the classes)
    unlinked_max: float = 0.3
    #: ... and every other numeric column that marks a class (J at least 0.5) is tied inside
    #: the classes at least this much more (a table whose honest measurements are untied
    #: inside the classes gives no contrast: the rule stays silent there)
    unlinked_margin: float = 0.3
    #: high severity: single skill at least this, or a jump at least ``high_jump``
    high_single: float = 0.9
    high_jump: float = 0.1


THRESHOLDS = Thresholds()


@dataclass
class LeakFinding:
    """One suspicious column: which rules fired, the numbers, and what to do."""

    column: str
    severity: str
    rules: list[str]
    evidence: dict[str, Any]
    message: str

    @property
    def summary(self) -> str:
        """One line: the column, the severity and the key numbers."""
        ev = self.evidence
        metric = ev.get("metric", "score")
        parts = [f"alone {metric} {ev['single_score']:.3f}"]
        if "without_score" in ev:
            parts.append(f"model {ev['full_score']:.3f} with it, {ev['without_score']:.3f} without")
        if "class_alone" in ev:
            parts.append(f"'{ev['class_alone']}' vs the rest {ev['class_single_score']:.3f} alone")
        if "group_without_score" in ev:
            parts.append(f"{ev['group_without_score']:.3f} without {len(ev['group'])} such columns")
        if "spelling_u" in ev:
            parts.append(f"a code of {ev['spelled']} (U {ev['spelling_u']:.2f})")
        if "within_class_link" in ev:
            parts.append(
                f"marks '{ev['record_class']}' (J {ev['record_j']:.2f}), tied to nothing "
                f"within the classes ({ev['within_class_link']:.2f})"
            )
        if "share_of_class" in ev:
            parts.append(
                f"{ev['share_of_class']:.0%} of '{ev['class']}' vs {ev['share_of_others']:.0%}"
            )
        return f"'{self.column}' ({self.severity}): " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "severity": self.severity,
            "rules": list(self.rules),
            "evidence": dict(self.evidence),
            "message": self.message,
            "summary": self.summary,
        }


@dataclass
class LeakReview:
    """What the review measured: the findings and its cost."""

    findings: list[LeakFinding] = field(default_factory=list)
    metric: str = ""
    full_score: float | None = None
    rows: int = 0
    columns: int = 0
    dropped_checked: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    #: the measures the rules judge (see :func:`judge`), kept to re-judge with other limits
    measures: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "metric": self.metric,
            "full_score": None if self.full_score is None else round(self.full_score, 4),
            "rows": self.rows,
            "columns": self.columns,
            "drop_column_checked": list(self.dropped_checked),
            "seconds": round(self.seconds, 2),
            "note": self.note,
        }


# --------------------------------------------------------------------------- encoding


def _encode(frame: pd.DataFrame, kinds: dict[str, str]) -> tuple[np.ndarray, list[str]]:
    """A float matrix for the cheap model: numbers as they are, dates as their instant,
    categories as the rank of their frequency (the 250 most frequent values; the rest share
    one code: a tree isolates a value in two cuts, and no encoder runs at every predict),
    text columns left out. Returns the matrix and the column names kept."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for name in frame.columns:
        series = frame[name]
        kind = kinds.get(str(name)) or infer_kind(series)
        if kind in ("numeric", "boolean"):
            values = np.asarray(as_numeric(series), dtype=float)
        elif kind == "datetime":
            stamps = as_datetime(series)
            values = stamps.astype("int64").to_numpy().astype(float)
            values[stamps.isna().to_numpy()] = np.nan
        elif kind == "categorical":
            keys = pd.Series(as_keys(series))
            top = keys.value_counts().index[:250]
            codes = pd.Categorical(keys, categories=top).codes.astype(float)
            codes[(codes < 0) & keys.notna().to_numpy()] = 250.0
            codes[keys.isna().to_numpy()] = np.nan
            values = codes
        else:
            continue
        if np.isfinite(values).sum() < 2 or np.nanstd(values) == 0:
            continue
        values = values.copy()
        values[~np.isfinite(values)] = np.nan
        blocks.append(values)
        names.append(str(name))
    if not blocks:
        return np.zeros((len(frame), 0)), names
    return np.column_stack(blocks), names


# --------------------------------------------------------------------------- scores


def _auc(hit: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by ranks (ties averaged): the chance a row of the class outranks another."""
    from scipy.stats import rankdata

    n_pos = int(hit.sum())
    n_neg = len(hit) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    ranks = rankdata(score)
    return float((ranks[hit].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _skill(task: str, y: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> float:
    """ROC AUC as ``2 AUC - 1`` (one-vs-rest for several classes), or R²."""
    if task == "regression":
        y = y.astype(float)
        total = float(((y - y.mean()) ** 2).sum())
        return 1.0 - float(((y - pred) ** 2).sum()) / total if total > 0 else 0.0
    if task == "binary":
        return 2.0 * _auc(y == classes[-1], pred[:, -1]) - 1.0
    # one-vs-rest, weighted by prevalence over the classes with 10 rows or more: a class of
    # three rows gives an AUC that is noise, and must not sway the verdict
    aucs, weights = [], []
    for j, c in enumerate(classes):
        count = int((y == c).sum())
        if 10 <= count < len(y):
            aucs.append(_auc(y == c, pred[:, j]))
            weights.append(count)
    return 2.0 * float(np.average(aucs, weights=weights)) - 1.0 if aucs else 0.0


def per_class_skill(y: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """``2 AUC - 1`` of each class against the rest, for the classes a review can judge: at
    least :data:`CLASS_MIN_ROWS` rows and 2% of the rows, and not every row."""
    out: dict[str, float] = {}
    for j, c in enumerate(classes):
        count = int((y == c).sum())
        if count >= max(CLASS_MIN_ROWS, 0.02 * len(y)) and count < len(y):
            out[str(c)] = 2.0 * _auc(y == c, pred[:, j]) - 1.0
    return out


def _model(task: str, seed: int, n_classes: int = 2) -> Any:
    """The cheap model: 50 boosting rounds of 15 leaves; with more than ten classes (a tree
    per class per round) the rounds shrink so a fit costs about what ten classes cost."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    rounds = 50 if n_classes <= 10 else max(10, 500 // n_classes)
    common: dict[str, Any] = {
        "max_iter": rounds,
        "learning_rate": 0.15,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 10,
        # a class of a few rows has near-zero second derivatives: unregularised, its leaf
        # values run to thousands and the raw scores of every class turn to noise
        "l2_regularization": 1.0,
        "early_stopping": False,
        "random_state": seed,
    }
    if task == "regression":
        return HistGradientBoostingRegressor(**common)
    return HistGradientBoostingClassifier(**common)


class _CrossFit:
    """Two-fold out-of-fold predictions of the cheap model, with or without a column."""

    def __init__(self, X: np.ndarray, y: np.ndarray, task: str, seed: int) -> None:
        self.X, self.y, self.task, self.seed = X, y, task, seed
        rng = np.random.default_rng(seed)
        self.fold = rng.permutation(len(y)) % 2
        self.classes = np.unique(y)

    def _predict(self, model: Any, X: np.ndarray) -> np.ndarray:
        """Regression: the prediction. Classification: the raw score of each class (the
        boosting margin, not the probability: on separable data probabilities round to 0 and 1
        and the ties they make sink the AUC of a near-perfect model below its own columns'); a
        class absent from the fold's training rows scores lowest."""
        if self.task == "regression":
            return np.asarray(model.predict(X), dtype=float)
        scores = np.full((len(X), len(self.classes)), -1e6)
        got = np.asarray(model.decision_function(X), dtype=float)
        index = np.searchsorted(self.classes, model.classes_)
        if len(index) == 1:  # one class in the fold's training rows: it alone scores
            scores[:, index[0]] = 0.0
        elif got.ndim == 1:  # two classes: one margin, for the second
            scores[:, index[0]], scores[:, index[1]] = -got, got
        else:
            scores[:, index] = got
        return scores

    def score(
        self, without: int | list[int] | None = None, permute: bool = False
    ) -> tuple[float, Any]:
        """Skill out of fold; ``without`` drops that column, or those columns (refit), unless
        ``permute``."""
        keep = np.ones(self.X.shape[1], dtype=bool)
        if without is not None and not permute:
            keep[without] = False
        if not keep.any():
            return 0.0, ([], None)
        X = self.X[:, keep]
        shape = (len(self.y),) if self.task == "regression" else (len(self.y), len(self.classes))
        pred = np.zeros(shape)
        models = []
        for f in (0, 1):
            tr, va = self.fold != f, self.fold == f
            k = 1 if self.task == "regression" else len(self.classes)
            model = _model(self.task, self.seed, k).fit(X[tr], self.y[tr])
            pred[va] = self._predict(model, X[va])
            models.append(model)
        return _skill(self.task, self.y, pred, self.classes), (models, pred)

    def permutation(self, models: list[Any], base: float) -> np.ndarray:
        """The skill lost when each column is shuffled on the held-out fold (no refit)."""
        rng = np.random.default_rng(self.seed + 1)
        out = np.zeros(self.X.shape[1])
        shape = (len(self.y),) if self.task == "regression" else (len(self.y), len(self.classes))
        for j in range(self.X.shape[1]):
            pred = np.zeros(shape)
            for f, model in zip((0, 1), models, strict=True):
                va = self.fold == f
                X = self.X[va].copy()
                X[:, j] = X[rng.permutation(len(X)), j]
                pred[va] = self._predict(model, X)
            out[j] = base - _skill(self.task, self.y, pred, self.classes)
        return out


def single_skills(
    frame: pd.DataFrame,
    y: np.ndarray,
    task: str,
    kinds: dict[str, str],
    seed: int,
    per_class: dict[str, dict[str, float]] | None = None,
) -> dict[str, float]:
    """Each column alone, out of fold, in skill units (binned target means). With several
    classes, ``per_class`` (when given) receives each column's skill for each class against
    the rest (see :func:`per_class_skill`), keyed by class then column."""
    from apprentice.learn.leakage import _binned, _oof_bin_means

    classes = np.unique(y)
    out: dict[str, float] = {}
    for name in frame.columns:
        kind = kinds.get(str(name)) or infer_kind(frame[name])
        codes = _binned(frame[name], kind, 64 if task == "regression" else 32)
        if codes is None or len(np.unique(codes)) < 2:
            continue
        if task == "regression":
            pred = _oof_bin_means(codes, y.astype(float), seed)
            value = _skill(task, y, pred, classes)
            if kind in ("numeric", "boolean"):
                rho = pd.Series(as_numeric(frame[name])).corr(
                    pd.Series(y.astype(float)), method="spearman"
                )
                if rho is not None and np.isfinite(rho):
                    value = max(value, float(rho) ** 2)
        else:
            onehot = (y[:, None] == classes[None, :]).astype(float)
            pred = _oof_bin_means(codes, onehot, seed)
            value = _skill(task, y, pred, classes)
            value = abs(value) if task == "binary" else value
            if per_class is not None and task == "multiclass":
                for c, v in per_class_skill(y, pred, classes).items():
                    per_class.setdefault(c, {})[str(name)] = max(v, 0.0)
        out[str(name)] = max(float(value), 0.0)
    return out


def one_class_j(
    frame: pd.DataFrame, y: np.ndarray, task: str, kinds: dict[str, str]
) -> dict[str, dict[str, tuple[float, str, float, float]]]:
    """Per class, per column, how well the column marks that class out: Youden's J (the share
    of the class's rows on the marked side minus the share of the other rows there), the
    marked side in words, and both shares. A category marks one value; a number marks the
    values below or above a cut (20 quantile bins)."""
    from apprentice.learn.leakage import _binned

    if task == "regression":
        return {}
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) == 2:  # one class's marks are the other's: the rarer one is told
        keep = int(np.argmin(counts))
        classes, counts = classes[keep : keep + 1], counts[keep : keep + 1]
    out: dict[str, dict[str, tuple[float, str, float, float]]] = {}
    for name in frame.columns:
        kind = kinds.get(str(name)) or infer_kind(frame[name])
        codes = _binned(frame[name], kind, 20)
        if codes is None:
            continue
        shift = codes - codes.min()
        size = int(shift.max()) + 1
        ordered = kind != "categorical"
        for c, n_c in zip(classes, counts, strict=True):
            if n_c < CLASS_MIN_ROWS or n_c == len(y):
                continue
            inside = np.bincount(shift[y == c], minlength=size) / n_c
            outside = np.bincount(shift[y != c], minlength=size) / (len(y) - n_c)
            k = int(np.argmax(inside - outside))
            best = (float(inside[k] - outside[k]), ("=", k), float(inside[k]), float(outside[k]))
            if ordered and size > 2:
                # a cut: the missing code (-1, shifted to 0 when present) stays out of it
                first = 1 if codes.min() < 0 else 0
                cin, cout = np.cumsum(inside[first:]), np.cumsum(outside[first:])
                for side, a, b in (("<=", cin, cout), (">", cin[-1] - cin, cout[-1] - cout)):
                    m = int(np.argmax(a - b))
                    if a[m] - b[m] > best[0]:
                        best = (float(a[m] - b[m]), (side, m + first), float(a[m]), float(b[m]))
            side, k = best[1]
            label = _side_label(frame[name], kind, codes, side, k + int(codes.min()))
            out.setdefault(str(c), {})[str(name)] = (best[0], label, best[2], best[3])
    return out


def _side_label(series: pd.Series, kind: str, codes: np.ndarray, side: str, code: int) -> str:
    """The marked side in words: ``= value`` or ``<= cut`` / ``> cut``."""
    if side == "=":
        return "= " + _value_label(series, kind, codes, code)
    if kind == "datetime":
        stamps = as_datetime(series)
        cut = stamps[(codes <= code) & (codes >= 0)].max()
        return f"{side} {cut}"
    values = np.asarray(as_numeric(series), dtype=float)
    below = values[(codes <= code) & (codes >= 0)]
    cut = float(np.nanmax(below)) if below.size and np.isfinite(below).any() else float("nan")
    return f"{side} {cut:g}"


def _value_label(series: pd.Series, kind: str, codes: np.ndarray, code: int) -> str:
    rows = np.flatnonzero(codes == code)
    if code == -1 or len(rows) == 0:
        return "(missing)"
    if kind == "categorical":
        return str(pd.Series(as_keys(series)).iloc[rows[0]])
    values = np.asarray(as_numeric(series), dtype=float)[rows] if kind != "datetime" else None
    if values is None or not np.isfinite(values).any():
        return f"bin {code}"
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    return f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"


def _link_codes(series: pd.Series, kind: str) -> np.ndarray | None:
    """Codes 0..19 of a column for mutual information: numbers and dates in 20 quantile bins,
    categories as their 19 most frequent values and one code for the rest; missing is a
    code of its own (a slip recorded as a blank is part of the record)."""
    from apprentice.learn.leakage import _binned

    if kind == "categorical":
        keys = pd.Series(as_keys(series))
        top = keys.value_counts().index[:19]
        codes = pd.Categorical(keys, categories=top).codes.astype(np.int64)
        codes[(codes < 0) & keys.notna().to_numpy()] = 19
        return codes
    return _binned(series, kind, 20)


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information of two code arrays in nats, plug-in with the Miller-Madow
    correction (each entropy plus (occupied cells - 1) / 2n), never below 0."""
    n = len(a)
    if n == 0:
        return 0.0
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    joint = np.bincount(ia * (ib.max() + 1) + ib).astype(float)

    def entropy(counts: np.ndarray) -> float:
        counts = counts[counts > 0]
        p = counts / n
        return float(-(p * np.log(p)).sum() + (len(counts) - 1) / (2 * n))

    value = entropy(np.bincount(ia).astype(float)) + entropy(np.bincount(ib).astype(float))
    return max(value - entropy(joint), 0.0)


def group_links(
    frame: pd.DataFrame, y: np.ndarray, task: str, kinds: dict[str, str], members: list[str]
) -> dict[str, Any]:
    """The mutual information of each member with the target (``target``, by name) and of
    each pair of members (``pairs``: ``[a, b, I(a; b)]``). The target is binned in 20
    quantiles for regression."""
    if len(members) < 2:
        return {}
    if task == "regression":
        ranks = pd.Series(np.asarray(y, dtype=float)).rank(pct=True, method="average")
        y_codes = np.minimum((ranks.to_numpy() * 20).astype(np.int64), 19)
    else:
        y_codes = np.unique(np.asarray(y), return_inverse=True)[1]
    codes: dict[str, np.ndarray] = {}
    for name in members:
        got = _link_codes(frame[name], kinds.get(name) or infer_kind(frame[name]))
        if got is not None:
            codes[name] = got
    target = {name: mutual_information(c, y_codes) for name, c in codes.items()}
    pairs = [
        [a, b, mutual_information(codes[a], codes[b])]
        for i, a in enumerate(codes)
        for b in list(codes)[i + 1 :]
    ]
    return {"target": target, "pairs": pairs}


def measurements(group: list[str], links: dict[str, Any], t: Thresholds) -> list[list[str]]:
    """The members of a masking group gathered into distinct measurements: two members are
    one measurement when their mutual information exceeds ``t.copy_ratio`` times the
    smaller of their informations about the target (linked directly, not through the
    target); the gathering is transitive."""
    parent = {name: name for name in group}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    target: dict[str, float] = links.get("target") or {}
    for a, b, mi in links.get("pairs") or []:
        if a in parent and b in parent:
            bound = min(target.get(a, 0.0), target.get(b, 0.0))
            if mi > t.copy_ratio * bound:
                parent[root(a)] = root(b)
    out: dict[str, list[str]] = {}
    for name in group:
        out.setdefault(root(name), []).append(name)
    return list(out.values())


# --------------------------------------------------------------------------- codes and links

#: a column with at most this many distinct values is a code the spelling rule can read
SPELL_MAX_VALUES = 20
#: the fewest other numeric columns for a within-class link to mean anything
LINK_MIN_OTHERS = 3
#: a column is checked for within-class links when it marks a class with J at least this
LINK_MIN_J = 0.5


def _entropy(codes: np.ndarray) -> float:
    counts = np.unique(codes, return_counts=True)[1].astype(float)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def spelling(
    frame: pd.DataFrame, y: np.ndarray, task: str, kinds: dict[str, str]
) -> dict[str, tuple[float, str, float, float]]:
    """How nearly each low-cardinality column (2 to :data:`SPELL_MAX_VALUES` values, missing
    a value of its own) is a one-to-one code of the outcome: the symmetric uncertainty
    ``U = 2 I(x; y) / (H(x) + H(y))`` (1: each value names one outcome and each outcome one
    value; both ``H(y|x)`` and ``H(x|y)`` small), against the classes, each class (of at least
    :data:`CLASS_MIN_ROWS` rows) set against the rest, or the target's deciles (regression);
    the largest, with what it was measured against (``""``: the classes or deciles; else the
    class code) and the shares ``I / H(y)`` and ``I / H(x)``. Honest columns describe the
    case, not the outcome: the best of the 12 design tables' honest columns reach U 0.51
    (penguins' island, which holds all Gentoo and part of the Adelie)."""
    y = np.asarray(y)
    if task == "regression":
        ranks = pd.Series(y.astype(float)).rank(pct=True, method="average").to_numpy()
        targets = [("", np.minimum((ranks * 10).astype(np.int64), 9))]
    else:
        classes, codes_y = np.unique(y, return_inverse=True)
        targets = [("", codes_y)]
        if len(classes) > 2:
            for k, c in enumerate(classes):
                count = int((codes_y == k).sum())
                if CLASS_MIN_ROWS <= count < len(y):
                    targets.append((str(c), (codes_y == k).astype(np.int64)))
    out: dict[str, tuple[float, str, float, float]] = {}
    for name in frame.columns:
        kind = kinds.get(str(name)) or infer_kind(frame[name])
        if kind not in ("numeric", "boolean", "categorical"):
            continue
        keys = pd.Series(as_keys(frame[name])) if kind == "categorical" else frame[name]
        codes = pd.factorize(pd.Series(keys).astype(object), use_na_sentinel=False)[0]
        if not 2 <= len(np.unique(codes)) <= SPELL_MAX_VALUES:
            continue
        hx = _entropy(codes)
        best: tuple[float, str, float, float] | None = None
        for against, target in targets:
            hy = _entropy(target)
            if hx + hy <= 0 or hy <= 0:
                continue
            mi = mutual_information(codes, target)
            u = 2.0 * mi / (hx + hy)
            if best is None or u > best[0]:
                best = (float(u), against, float(mi / hy), float(mi / hx))
        if best is not None:
            out[str(name)] = best
    return out


def within_class_links(
    frame: pd.DataFrame,
    y: np.ndarray,
    task: str,
    kinds: dict[str, str],
    determinism: dict[str, dict[str, tuple[float, str, float, float]]],
) -> dict[str, tuple[float, float, str]]:
    """For each numeric column that marks a class (J at least :data:`LINK_MIN_J`), how tied
    it is to the table's other numeric columns *within* the classes: the largest absolute rank
    correlation with any other numeric column inside each class (of at least
    :data:`CLASS_MIN_ROWS` rows), averaged over the classes by their size; beside it the
    largest over all rows, and the column it is tied to most within the classes. A measurement
    of the case (a flipper's length) stays tied to the case's other measurements (the body
    mass) inside every class; a record of the outcome (days until a post-outcome event) is
    tied to them only through the class, and inside a class only to its own slips. Needs
    :data:`LINK_MIN_OTHERS` other numeric columns; classification only."""
    if task == "regression":
        return {}
    y = np.asarray(y)
    numeric = [
        str(c) for c in frame.columns if (kinds.get(str(c)) or infer_kind(frame[c])) == "numeric"
    ]
    if len(numeric) <= LINK_MIN_OTHERS:
        return {}
    best_j: dict[str, float] = {}
    for columns in determinism.values():
        for name, got in columns.items():
            best_j[name] = max(best_j.get(name, 0.0), float(got[0]))
    marked = [c for c in numeric if best_j.get(c, 0.0) >= LINK_MIN_J]
    if not marked:
        return {}
    values = pd.DataFrame(
        {c: np.asarray(as_numeric(frame[c]), dtype=float) for c in numeric}
    ).reset_index(drop=True)
    overall = values.rank().corr().abs()
    classes, counts = np.unique(y, return_counts=True)
    out: dict[str, tuple[float, float, str]] = {}
    inside: dict[str, list[tuple[pd.Series, int]]] = {c: [] for c in marked}
    for c, n_c in zip(classes, counts, strict=True):
        if n_c < CLASS_MIN_ROWS:
            continue
        corr = values[y == c].rank().corr().abs()
        for name in marked:
            inside[name].append((corr[name].drop(name), int(n_c)))
    for name in marked:
        if not inside[name]:
            continue
        maxima = [float(s.max()) if s.notna().any() else 0.0 for s, _ in inside[name]]
        weights = [n for _, n in inside[name]]
        link = float(np.average(maxima, weights=weights))
        summed = sum(s.fillna(0.0) * n for s, n in inside[name])
        partner = str(summed.idxmax()) if len(summed) else ""
        others = overall[name].drop(name)
        out[name] = (link, float(others.max()) if others.notna().any() else 0.0, partner)
    return out


# --------------------------------------------------------------------------- the review


def review_leakage(
    frame: pd.DataFrame,
    y: np.ndarray,
    task: str,
    kinds: dict[str, str],
    *,
    seed: int = 0,
    max_rows: int = REVIEW_ROWS,
    seconds: float | None = None,
    thresholds: Thresholds = THRESHOLDS,
    class_names: list[str] | None = None,
) -> LeakReview:
    """Review every column of the training part ``frame`` against the target ``y`` (class
    codes for classification). ``seconds`` caps the drop-column refits (the single-column and
    full-model measures always run). See the module docstring for the rules."""
    begun = time.monotonic()
    y = np.asarray(y)
    review = LeakReview(metric="R2" if task == "regression" else "ROC AUC")
    n = len(frame)
    if n < 40 or frame.shape[1] == 0:
        review.note = "too few rows or columns to review"
        return review
    idx = np.arange(n)
    if n > max_rows:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))
    sub = frame.iloc[idx].reset_index(drop=True)
    target = y[idx].astype(float) if task == "regression" else y[idx]
    review.rows, review.columns = len(sub), sub.shape[1]
    single_by_class: dict[str, dict[str, float]] = {}
    single = single_skills(sub, target, task, kinds, seed, single_by_class)
    X, names = _encode(sub, kinds)
    if not names:
        review.note = "no column the review can encode"
        return review
    fitter = _CrossFit(X, target, task, seed)
    full, (models, full_pred) = fitter.score()
    full_by_class = (
        per_class_skill(target, full_pred, fitter.classes) if task == "multiclass" else {}
    )
    review.full_score = _to_metric(task, full)
    permuted = fitter.permutation(models, full)
    order = list(np.argsort(-permuted))
    by_single = sorted(range(len(names)), key=lambda j: -single.get(names[j], 0.0))
    candidates: list[int] = []
    for j in order[:DROP_CANDIDATES] + by_single[:1]:
        if j not in candidates and (permuted[j] > 0 or single.get(names[j], 0.0) > 0.3):
            candidates.append(int(j))
    drops: dict[int, float] = {}
    without: dict[int, float] = {}
    for j in candidates:
        if seconds is not None and time.monotonic() - begun > seconds and drops:
            review.note = "drop-column checks cut short by the time allowance"
            break
        if len(names) == 1:
            without[j], drops[j] = 0.0, full
        else:
            without[j] = fitter.score(without=j)[0]
            drops[j] = full - without[j]
        review.dropped_checked.append(names[j])
    group = [
        j
        for j in by_single[:GROUP_MAX]
        if single.get(names[j], 0.0) >= max(GROUP_MIN, GROUP_SHARE * full)
    ]
    group_without: float | None = None
    if len(group) >= 2 and not (seconds is not None and time.monotonic() - begun > seconds):
        group_without = fitter.score(without=group)[0]
        review.dropped_checked.append(" + ".join(names[j] for j in group))
    kept_group = [names[j] for j in group] if group_without is not None else []
    determinism = one_class_j(sub, target, task, kinds)
    review.measures = {
        "names": names,
        "group": kept_group,
        "group_without": group_without,
        "group_links": group_links(sub, target, task, kinds, kept_group),
        "single": single,
        "full": full,
        "permuted": permuted,
        "drops": drops,
        "without": without,
        "determinism": determinism,
        "spelling": spelling(sub, target, task, kinds),
        "links": within_class_links(sub, target, task, kinds, determinism),
        "single_by_class": single_by_class,
        "full_by_class": full_by_class,
        "task": task,
        "class_names": class_names,
    }
    review.findings = judge(review.measures, thresholds)
    review.seconds = time.monotonic() - begun
    logger.info(
        "leakage review: %d rows, %d columns, full %s %.3f, %d finding(s) in %.1f s",
        review.rows,
        review.columns,
        review.metric,
        review.full_score,
        len(review.findings),
        review.seconds,
    )
    return review


def _to_metric(task: str, skill: float) -> float:
    return skill if task == "regression" else (skill + 1.0) / 2.0


def judge(measures: dict[str, Any], t: Thresholds = THRESHOLDS) -> list[LeakFinding]:
    """The findings the rules draw from a review's ``measures`` under the limits ``t``."""
    names: list[str] = measures["names"]
    single: dict[str, float] = measures["single"]
    full: float = measures["full"]
    permuted: np.ndarray = measures["permuted"]
    drops: dict[int, float] = measures["drops"]
    without: dict[int, float] = measures["without"]
    determinism: dict[str, dict[str, tuple[float, str, float, float]]] = measures["determinism"]
    task: str = measures["task"]
    class_names: list[str] | None = measures["class_names"]
    spellings: dict[str, tuple[float, str, float, float]] = measures.get("spelling") or {}
    links: dict[str, tuple[float, float, str]] = measures.get("links") or {}
    metric = "R²" if task == "regression" else "ROC AUC"
    findings: list[LeakFinding] = []
    group: list[str] = measures.get("group") or []
    group_without = measures.get("group_without")
    distinct = measurements(group, measures.get("group_links") or {}, t) if group else []
    if len(distinct) < 2:  # one measurement written several ways: honest redundancy
        group_without = None
    # a cheap model that scores below the best single column (it happens on tiny classes)
    # says nothing trustworthy about what removing a column costs
    trusted = full >= max(single.values(), default=0.0) - 0.05
    for name in sorted(set(single) | set(names)):
        j = names.index(name) if name in names else None
        alone = single.get(name, 0.0)
        next_single = max((v for c, v in single.items() if c != name), default=0.0)
        rules: list[str] = []
        evidence: dict[str, Any] = {
            "metric": metric,
            "single_score": round(_to_metric(task, alone), 4),
            "next_single_score": round(_to_metric(task, next_single), 4),
            "full_score": round(_to_metric(task, full), 4),
        }
        if j is not None and j in drops:
            others = [d for k, d in drops.items() if k != j]
            others += [float(p) for k, p in enumerate(permuted) if k != j and k not in drops]
            next_drop = max(max(others, default=0.0), 0.0)
            evidence["without_score"] = round(_to_metric(task, without[j]), 4)
            scale = 1.0 if task == "regression" else 0.5
            evidence["drop"] = round(scale * drops[j], 4)
            evidence["next_drop"] = round(scale * next_drop, 4)
            if (
                trusted
                and drops[j] >= t.drop_min
                and drops[j] >= t.drop_ratio * max(next_drop, 0.005)
                and alone >= t.drop_single_min
            ):
                rules.append("dominates")
        if (
            alone >= t.near_full_min
            and alone >= t.near_full_share * max(full, alone)
            and alone - next_single >= t.near_full_margin
        ):
            rules.append("alone_near_full")
        if name in group and group_without is not None and "alone_near_full" not in rules:
            outside = max((v for c, v in single.items() if c not in group), default=0.0)
            if (
                alone >= t.near_full_min
                and alone >= t.group_share * max(full, alone)
                and alone - outside >= t.near_full_margin
                and full - group_without >= t.group_drop_min
            ):
                rules.append("masking_group")
                evidence.update(
                    {
                        "group": list(group),
                        "measurements": [list(m) for m in distinct],
                        "group_without_score": round(_to_metric(task, group_without), 4),
                        "outside_single_score": round(_to_metric(task, outside), 4),
                    }
                )
        apart = _sets_class_apart(name, measures, t)
        if apart is not None:
            cls, alone_c, next_c, full_c = apart
            rules.append("class_alone_near_full")
            evidence.update(
                {
                    "class_alone": _class_label(cls, class_names),
                    "class_single_score": round(_to_metric(task, alone_c), 4),
                    "class_next_single_score": round(_to_metric(task, next_c), 4),
                    "class_full_score": round(_to_metric(task, full_c), 4),
                }
            )
        spelled = _spelling_rule(name, spellings, task, class_names, t)
        if spelled is not None:
            rules.append("spells_outcome")
            evidence.update(spelled)
        recorded = _record_rule(name, links, determinism, class_names, t)
        if recorded is not None:
            rules.append("outcome_record")
            evidence.update(recorded)
        marked = _one_class_rule(name, determinism, class_names, t)
        if marked is not None:
            rules.append("one_class")
            evidence.update(marked)
        if not rules:
            continue
        jump = drops.get(j, 0.0) if j is not None else 0.0
        together = (
            full - group_without if "masking_group" in rules and group_without is not None else 0.0
        )
        high = (
            alone >= t.high_single
            or max(jump, together) >= t.high_jump
            or apart is not None
            or "spells_outcome" in rules
        )
        findings.append(
            LeakFinding(
                column=name,
                severity="high" if high else "medium",
                rules=rules,
                evidence=evidence,
                message=_message(name, rules, evidence, metric, jump, high),
            )
        )
    return sorted(findings, key=lambda f: (f.severity != "high", f.column))


def _spelling_rule(
    name: str,
    spellings: dict[str, tuple[float, str, float, float]],
    task: str,
    class_names: list[str] | None,
    t: Thresholds,
) -> dict[str, Any] | None:
    """The "spells the outcome" rule's evidence for ``name``, or ``None`` when it does not
    fire: a near one-to-one code of the outcome, clearly more than any other column."""
    spelled = spellings.get(name)
    if spelled is None:
        return None
    u, against, told_y, told_x = spelled
    next_u = max((v[0] for c, v in spellings.items() if c != name), default=0.0)
    if u < t.spell_min or u - next_u < t.spell_margin:
        return None
    return {
        # the bias correction can lift an exact code a hair above 1
        "spelling_u": round(min(u, 1.0), 4),
        "spelled": _spelled_label(against, task, class_names),
        "share_of_outcome_told": round(told_y, 4),
        "share_of_column_told": round(told_x, 4),
        "next_spelling_u": round(next_u, 4),
    }


def _record_rule(
    name: str,
    links: dict[str, tuple[float, float, str]],
    determinism: dict[str, dict[str, tuple[float, str, float, float]]],
    class_names: list[str] | None,
    t: Thresholds,
) -> dict[str, Any] | None:
    """The "record of the outcome" rule's evidence for ``name``, or ``None``: a number that
    marks a class but, inside the classes, is tied to no other number (every other
    class-marking number clearly more)."""
    linked = links.get(name)
    if linked is None:
        return None
    best = max(
        ((float(v[name][0]), c) for c, v in determinism.items() if name in v),
        default=(0.0, ""),
    )
    others_linked = [v[0] for c, v in links.items() if c != name]
    least = min(others_linked, default=0.0)
    if not (
        best[0] >= t.unlinked_j
        and linked[0] <= t.unlinked_max
        and others_linked
        and least - linked[0] >= t.unlinked_margin
    ):
        return None
    return {
        "record_class": _class_label(best[1], class_names),
        "record_j": round(best[0], 4),
        "within_class_link": round(linked[0], 4),
        "overall_link": round(linked[1], 4),
        "linked_to": linked[2],
        "others_least_link": round(least, 4),
    }


def _one_class_rule(
    name: str,
    determinism: dict[str, dict[str, tuple[float, str, float, float]]],
    class_names: list[str] | None,
    t: Thresholds,
) -> dict[str, Any] | None:
    """The one-class rule's evidence for ``name``, or ``None``: near-deterministic for one
    class, clearly more than any other column."""
    marked = _marks(name, determinism, class_names)
    if marked is None:
        return None
    jv, side, cls, inside, outside, next_j = marked
    if jv < t.one_class_j or jv - next_j < t.one_class_margin:
        return None
    return {
        "marks": side,
        "class": cls,
        "share_of_class": round(inside, 4),
        "share_of_others": round(outside, 4),
        "j": round(jv, 4),
        "next_column_j": round(next_j, 4),
    }


def _sets_class_apart(
    name: str, measures: dict[str, Any], t: Thresholds
) -> tuple[str, float, float, float] | None:
    """With several classes: the class that ``name`` alone tells from the rest almost as well
    as all columns together and far better than any other column, with its skill, the next
    best column's and the full model's for that class (the largest margin wins)."""
    by_class: dict[str, dict[str, float]] = measures.get("single_by_class") or {}
    full_by_class: dict[str, float] = measures.get("full_by_class") or {}
    best: tuple[str, float, float, float] | None = None
    for cls, columns in by_class.items():
        if name not in columns or cls not in full_by_class:
            continue
        alone = columns[name]
        following = max((v for c, v in columns.items() if c != name), default=0.0)
        full = full_by_class[cls]
        if (
            alone >= t.class_min
            and alone >= t.class_share * max(full, alone)
            and alone - following >= t.class_margin
            and (best is None or alone - following > best[1] - best[2])
        ):
            best = (cls, alone, following, full)
    return best


def _class_label(cls: str, class_names: list[str] | None) -> str:
    """A class code (as text) in the user's words, when the names are known."""
    if class_names is not None and cls.lstrip("-").isdigit():
        k = int(cls)
        return class_names[k] if 0 <= k < len(class_names) else cls
    return cls


def _spelled_label(against: str, task: str, class_names: list[str] | None) -> str:
    """What a code column spells, in words."""
    if task == "regression":
        return "the target's deciles"
    if against == "":
        return "the classes"
    return f"'{_class_label(against, class_names)}' against the rest"


def _marks(
    name: str,
    determinism: dict[str, dict[str, tuple[float, str, float, float]]],
    class_names: list[str] | None,
) -> tuple[float, str, str, float, float, float] | None:
    """The class ``name`` marks out best relative to the other columns: its J, the marked
    side, the class (by name), both shares and the best J of any other column for it."""
    best: tuple[float, str, str, float, float, float] | None = None
    for cls, columns in determinism.items():
        if name not in columns:
            continue
        jv, side, inside, outside = columns[name]
        next_j = max((v[0] for c, v in columns.items() if c != name), default=0.0)
        if best is None or jv - next_j > best[0] - best[5]:
            best = (jv, side, _class_label(cls, class_names), inside, outside, next_j)
    return best


def _message(
    name: str, rules: list[str], ev: dict[str, Any], metric: str, jump: float, high: bool
) -> str:
    parts: list[str] = []
    if "one_class" in rules:
        parts.append(
            f"'{name}' {ev['marks']} in {ev['share_of_class']:.0%} of the '{ev['class']}' "
            f"rows but {ev['share_of_others']:.0%} of the others (no other column marks out "
            f"that class like this: best J {ev['next_column_j']:.2f} against {ev['j']:.2f})"
        )
    if "class_alone_near_full" in rules:
        parts.append(
            f"'{name}' alone tells the '{ev['class_alone']}' rows from the others with "
            f"{metric} {ev['class_single_score']:.3f} (next best column "
            f"{ev['class_next_single_score']:.3f}, all columns {ev['class_full_score']:.3f})"
        )
    if "masking_group" in rules:
        others = ", ".join(f"'{c}'" for c in ev["group"] if c != name)
        parts.append(
            f"'{name}' alone reaches {metric} {ev['single_score']:.3f} like {others}, and no "
            f"other column comes near (best {ev['outside_single_score']:.3f}); they hide each "
            f"other: {'too good to be true: ' if high else ''}the model scores "
            f"{ev['full_score']:.3f} with them and "
            f"{ev['group_without_score']:.3f} without all of them"
        )
    if "spells_outcome" in rules:
        parts.append(
            f"'{name}' is nearly a one-to-one code of {ev['spelled']}: symmetric uncertainty "
            f"{ev['spelling_u']:.2f} (its values tell {ev['share_of_outcome_told']:.0%} of "
            f"the outcome's entropy, the outcome {ev['share_of_column_told']:.0%} of the "
            f"column's), when no other column of few values passes {ev['next_spelling_u']:.2f}"
        )
    if "outcome_record" in rules:
        parts.append(
            f"'{name}' marks out '{ev['record_class']}' (J {ev['record_j']:.2f}) yet inside the "
            f"classes is tied to no other number (largest rank correlation "
            f"{ev['within_class_link']:.2f}, with '{ev['linked_to']}'; "
            f"{ev['overall_link']:.2f} over all rows), when every other number that marks a "
            f"class is tied at least {ev['others_least_link']:.2f}: it follows the outcome, "
            "not the case"
        )
    if "alone_near_full" in rules or not parts:
        parts.append(
            f"'{name}' alone reaches {metric} {ev['single_score']:.3f} "
            f"(next best column {ev['next_single_score']:.3f}, all columns "
            f"{ev['full_score']:.3f})"
        )
    if "without_score" in ev:
        verdict = "too good to be true: " if high and jump > 0 else ""
        parts.append(
            f"{verdict}the model scores {metric} {ev['full_score']:.3f} with it and "
            f"{ev['without_score']:.3f} without it, a drop of {ev['drop']:.3f} when no other "
            f"column costs more than {ev['next_drop']:.3f}"
        )
    return (
        "; ".join(parts)
        + f". If '{name}' is recorded after the outcome or derived from it, drop it "
        f"(--drop-column {name}); if it is truly known at prediction time, keep it."
    )
