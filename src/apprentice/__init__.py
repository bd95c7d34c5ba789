"""apprentice: the daily job of a junior ML engineer on tabular data, end to end.

Public names are imported lazily so that ``apprentice --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from apprentice._version import __version__

_EXPORTS: dict[str, str] = {
    "ApprenticeError": "apprentice.errors",
    "Dialect": "apprentice.read",
    "ReadResult": "apprentice.read",
    "Settings": "apprentice.config",
    "get_settings": "apprentice.config",
    "read": "apprentice.read",
    "write_csv": "apprentice.read",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from apprentice.config import Settings, get_settings
    from apprentice.errors import ApprenticeError
    from apprentice.read import Dialect, ReadResult, read, write_csv


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'apprentice' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
