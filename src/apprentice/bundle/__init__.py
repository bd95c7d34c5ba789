"""The bundle stage: one verified artifact from a raw row to a prediction.

``load_bundle`` and :class:`Bundle` need only this package and the stages left of learn, so
a server can load a bundle without importing learn or evaluate. ``train`` and
``TrainResult`` are kept here as public names: the training itself lives in
:mod:`apprentice.workflows.train` (it spans learn, evaluate and bundle) and is imported on
first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apprentice.bundle.input_check import InputWarning
from apprentice.bundle.io import load_bundle, read_manifest, verify_bundle, write_bundle
from apprentice.bundle.model import Bundle
from apprentice.lazy import lazy_exports
from apprentice.modelfiles.sklearn_skops import TRUSTED_TYPES

if TYPE_CHECKING:
    from apprentice.workflows.train import TrainResult, train

_LAZY = {"TrainResult": "apprentice.workflows.train", "train": "apprentice.workflows.train"}

__all__ = [
    "TRUSTED_TYPES",
    "Bundle",
    "InputWarning",
    "TrainResult",
    "load_bundle",
    "read_manifest",
    "train",
    "verify_bundle",
    "write_bundle",
]


__getattr__ = lazy_exports(__name__, _LAZY)
