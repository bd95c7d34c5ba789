"""Public names of a package imported on first use (PEP 562).

Several stages re-export names whose modules pull in heavy libraries (scikit-learn, FastAPI,
Dask, MLflow). ``lazy_exports`` builds the package's module-level ``__getattr__``: the first
access to a name imports its module, caches the value in the package, and returns it, so
``import apprentice.serve`` stays cheap while ``apprentice.serve.create_app`` still works.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``exports`` maps a public name to its module."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
