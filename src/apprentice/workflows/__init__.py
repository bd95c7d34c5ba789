"""Workflows: the only code that spans stages (read -> clean -> guard -> ...).

Names are imported lazily: a workflow pulls in every stage it runs, and ``apprentice --help``
must stay fast. The functions ``run`` and ``compare`` share their names with their modules
(``apprentice.workflows.run``, ``.compare``): import them from there, or as
``apprentice.run`` / ``apprentice.compare``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apprentice.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CleanFileResult": "apprentice.workflows.clean",
    "CompareResult": "apprentice.workflows.compare",
    "AfterRelease": "apprentice.workflows.lifecycle",
    "DemoResult": "apprentice.workflows.demo",
    "RunObserver": "apprentice.workflows.run",
    "RunResult": "apprentice.workflows.run",
    "after_release": "apprentice.workflows.lifecycle",
    "clean_file": "apprentice.workflows.clean",
    "list_runs": "apprentice.workflows.run",
    "load_run": "apprentice.workflows.run",
    "run_demo": "apprentice.workflows.demo",
}

__all__ = [
    "AfterRelease",
    "CleanFileResult",
    "CompareResult",
    "DemoResult",
    "RunObserver",
    "RunResult",
    "after_release",
    "clean_file",
    "list_runs",
    "load_run",
    "run_demo",
]

if TYPE_CHECKING:
    from apprentice.workflows.clean import CleanFileResult, clean_file
    from apprentice.workflows.compare import CompareResult
    from apprentice.workflows.demo import DemoResult, run_demo
    from apprentice.workflows.lifecycle import AfterRelease, after_release
    from apprentice.workflows.run import RunObserver, RunResult, list_runs, load_run


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
