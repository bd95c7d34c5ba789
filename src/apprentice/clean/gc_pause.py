"""The cyclic garbage collector paused while a table's columns are built.

Cleaning a wide table makes tens of thousands of small container objects (a report, a recipe,
an inference, dicts and lists per column) that live as long as the result; each automatic
collection walks the young ones again, and on a 10,000-column table that was about a third of
the clean stage's CPU time. None of them needs the cycle collector to be freed (reference
counting frees everything at once when the result goes), so automatic collection is paused
while they are made and resumed after; a cycle made meanwhile is collected by the next
automatic collection. Nested use keeps it paused until the outermost block ends, and it is
never resumed when the caller had disabled it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Automatic garbage collection off inside the block (restored on the way out)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
