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
