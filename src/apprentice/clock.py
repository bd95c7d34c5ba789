"""The time budget's clock, with nothing heavy to import: a command can check its budget (and
refuse with the budget it needs) before the learning libraries are loaded, which alone takes
seconds on a busy machine. :mod:`apprentice.learn.search` uses and re-exports both names."""

from __future__ import annotations

import math
import time


def minimum_budget(seconds: float) -> int:
    """A budget to suggest: ``seconds`` rounded up to a multiple of 5 (at least 5)."""
    return max(5, 5 * math.ceil(seconds / 5.0))


class Clock:
    """Wall time against a budget (``None``: no limit)."""

    def __init__(self, budget: float | None, start: float | None = None) -> None:
        self.budget = budget
        self.start = time.monotonic() if start is None else start

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return math.inf if self.budget is None else self.budget - self.elapsed()

    @property
    def deadline(self) -> float | None:
        return None if self.budget is None else self.start + self.budget

    @property
    def hard_deadline(self) -> float | None:
        """The latest any fit may run: budget x 1.05 + 3 s (the contract allows + 5 s)."""
        return None if self.budget is None else self.start + self.budget * 1.05 + 3.0


#: set by a budgeted command (:func:`exit_promptly`): the console script then ends the process
#: as soon as the command is done (:func:`prompt_exit`)
_prompt_exit = False


def exit_promptly() -> None:
    """Ask the console script to end the process right after this command: its budget counts
    to the process's exit, and the interpreter's own teardown (freeing every module and
    object, the native libraries' finalizers) took 7-13 s of wall time on a busy core after
    the work was done."""
    global _prompt_exit
    _prompt_exit = True


def prompt_exit(code: int) -> None:
    """End the process now with ``code`` when a command asked for it (:func:`exit_promptly`):
    the exit handlers run (the log flushed, the tracking run closed), the standard streams
    are flushed, then ``os._exit`` skips the interpreter's teardown. Returns (the caller
    exits normally) when no command asked, or while a thread that the normal exit would wait
    for is still running."""
    if not _prompt_exit:
        return
    import threading

    main = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main for t in threading.enumerate()):
        return
    import atexit
    import contextlib
    import logging
    import os
    import sys

    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe
            stream.flush()
    os._exit(code)
