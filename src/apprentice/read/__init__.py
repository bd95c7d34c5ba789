"""The read stage: any file or database becomes a table of text cells plus an account.

``apprentice.read`` is both this package and the function that reads: the package module is
callable, so ``apprentice.read(path)`` works whichever of the two an import left bound.
"""

import sys
import types
from typing import Any

from apprentice.read.api import read
from apprentice.read.hints import ReadHints
from apprentice.read.result import Dialect, ReadResult, TableRegion
from apprentice.read.writer import write_csv

__all__ = ["Dialect", "ReadHints", "ReadResult", "TableRegion", "read", "write_csv"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> ReadResult:
        return read(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
