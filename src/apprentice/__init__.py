"""apprentice: the daily job of a junior ML engineer on tabular data, end to end.

Public names are imported lazily so that ``apprentice --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from apprentice._version import __version__
from apprentice.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ApprenticeError": "apprentice.errors",
    "AutoModel": "apprentice.learn",
    "Bundle": "apprentice.bundle",
    "InputWarning": "apprentice.bundle",
    "CleanFileResult": "apprentice.workflows",
    "CleanResult": "apprentice.clean",
    "Cleaner": "apprentice.clean",
    "CompareResult": "apprentice.workflows",
    "Dialect": "apprentice.read",
    "Ledger": "apprentice.clean",
    "PIIReport": "apprentice.guard",
    "ReadResult": "apprentice.read",
    "RunResult": "apprentice.workflows",
    "Schema": "apprentice.guard",
    "Settings": "apprentice.config",
    "Tracker": "apprentice.track",
    "TrainResult": "apprentice.bundle",
    "Violations": "apprentice.guard",
    "clean_file": "apprentice.workflows",
    "clean_table": "apprentice.clean",
    "clean_target": "apprentice.clean",
    "compare": "apprentice.workflows.compare",
    "detect_pii": "apprentice.guard",
    "explain_cell": "apprentice.clean",
    "export_pyfunc": "apprentice.track",
    "get_settings": "apprentice.config",
    "infer_schema": "apprentice.guard",
    "load_bundle": "apprentice.bundle",
    "load_run": "apprentice.workflows",
    "mask_value": "apprentice.guard",
    "protection_plan": "apprentice.guard",
    "pseudonymise": "apprentice.guard",
    "read": "apprentice.read",
    "resolve_model": "apprentice.track",
    "run": "apprentice.workflows.run",
    "train": "apprentice.bundle",
    "validate": "apprentice.guard",
    "write_csv": "apprentice.read",
}

__all__ = [
    "ApprenticeError",
    "AutoModel",
    "Bundle",
    "CleanFileResult",
    "CleanResult",
    "Cleaner",
    "CompareResult",
    "Dialect",
    "InputWarning",
    "Ledger",
    "PIIReport",
    "ReadResult",
    "RunResult",
    "Schema",
    "Settings",
    "Tracker",
    "TrainResult",
    "Violations",
    "__version__",
    "clean_file",
    "clean_table",
    "clean_target",
    "compare",
    "detect_pii",
    "evaluate",
    "explain_cell",
    "export_pyfunc",
    "get_settings",
    "infer_schema",
    "load_bundle",
    "load_run",
    "mask_value",
    "protection_plan",
    "pseudonymise",
    "read",
    "resolve_model",
    "run",
    "train",
    "validate",
    "write_csv",
]

if TYPE_CHECKING:
    from apprentice import evaluate
    from apprentice.bundle import (
        Bundle,
        InputWarning,
        TrainResult,
        load_bundle,
        train,
    )
    from apprentice.clean import (
        Cleaner,
        CleanResult,
        Ledger,
        clean_table,
        clean_target,
        explain_cell,
    )
    from apprentice.config import (
        Settings,
        get_settings,
    )
    from apprentice.errors import (
        ApprenticeError,
    )
    from apprentice.guard import (
        PIIReport,
        Schema,
        Violations,
        detect_pii,
        infer_schema,
        mask_value,
        protection_plan,
        pseudonymise,
        validate,
    )
    from apprentice.learn import (
        AutoModel,
    )
    from apprentice.read import (
        Dialect,
        ReadResult,
        read,
        write_csv,
    )
    from apprentice.track import (
        Tracker,
        export_pyfunc,
        resolve_model,
    )
    from apprentice.workflows import (
        CleanFileResult,
        CompareResult,
        RunResult,
        clean_file,
        load_run,
    )
    from apprentice.workflows.compare import compare
    from apprentice.workflows.run import run


_exported = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    if name == "evaluate":  # the callable stage module: apprentice.evaluate(bundle, frame)
        return importlib.import_module("apprentice.evaluate")
    return _exported(name)


def __dir__() -> list[str]:
    return __all__
