"""Booleans: ``yes/no``, ``y/n``, ``true/false``, ``t/f``, ``on/off``; ``0/1`` only when the
column holds nothing else."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from apprentice.clean._arrow import index_in

TRUE_TOKENS = ("yes", "y", "true", "t", "on")
FALSE_TOKENS = ("no", "n", "false", "f", "off")
_NUMERIC_TRUE = ("1", "1.0")
_NUMERIC_FALSE = ("0", "0.0")


@dataclass
class BooleanFormat:
    true: list[str] = field(default_factory=lambda: list(TRUE_TOKENS))
    false: list[str] = field(default_factory=lambda: list(FALSE_TOKENS))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BooleanFormat:
        return cls(**data)


@dataclass
class BooleanEvidence:
    share: float = 0.0
    n_total: int = 0
    seen_true: list[str] = field(default_factory=list)
    seen_false: list[str] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    zero_one: bool = False


def _near(a: str, b: str) -> bool:
    """Edit distance at most one (a typo of a boolean word)."""
    if abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < 2:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def detect_boolean(
    values: list[str], counts: np.ndarray
) -> tuple[BooleanFormat | None, BooleanEvidence]:
    """A boolean format when >= 95% of non-missing cells are boolean words of both polarities
    and what remains looks like typos, not a third category (``P`` next to ``Y``/``N``)."""
    ev = BooleanEvidence(n_total=int(counts.sum()))
    if ev.n_total == 0 or len(values) > 50:
        return None, ev
    folded = [v.casefold() for v in values]
    distinct = set(folded)
    if distinct <= {"0", "1", "0.0", "1.0"} and distinct & {"0", "0.0"} and distinct & {"1", "1.0"}:
        ev.zero_one = True
        ev.share = 1.0
        ev.seen_true = sorted({v for v in values if v in _NUMERIC_TRUE})
        ev.seen_false = sorted({v for v in values if v in _NUMERIC_FALSE})
        return BooleanFormat(true=list(_NUMERIC_TRUE), false=list(_NUMERIC_FALSE)), ev
    fit = 0
    for v, f, w in zip(values, folded, counts.tolist(), strict=True):
        if f in TRUE_TOKENS:
            fit += w
            ev.seen_true.append(v)
        elif f in FALSE_TOKENS:
            fit += w
            ev.seen_false.append(v)
        else:
            ev.failing.append(v)
            typo = any(_near(f, t) for t in (*TRUE_TOKENS, *FALSE_TOKENS) if len(t) > 1)
            if not typo and w >= max(3, 0.01 * ev.n_total):
                ev.blocking.append(v)
    ev.share = fit / ev.n_total
    if ev.share < 0.95 or not ev.seen_true or not ev.seen_false or ev.blocking:
        return None, ev
    return BooleanFormat(), ev


def parse_booleans(
    lower: pa.Array, fmt: BooleanFormat, missing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(values as bool, parsed mask) for lower-cased stripped cells."""
    tokens = list(fmt.true) + list(fmt.false)
    pos = index_in(lower, tokens)
    ok = (pos >= 0) & ~missing
    return (pos < len(fmt.true)) & ok, ok


def boolean_array(values: np.ndarray, ok: np.ndarray) -> Any:
    import pandas as pd

    return pd.arrays.BooleanArray(values.astype(bool), ~ok)
