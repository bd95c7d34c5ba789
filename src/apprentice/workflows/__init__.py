"""Workflows: the only code that spans stages (read -> clean -> guard -> ...).

Names are imported lazily: a workflow pulls in every stage it runs, and ``apprentice --help``
must stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "CleanFileResult": "apprentice.workflows.clean",
    "DemoResult": "apprentice.workflows.demo",
    "clean_file": "apprentice.workflows.clean",
    "run_demo": "apprentice.workflows.demo",
}

__all__ = ["CleanFileResult", "DemoResult", "clean_file", "run_demo"]

if TYPE_CHECKING:
    from apprentice.workflows.clean import CleanFileResult, clean_file
    from apprentice.workflows.demo import DemoResult, run_demo


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'apprentice.workflows' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
