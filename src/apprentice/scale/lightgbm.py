"""Train LightGBM on data that does not fit one worker, with LightGBM's own Dask estimators.

Why: ``apprentice.train`` holds the training rows, the feature matrix and the cross-validation
folds in one process. Past a few million rows that no longer fits one worker; what does fit
is the *search* on a sample. So the job is split in two:

1. a normal :func:`apprentice.train` run on a sample (the **template**): it learns the
   cleaning recipe, the feature pipeline and, by cross-validation, which LightGBM
   configuration to use and for how many rounds;
2. :func:`train_lightgbm_on_dask` (this module): the full table of *cleaned* rows, as a
   ``dask.dataframe``, is split partition by partition, the template's fitted feature pipeline
   is replayed partition by partition (``map_partitions``, the bundle's own runtime, so serving
   applies exactly the same transform), and ``lightgbm.DaskLGBMClassifier`` /
   ``DaskLGBMRegressor`` trains one model over all workers (LightGBM's data-parallel tree
   learner, one process per worker, as many threads as the worker has). ``.to_local()`` gives
   a plain booster, written in its native text format into an ordinary bundle: the template's
   recipe + feature spec + the new booster, raw row in, prediction out.

The holdout is never gathered: each partition predicts its own holdout rows on its worker and
only ``(y, prediction)`` comes back (a few floats per row), from which the usual
:func:`~apprentice.evaluate.holdout_metrics` compute the metrics with bootstrap intervals.

What is approximate, on purpose, and written into the manifest:

* **The split** is a hash of each row's content (all columns, target included) mixed with the
  seed: deterministic whatever the partitioning, the same on any cluster, and exact copies of a
  row always land on the same side (no duplicate leaks from training into the holdout). It is
  *not stratified* and not grouped or time-ordered: at this scale class shares are within a
  fraction of a percent of the table's, which is why the sample run, not this one, is the
  place for a group or time split.
* **The feature pipeline is fitted on the sample**: category levels, the medians of the
  linear view and target encodings come from the sample (rare levels seen only in the full
  data fall into "other"/missing, as they would for new data at serving time). Target
  encodings were learned on sample rows that are also training rows here.
* **The number of rounds**: LightGBM's early stopping is not reliable in distributed training
  (each worker would stop on its own part of the evaluation set), so a fixed number of rounds
  is trained, at most ``round_factor`` times the template's early-stopped count (more data
  supports more rounds at the same learning rate), and the best prefix of the model is chosen
  on a validation slice split off the training rows (``validation_size``, hashed like the
  holdout): each partition scores the model's raw output at about 20 checkpoints and returns
  one loss sum per checkpoint. With ``validation_size=0`` the template's count is used as it
  is.
* **The decision threshold** for binary F1 is the template's, tuned on the sample.
* **Distributed LightGBM** finds its histogram bins from each worker's rows and grows trees on
  summed histograms: the model is the one in-process LightGBM would fit to within that binning
  (the tests check the holdout quality against an in-process fit on the same rows).

The bundle carries no monitoring reference profile (that needs raw reference rows); attach one
with :func:`apprentice.monitor.profile.attach_profile` from a raw sample if the model will be
monitored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.errors import ClusterError, ConfigError, TargetError

if TYPE_CHECKING:
    from apprentice.bundle.model import Bundle
    from apprentice.evaluate import Interval
    from apprentice.workflows.train import TrainResult

Progress = Callable[[str], None]

#: Side of the split a row falls on (see :func:`split_assignment`).
TRAIN, VALIDATION, HOLDOUT = 0, 1, 2
#: The most boosting rounds this module trains, whatever the template says.
MAX_ROUNDS = 5000
#: Checkpoints at which the validation slice scores the model's prefixes.
CHECKPOINTS = 20

#: LightGBM parameter names as the scikit-learn wrapper (and so the Dask estimators) expects
#: them: the template's ``lgb.train`` aliases would otherwise compete with the wrapper's
#: defaults (``feature_fraction`` against ``colsample_bytree=1.0``).
_SKLEARN_NAMES = {
    "feature_fraction": "colsample_bytree",
    "sub_feature": "colsample_bytree",
    "bagging_fraction": "subsample",
    "sub_row": "subsample",
    "bagging_freq": "subsample_freq",
    "lambda_l1": "reg_alpha",
    "reg_lambda": "reg_lambda",
    "lambda_l2": "reg_lambda",
    "min_data_in_leaf": "min_child_samples",
    "min_sum_hessian_in_leaf": "min_child_weight",
    "min_gain_to_split": "min_split_gain",
    "seed": "random_state",
    "num_iterations": "n_estimators",
}
#: Set by this module or by the Dask estimator itself, never taken from the template.
_DROPPED = frozenset(
    {"num_threads", "num_class", "objective", "metric", "num_machines", "n_jobs", "nthread"}
)
_ESTIMATORS = {
    "binary": "lightgbm.DaskLGBMClassifier",
    "multiclass": "lightgbm.DaskLGBMClassifier",
    "regression": "lightgbm.DaskLGBMRegressor",
}
_MIX = 0x9E3779B97F4A7C15


@dataclass
class DaskTrainResult:
    """What :func:`train_lightgbm_on_dask` returns.

    ``holdout_y`` and ``holdout_pred`` are the gathered holdout labels (class indices or
    values) and the model's output (probabilities ``(n, n_classes)`` or values), in the order
    of the partitions, exactly what the metrics were computed from.
    """

    path: Path
    bundle: Bundle
    task: str
    target: str
    metrics: dict[str, Interval]
    n_train: int
    n_validation: int
    n_holdout: int
    n_dropped: int
    rounds: int
    rounds_trained: int
    sample_rows: int
    config: str
    params: dict[str, Any]
    seconds: float
    holdout_y: np.ndarray = field(repr=False)
    holdout_pred: np.ndarray = field(repr=False)
    workers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from apprentice.bundle.io import json_safe
        from apprentice.evaluate import metrics_to_dict

        return dict(
            json_safe(
                {
                    "bundle": str(self.path),
                    "task": self.task,
                    "target": self.target,
                    "metrics": metrics_to_dict(self.metrics),
                    "n_train": self.n_train,
                    "n_validation": self.n_validation,
                    "n_holdout": self.n_holdout,
                    "n_dropped": self.n_dropped,
                    "rounds": self.rounds,
                    "rounds_trained": self.rounds_trained,
                    "sample_rows": self.sample_rows,
                    "config": self.config,
                    "params": self.params,
                    "workers": self.workers,
                    "seconds": self.seconds,
                    "notes": self.notes,
                    "timings": self.timings,
                }
            )
        )


# --------------------------------------------------------------------------- the split


def split_assignment(
    frame: pd.DataFrame, *, seed: int, test_size: float, validation_size: float = 0.0
) -> np.ndarray:
    """``TRAIN`` (0), ``VALIDATION`` (1) or ``HOLDOUT`` (2) for each row of ``frame``.

    A function of the row's values (every column, in order) and the seed only: the same row
    gets the same side in any partition, on any worker, in any run. The values are hashed as
    typed (pandas' ``hash_pandas_object``), so compute it on frames cleaned the same way
    (:func:`clean_with_template`): ``3`` as an integer and ``3.0`` as a float hash differently.
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=np.int8)
    try:
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    except TypeError:  # unhashable cells (lists, dicts): hash their text
        hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy(
            dtype=np.uint64
        )
    x = hashed ^ np.uint64((seed * _MIX + _MIX) % 2**64)
    # splitmix64's finaliser: every input bit moves every output bit
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    u = (x >> np.uint64(11)).astype(np.float64) * 2.0**-53
    out = np.full(len(frame), TRAIN, dtype=np.int8)
    out[u < test_size + validation_size] = VALIDATION
    out[u < test_size] = HOLDOUT
    return out


