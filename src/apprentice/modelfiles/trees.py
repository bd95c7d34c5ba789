"""Checks shared by the tree model kinds: bounded counts, whole-number and number lists, and
the shape of a tree (children in range, after their parent, one parent each)."""

from __future__ import annotations

import re

import numpy as np

from apprentice.modelfiles.base import refuse

MAX_CLASSES = 100_000
MAX_FEATURES = 10_000_000
MAX_LEAVES = 1 << 20

_INTS = re.compile(r"^-?\d{1,19}$")


def check_edges(name: str, where: str, children: np.ndarray, parents: np.ndarray, n: int) -> None:
    """Children in range, each after its parent, and every node but the root with exactly one
    parent: the nodes form one tree, every walk from the root ends."""
    if len(children) and (children.min() < 0 or children.max() >= n):
        raise refuse(name, f"{where}: a child index is out of range")
    if np.any(children <= parents):
        raise refuse(name, f"{where}: a child comes before its parent (a cycle)")
    counts = np.bincount(children, minlength=n) if n else np.zeros(0, dtype=np.int64)
    if n and (counts[0] != 0 or np.any(counts[1:] != 1)):
        raise refuse(name, f"{where}: the nodes do not form one tree")


def whole(name: str, where: str, text: str | None, low: int, high: int) -> int:
    """A whole number written as text, within ``low..high``."""
    if text is None or not _INTS.match(text.strip()):
        raise refuse(name, f"{where} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise refuse(name, f"{where} = {value} is outside {low}..{high}")
    return value


def wholes(name: str, where: str, text: str | None, count: int) -> np.ndarray:
    """Exactly ``count`` whole numbers separated by spaces."""
    parts = (text or "").split()
    if len(parts) != count:
        raise refuse(name, f"{where} holds {len(parts)} values, not {count}")
    try:
        values = np.array(parts, dtype=np.int64)  # "1.5", "nan", "x" and overflow all raise
    except (ValueError, OverflowError):
        raise refuse(name, f"{where} holds a value that is not a whole number") from None
    if len(values) and (values.min() < -(2**62) or values.max() > 2**62):
        raise refuse(name, f"{where} holds a value out of range")
    return values


def count_of(name: str, where: str, text: str | None, count: int) -> None:
    """``text`` holds exactly ``count`` space-separated values (not parsed)."""
    found = len((text or "").split())
    if found != count:
        raise refuse(name, f"{where} holds {found} values, not {count}")


def numbers(name: str, where: str, text: str | None, count: int) -> np.ndarray:
    """Exactly ``count`` numbers separated by spaces."""
    parts = (text or "").split()
    if len(parts) != count:
        raise refuse(name, f"{where} holds {len(parts)} values, not {count}")
    try:
        return np.array(parts, dtype=np.float64)
    except (ValueError, OverflowError):
        raise refuse(name, f"{where} holds a value that is not a number") from None


def int_list(name: str, where: str, value: object, count: int, low: int, high: int) -> np.ndarray:
    """A JSON list of ``count`` whole numbers within ``low..high``."""
    if not isinstance(value, list) or len(value) != count:
        raise refuse(name, f"{where} does not hold {count} values")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise refuse(name, f"{where} holds a value that is not a whole number")
    try:
        out = np.asarray(value, dtype=np.int64) if value else np.zeros(0, dtype=np.int64)
    except OverflowError:
        raise refuse(name, f"{where} holds a value out of range") from None
    if len(out) and (out.min() < low or out.max() > high):
        raise refuse(name, f"{where} holds a value outside {low}..{high}")
    return out


def float_list(name: str, where: str, value: object, count: int) -> np.ndarray:
    """A JSON list of ``count`` finite numbers."""
    if not isinstance(value, list) or len(value) != count:
        raise refuse(name, f"{where} does not hold {count} values")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise refuse(name, f"{where} holds a value that is not a number")
    out = np.asarray(value, dtype=np.float64) if value else np.zeros(0)
    if not np.all(np.isfinite(out)):
        raise refuse(name, f"{where} holds a value that is not a finite number")
    return out
