"""The learn stage: task detection, split, feature pipeline, portfolio, budgeted search,
ensemble, and the scikit-learn estimator :class:`AutoModel`."""

from apprentice.learn.automodel import AutoModel
from apprentice.learn.features import FeaturePipeline, infer_kind
from apprentice.learn.leakage import ID_REASONS, LeakageReport, find_id_like, find_near_perfect
from apprentice.learn.models import FAMILIES, ModelConfig, portfolio
from apprentice.learn.scoring import DEFAULT_METRIC, METRICS, resolve_metric
from apprentice.learn.search import Clock, FinalModel, SearchResult, greedy_ensemble, search
from apprentice.learn.split import SplitSpec, cv_folds, holdout_split, parse_split
from apprentice.learn.task import TargetInfo, detect_task, prepare_target

__all__ = [
    "DEFAULT_METRIC",
    "FAMILIES",
    "ID_REASONS",
    "METRICS",
    "AutoModel",
    "Clock",
    "FeaturePipeline",
    "FinalModel",
    "LeakageReport",
    "ModelConfig",
    "SearchResult",
    "SplitSpec",
    "TargetInfo",
    "cv_folds",
    "detect_task",
    "find_id_like",
    "find_near_perfect",
    "greedy_ensemble",
    "holdout_split",
    "infer_kind",
    "parse_split",
    "portfolio",
    "prepare_target",
    "resolve_metric",
    "search",
]