# --------------------------------------------------------------------------- targets


_TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1"})
_FALSE_WORDS = frozenset({"false", "no", "n", "f", "0"})


def _label_key(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    text = str(value).strip().casefold()
    if text.endswith(".") and len(text) > 1 and not text[:-1].replace(".", "").isdigit():
        text = text[:-1].rstrip()  # '>50k.' is '>50k', as the target cleaning merges them
    return text or None


def _class_lookup(classes: list[Any]) -> dict[str, int]:
    """Label keys to class indices; a boolean target column also finds yes/no classes."""
    lookup: dict[str, int] = {}
    for i, label in enumerate(classes):
        key = _label_key(label)
        if key is not None:
            lookup[key] = i
    if len(classes) == 2:
        keys = [_label_key(c) for c in classes]
        truthy = [k in _TRUE_WORDS for k in keys]
        falsy = [k in _FALSE_WORDS for k in keys]
        if sum(truthy) == 1 and sum(falsy) == 1:
            lookup.setdefault("true", truthy.index(True))
            lookup.setdefault("false", falsy.index(True))
    return lookup


def _encode_target(series: pd.Series, task: str, lookup: Mapping[str, int]) -> np.ndarray:
    """Class indices (-1 when missing or unknown) or float values (NaN when missing)."""
    if task == "regression":
        if pd.api.types.is_bool_dtype(series.dtype):
            return np.array(series.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        values = pd.to_numeric(series, errors="coerce")
        out = np.array(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        out[~np.isfinite(out)] = np.nan
        return out
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        table = np.array(
            [lookup.get(_label_key(c) or "", -1) for c in series.cat.categories] + [-1],
            dtype=np.int64,
        )
        return table[np.where(codes >= 0, codes, len(table) - 1)]
    cache: dict[Any, int] = {}
    out = np.empty(len(series), dtype=np.int64)
    for i, value in enumerate(series.tolist()):
        try:
            out[i] = cache[value]
        except (KeyError, TypeError):
            code = lookup.get(_label_key(value) or "", -1)
            with contextlib.suppress(TypeError):  # an unhashable label is not cached
                cache[value] = code
            out[i] = code
    return out


# --------------------------------------------------------------------------- partitions


@dataclass(frozen=True)
class _Plan:
    """Everything a partition task needs, small and picklable."""

    target: str
    task: str
    n_classes: int
    lookup: dict[str, int]
    spec: dict[str, Any]
    seed: int
    test_size: float
    validation_size: float
    columns: tuple[str, ...]


_RUNTIMES: dict[str, Any] = {}
_BOOSTERS: dict[str, Any] = {}


def _runtime(spec: dict[str, Any]) -> Any:
    from apprentice.bundle.runtime import FeatureRuntime

    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    runtime = _RUNTIMES.get(key)
    if runtime is None:
        _RUNTIMES.clear()
        runtime = _RUNTIMES[key] = FeatureRuntime(spec)
    return runtime


def _booster(text: str) -> Any:
    import lightgbm as lgb

    key = hashlib.sha256(text.encode()).hexdigest()
    booster = _BOOSTERS.get(key)
    if booster is None:
        _BOOSTERS.clear()
        booster = _BOOSTERS[key] = lgb.Booster(model_str=text)
    return booster


def _side(part: pd.DataFrame, plan: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """The split side of each row and its encoded target (-1 / NaN when unusable)."""
    side = split_assignment(
        part[list(plan.columns)],
        seed=plan.seed,
        test_size=plan.test_size,
        validation_size=plan.validation_size,
    )
    y = _encode_target(part[plan.target], plan.task, plan.lookup)
    return side, y


def _usable(y: np.ndarray, task: str) -> np.ndarray:
    return np.isfinite(y) if task == "regression" else y >= 0


def _matrix(part: pd.DataFrame, plan: _Plan, which: int) -> np.ndarray:
    """The rows of one side of the split as ``[features..., label]`` (float64)."""
    side, y = _side(part, plan)
    return _rows(part, plan, (side == which) & _usable(y, plan.task), y)


def _rows(part: pd.DataFrame, plan: _Plan, keep: np.ndarray, y: np.ndarray) -> np.ndarray:
    runtime = _runtime(plan.spec)
    if not keep.any():
        return np.zeros((0, runtime.n_outputs + 1))
    X = runtime.transform(part.loc[keep])
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.column_stack([np.asarray(X, dtype=np.float64), y[keep].astype(np.float64)])


def _checkpoint_losses(
    part: pd.DataFrame, plan: _Plan, model_text: str, checkpoints: tuple[int, ...]
) -> tuple[int, np.ndarray]:
    """The partition's validation rows, and their summed loss under the model's first ``k``
    rounds for each checkpoint ``k``."""
    data = _matrix(part, plan, VALIDATION)
    losses = np.zeros(len(checkpoints))
    n = data.shape[0]
    if n:
        booster = _booster(model_text)
        X, y = data[:, :-1], data[:, -1]
        raw: np.ndarray | None = None
        start = 0
        for j, stop in enumerate(checkpoints):
            step = np.asarray(
                booster.predict(
                    X, raw_score=True, start_iteration=start, num_iteration=stop - start
                ),
                dtype=float,
            )
            raw = step if raw is None else raw + step
            losses[j] = _loss_sum(plan.task, y, raw)
            start = stop
    return n, losses


def _loss_sum(task: str, y: np.ndarray, raw: np.ndarray) -> float:
    """The objective's loss summed over rows: log loss, or squared error for regression."""
    if task == "regression":
        return float(np.sum((y - raw) ** 2))
    if task == "binary":
        return float(np.sum(np.logaddexp(0.0, raw) - y * raw))
    z = raw - raw.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.sum(log_norm - z[np.arange(len(y)), y.astype(np.int64)]))


def _holdout_part(
    part: pd.DataFrame, plan: _Plan, model_text: str
) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """The partition's row counts by side, and ``y`` and the model's output on its holdout
    rows: nothing else leaves the worker."""
    side, y = _side(part, plan)
    usable = _usable(y, plan.task)
    counts = {
        "train": int(((side == TRAIN) & usable).sum()),
        "validation": int(((side == VALIDATION) & usable).sum()),
        "holdout": int(((side == HOLDOUT) & usable).sum()),
        "dropped": int((~usable).sum()),
    }
    data = _rows(part, plan, (side == HOLDOUT) & usable, y)
    width = plan.n_classes if plan.task == "multiclass" else 1
    if data.shape[0] == 0:
        return counts, np.zeros(0), np.zeros((0, width))
    raw = np.asarray(_booster(model_text).predict(data[:, :-1]), dtype=float)
    return counts, data[:, -1], raw.reshape(len(raw), width)


# --------------------------------------------------------------------------- cleaning


_CLEANERS: dict[str, Any] = {}


def _cleaner(recipe: str) -> Any:
    from apprentice.bundle.cleaning import load_cleaner

    key = hashlib.sha256(recipe.encode()).hexdigest()
    cleaner = _CLEANERS.get(key)
    if cleaner is None:
        _CLEANERS.clear()
        cleaner = _CLEANERS[key] = load_cleaner(recipe)
    return cleaner


def _clean_part(
    part: pd.DataFrame, recipe: str | None, inputs: tuple[str, ...], target: str
) -> pd.DataFrame:
    from apprentice.bundle.cleaning import clean_frame

    present = set(map(str, part.columns))
    frame = part.rename(columns=str)
    raw = pd.DataFrame(
        {
            c: frame[c] if c in present else pd.Series([None] * len(part), index=part.index)
            for c in inputs
        },
        index=part.index,
    )
    typed = clean_frame(_cleaner(recipe) if recipe is not None else None, raw)
    if target in present:
        typed[target] = frame[target].set_axis(typed.index)
    else:
        typed[target] = None
    return typed


def clean_with_template(data: Any, template: TrainResult) -> Any:
    """Raw rows (a dask DataFrame) cleaned partition by partition with the template's recipe.

    The result is what :func:`train_lightgbm_on_dask` expects: the typed columns the template's
    bundle feeds its feature pipeline, plus the target column as it was (its labels are matched
    to the template's classes by :func:`train_lightgbm_on_dask`). Cleaning with the template's
    own recipe is what makes the bundle's predictions on raw rows equal the ones the holdout
    metrics were computed from.
    """
    from apprentice.bundle.cleaning import clean_frame

    manifest = template.bundle.manifest
    name = manifest.get("recipe")
    recipe = (template.path / str(name)).read_text(encoding="utf-8") if name else None
    inputs = tuple(str(c) for c in manifest.get("input_columns", []))
    target = template.target
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in inputs})
    meta = clean_frame(_cleaner(recipe) if recipe is not None else None, empty)
    meta[target] = data._meta[target] if target in data.columns else pd.Series(dtype=object)
    return data.map_partitions(_clean_part, recipe, inputs, target, meta=meta)


# --------------------------------------------------------------------------- the template


@dataclass
class _Choice:
    config: Any  # ModelConfig
    rounds: int
    note: str | None


def _lightgbm_choice(template: TrainResult) -> _Choice:
    """The template's LightGBM configuration and its early-stopped number of rounds."""
    result = template.search
    if result is None:
        raise ConfigError(
            "the template has no search result; pass the TrainResult that apprentice.train "
            "returned for the sample"
        )
    final = result.final
    lgb_members = [(m, w) for m, w in final.members if m.config.family == "lightgbm"]
    if lgb_members:
        model, _weight = max(lgb_members, key=lambda mw: mw[1])
        note = None
        if len(final.members) > 1:
            note = (
                f"the sample's champion is the ensemble '{final.name}'; the Dask model is its "
                f"heaviest LightGBM member '{model.config.name}' alone"
            )
        return _Choice(model.config, max(1, int(model.n_iterations)), note)
    board = result.leaderboard
    by_name = {c.name: c for c in result.candidates}
    for row in board.itertuples(index=False):
        candidate = by_name.get(str(row.model))
        if candidate is None or candidate.family != "lightgbm" or not candidate.ok:
            continue
        rounds = candidate.refit_iterations(len(result.folds)) or 100
        return _Choice(
            candidate.config,
            int(rounds),
            f"the sample's champion '{result.champion}' is not LightGBM; the Dask model uses "
            f"the best LightGBM candidate on the sample's leaderboard, '{candidate.name}' "
            f"(rank {row.rank})",
        )
    raise ConfigError(
        "the template's search fitted no LightGBM candidate, so there is no LightGBM "
        "configuration to scale out; train the sample again with the lightgbm family "
        "(families=[..., 'lightgbm'])"
    )


def _tree_spec(template: TrainResult) -> dict[str, Any] | None:
    """The template's fitted tree-view feature spec, or None when it never fitted one."""
    manifest = template.bundle.manifest
    name = dict(manifest.get("features", {})).get("tree")
    if name is not None:
        spec = json.loads((template.path / str(name)).read_text(encoding="utf-8"))
        return dict(spec)
    if template.search is not None:
        for model in template.search.models.values():
            pipe = model.pipelines.get("tree")
            if pipe is not None:
                return dict(pipe.to_spec())
    return None


def _estimator_params(config: Any, task: str, n_classes: int, seed: int) -> dict[str, Any]:
    """The template's LightGBM parameters, named as the scikit-learn wrapper names them."""
    from apprentice.learn.models import lightgbm_params

    params = lightgbm_params(config, task, n_classes, 1, seed)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in _DROPPED:
            continue
        out[_SKLEARN_NAMES.get(key, key)] = value
    out["objective"] = {"binary": "binary", "multiclass": "multiclass"}.get(task, "regression")
    return out


def _checkpoints(rounds: int) -> tuple[int, ...]:
    step = max(1, math.ceil(rounds / CHECKPOINTS))
    points = [*range(step, rounds, step), rounds]
    return tuple(sorted(set(points)))


# --------------------------------------------------------------------------- the job


def train_lightgbm_on_dask(
    data: Any,
    *,
    target: str,
    template: TrainResult,
    client: Any,
    out: str | Path,
    task: str | None = None,
    seed: int = 0,
    test_size: float | None = None,
    validation_size: float = 0.05,
    round_factor: float = 2.0,
    n_boot: int = 1000,
    progress: Progress | None = None,
) -> DaskTrainResult:
    """Train the template's LightGBM configuration on every row of ``data`` on ``client``.

    ``data``: a ``dask.dataframe.DataFrame`` of cleaned rows (the columns the template's
    cleaning recipe produces, plus ``target``), of any size; nothing but counts, a few loss
    sums and the holdout's ``(y, prediction)`` pairs is gathered to this process.
    ``template``: the :class:`~apprentice.workflows.train.TrainResult` of
    :func:`apprentice.train` on a sample of the same table. ``test_size`` defaults to the
    template's. ``validation_size`` (of all rows) chooses the number of rounds, up to
    ``round_factor`` times the template's (0: the template's count, no validation slice).
    ``out``: where the bundle is written. See the module docstring for what is approximate.
    """
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    if client is None:
        raise ConfigError(
            "training with the LightGBM Dask estimator needs a Dask cluster; pass --dask "
            "local:N or a scheduler address (without one, use apprentice train)"
        )
    import dask.dataframe as dd
    import lightgbm as lgb
    from dask import delayed

    from apprentice.bundle.io import json_safe, load_bundle, write_bundle
    from apprentice.evaluate import holdout_metrics, metrics_to_dict
    from apprentice.scale.cluster import compute

    if not isinstance(data, dd.DataFrame):
        raise ConfigError("pass the cleaned rows as a dask.dataframe.DataFrame")
    manifest = dict(template.bundle.manifest)
    chosen_task = task or template.task
    if chosen_task != template.task:
        raise ConfigError(
            f"the template was trained for {template.task}, not {chosen_task}; train the "
            "sample with the same task"
        )
    if target != template.target:
        raise ConfigError(
            f"the template was trained for the target '{template.target}', not '{target}'"
        )
    columns = [str(c) for c in data.columns]
    if target not in columns:
        raise TargetError(f"the target column '{target}' is not in the cleaned rows")
    split_doc = dict(manifest.get("split") or {})
    holdout_share = float(test_size if test_size is not None else split_doc.get("test_size", 0.25))
    if not 0.0 < holdout_share < 1.0 or not 0.0 <= validation_size < 1.0 - holdout_share:
        raise ConfigError(
            "test_size must be between 0 and 1, and validation_size at least 0 with the two "
            "together below 1"
        )
    if round_factor < 1.0:
        raise ConfigError("round_factor must be at least 1 (the template's rounds)")
    n_classes = int(manifest.get("n_classes") or 0)
    classes = list(template.classes or [])
    choice = _lightgbm_choice(template)
    spec = _tree_spec(template)
    if spec is None:
        raise ConfigError(
            f"the template's bundle ({template.champion}) holds no tree-view feature "
            "pipeline; train the sample with the lightgbm family in the portfolio"
        )
    needed = [str(c["name"]) for c in spec["columns"]]
    missing = [c for c in needed if c not in columns]
    if missing:
        shown = ", ".join(f"'{c}'" for c in missing[:5])
        raise ConfigError(
            f"{len(missing)} feature column(s) of the template are not in the cleaned rows "
            f"({shown}); clean the table with the template's recipe"
        )
    notes: list[str] = [
        "holdout split by a hash of each row's content and the seed, partition by partition "
        "(not stratified)",
        "feature pipeline fitted on the sample, replayed partition by partition",
    ]
    if choice.note:
        notes.append(choice.note)
    plan = _Plan(
        target=target,
        task=chosen_task,
        n_classes=n_classes,
        lookup=_class_lookup(classes),
        spec=spec,
        seed=seed,
        test_size=holdout_share,
        validation_size=validation_size,
        columns=tuple(columns),
    )
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    timings: dict[str, float] = {}

    # -- the training matrix, partition by partition, and LightGBM's Dask estimator
    t = time.monotonic()
    width = int(_runtime(spec).n_outputs)
    train_rows = data.map_partitions(_matrix, plan, TRAIN, meta=np.zeros((0, width + 1)))
    X = train_rows[:, :width]
    y = train_rows[:, width]
    use_validation = validation_size > 0
    rounds_trained = (
        min(MAX_ROUNDS, max(choice.rounds + 10, math.ceil(choice.rounds * round_factor)))
        if use_validation
        else choice.rounds
    )
    params = _estimator_params(choice.config, chosen_task, n_classes, seed)
    params["n_estimators"] = rounds_trained
    cls = lgb.DaskLGBMRegressor if chosen_task == "regression" else lgb.DaskLGBMClassifier
    estimator = cls(client=client, **params)
    categorical = list(spec.get("categorical_indices", []))
    say(
        f"training {choice.config.name} for up to {rounds_trained} rounds on "
        f"{data.npartitions} partitions on {len(workers)} Dask workers"
    )
    try:
        with warnings.catch_warnings():
            # the wrapper's n_jobs is always there and always replaced by the worker's threads
            warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
            # LightGBM's Dask module prints ("Finding random open ports ...") on stdout,
            # which belongs to --json output: its chatter goes to stderr instead
            with contextlib.redirect_stdout(sys.stderr):
                estimator.fit(X, y, categorical_feature=categorical or "auto")
    except ClusterError:
        raise
    except Exception as exc:
        raise ClusterError(
            f"LightGBM training on the Dask cluster failed ({type(exc).__name__}: "
            f"{str(exc)[:200]}); nothing was written. Check that every worker can open a "
            "port to the others (LightGBM's own network) and has memory for its partitions"
        ) from None
    local = estimator.to_local()
    booster = local.booster_
    full_text = booster.model_to_string()
    trained = int(booster.current_iteration())
    timings["train_s"] = time.monotonic() - t

    # -- the number of rounds: the best prefix on the validation slice
    rounds = trained
    if use_validation and trained > 1:
        t = time.monotonic()
        points = _checkpoints(trained)
        # the model goes to each worker once, not into every task
        [text_future] = client.scatter([full_text], broadcast=True, hash=False)
        sums = compute(
            client,
            *[
                delayed(_checkpoint_losses, pure=True)(part, plan, text_future, points)
                for part in data.to_delayed()
            ],
        )
        n_seen = sum(n for n, _ in sums)
        total = np.sum([losses for _, losses in sums], axis=0)
        if n_seen == 0:
            rounds = min(choice.rounds, trained)
            notes.append("no row fell into the validation slice: the template's rounds are kept")
        else:
            rounds = points[int(np.argmin(total))]
            if rounds == trained:
                notes.append(
                    f"the validation loss still fell at the last of {trained} rounds: more "
                    "rounds (round_factor) may help"
                )
        timings["rounds_s"] = time.monotonic() - t
    model_text = booster.model_to_string(num_iteration=rounds)
    say(f"{rounds} of {trained} rounds kept")

    # -- holdout: predicted where it lies, only (y, prediction) and counts gathered
    t = time.monotonic()
    [text_future] = client.scatter([model_text], broadcast=True, hash=False)
    pieces = compute(
        client,
        *[delayed(_holdout_part, pure=True)(part, plan, text_future) for part in data.to_delayed()],
    )
    counts = pd.DataFrame([c for c, _y, _p in pieces])
    n_train = int(counts["train"].sum())
    n_validation = int(counts["validation"].sum())
    n_holdout = int(counts["holdout"].sum())
    n_dropped = int(counts["dropped"].sum())
    if n_dropped:
        notes.append(
            f"{n_dropped:,} row(s) with a missing target (or a class the sample never had) "
            "were left out"
        )
    if n_train < 20 or n_holdout < 5:
        raise TargetError(
            f"the split leaves {n_train:,} training and {n_holdout:,} holdout rows with a "
            "target; add rows or change test_size"
        )
    holdout_y = np.concatenate([y_part for _c, y_part, _p in pieces])
    raw = np.concatenate([p for _c, _y, p in pieces])
    if chosen_task == "regression":
        holdout_pred = raw[:, 0]
    elif chosen_task == "binary":
        holdout_pred = np.column_stack([1.0 - raw[:, 0], raw[:, 0]])
        holdout_y = holdout_y.astype(np.int64)
    else:
        holdout_pred = raw
        holdout_y = holdout_y.astype(np.int64)
    threshold = template.threshold
    metrics = holdout_metrics(
        chosen_task, holdout_y, holdout_pred, threshold=threshold, n_boot=n_boot, seed=seed
    )
    timings["evaluate_s"] = time.monotonic() - t

    # -- the bundle: the template's recipe and feature spec, the new booster
    t = time.monotonic()
    recipe_name = manifest.get("recipe")
    recipe = (template.path / str(recipe_name)).read_text(encoding="utf-8") if recipe_name else None
    sample_rows = int(split_doc.get("train_rows") or 0)
    estimator_name = _ESTIMATORS[chosen_task]
    name = f"{choice.config.name}_dask"
    public_params = {k: v for k, v in params.items() if k != "n_estimators"}
    timings["total_s"] = time.monotonic() - started
    training_doc = {
        "engine": "dask",
        "estimator": estimator_name,
        "workers": len(workers),
        "partitions": int(data.npartitions),
        "rows": n_train,
        "validation_rows": n_validation,
        "holdout_rows": n_holdout,
        "dropped_rows": n_dropped,
        "sample_rows": sample_rows,
        "sample_champion": template.champion,
        "config": choice.config.name,
        "params": public_params,
        "rounds": rounds,
        "rounds_trained": trained,
        "template_rounds": choice.rounds,
        "round_factor": round_factor,
        "notes": notes,
    }
    document = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
        "classes": manifest.get("classes"),
        "decision_threshold": threshold,
        "decision_threshold_source": manifest.get("decision_threshold_source"),
        "metric": manifest.get("metric"),
        "input_columns": manifest.get("input_columns", []),
        "feature_columns": manifest.get("feature_columns", []),
        "excluded_columns": manifest.get("excluded_columns", {}),
        "schema": manifest.get("schema"),
        "split": {
            "kind": "hash",
            "stratified": False,
            "test_size": holdout_share,
            "validation_size": validation_size,
            "seed": seed,
            "train_rows": n_train,
            "validation_rows": n_validation,
            "holdout_rows": n_holdout,
        },
        "source": manifest.get("source"),
        "training": training_doc,
        "metrics": metrics_to_dict(metrics),
        "warnings": [n for n in notes if "may help" in n],
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    export = {
        "name": name,
        "task": chosen_task,
        "n_classes": n_classes,
        "features": {"tree": spec},
        "members": [
            {
                "weight": 1.0,
                "view": "tree",
                "family": "lightgbm",
                "name": name,
                "task": chosen_task,
                "kind": "lightgbm",
                "model_text": model_text,
            }
        ],
    }
    path = write_bundle(out, export=export, recipe_json=recipe, manifest=json_safe(document))
    bundle = load_bundle(path)
    timings["bundle_s"] = time.monotonic() - t
    seconds = time.monotonic() - started
    timings["total_s"] = seconds
    say(f"bundle written to {path} in {seconds:.1f} s")
    return DaskTrainResult(
        path=Path(path),
        bundle=bundle,
        task=chosen_task,
        target=target,
        metrics=metrics,
        n_train=n_train,
        n_validation=n_validation,
        n_holdout=n_holdout,
        n_dropped=n_dropped,
        rounds=rounds,
        rounds_trained=trained,
        sample_rows=sample_rows,
        config=choice.config.name,
        params=public_params,
        seconds=seconds,
        holdout_y=holdout_y,
        holdout_pred=holdout_pred,
        workers=workers,
        notes=notes,
        timings=timings,
    )
