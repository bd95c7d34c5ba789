"""The tracking and registry stage: the only code that imports mlflow (inside functions).

* :class:`Tracker`: one MLflow store behind a URI (default ``sqlite:///<workspace>/mlflow.db``,
  artifacts in ``<workspace>/mlartifacts``; ``MLFLOW_TRACKING_URI`` or ``--tracking-uri`` for a
  remote server), checked fast before any work (:meth:`Tracker.check`).
* runs: :meth:`Tracker.log_run` with a :class:`RunLog` (parameters, metrics, tags, artifacts
  and candidate child runs).
* registry: :func:`register_bundle` (alias ``champion`` for a new name, else ``challenger``),
  :func:`list_models`, :func:`show_model`, :func:`promote`, :func:`resolve_model` (a name,
  ``NAME@ALIAS`` or ``NAME/VERSION`` to a local bundle folder).
* :func:`export_pyfunc`: a bundle as an MLflow pyfunc model.
"""

from __future__ import annotations

from apprentice.track.errors import ModelNotFoundError, RegistryError, TrackingError
from apprentice.track.pyfunc import export_pyfunc
from apprentice.track.registry import (
    CHALLENGER,
    CHAMPION,
    ModelInfo,
    Promotion,
    Registration,
    ResolvedModel,
    VersionInfo,
    check_name,
    check_task,
    list_models,
    parse_ref,
    promote,
    register_bundle,
    resolve_model,
    show_model,
)
from apprentice.track.store import ChildRun, RunLog, TrackedRun, Tracker, git_commit
from apprentice.track.uri import check_uri, default_uri, display_uri, resolve_uri

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "ChildRun",
    "ModelInfo",
    "ModelNotFoundError",
    "Promotion",
    "Registration",
    "RegistryError",
    "ResolvedModel",
    "RunLog",
    "TrackedRun",
    "Tracker",
    "TrackingError",
    "VersionInfo",
    "check_name",
    "check_task",
    "check_uri",
    "default_uri",
    "display_uri",
    "export_pyfunc",
    "git_commit",
    "list_models",
    "parse_ref",
    "promote",
    "register_bundle",
    "resolve_model",
    "resolve_uri",
    "show_model",
]
