"""Bounded JSON: every JSON file of a bundle is read through :func:`load_json` (caps on size,
nesting depth and number of values, duplicate keys refused) and written through
:func:`dump_json` (numpy values converted, NaN and infinities as null)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.modelfiles.base import refuse

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 100
MAX_JSON_VALUES = 8_000_000

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _no_duplicates(name: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise refuse(name, f"repeats the key {key[:40]!r} in one object")
            out[key] = value
        return out

    return hook


def json_shape(data: bytes) -> tuple[int, int]:
    """``(depth, values)`` of a JSON text: the deepest nesting of arrays and objects and an
    upper bound of the number of values, computed without parsing (strings are skipped)."""
    bare = _STRING.sub(b'""', data)
    codes = np.frombuffer(bare, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    step = opens.astype(np.int64) - closes.astype(np.int64)
    depth = int(np.cumsum(step).max()) if len(step) else 0
    values = int(np.count_nonzero(codes == ord(","))) + int(np.count_nonzero(opens)) + 1
    return depth, values


def load_json(
    data: bytes,
    name: str,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    max_values: int = MAX_JSON_VALUES,
) -> Any:
    """Parse bundle JSON with caps on size, depth and values; duplicate keys are refused."""
    if len(data) > max_bytes:
        raise refuse(name, f"is {len(data):,} bytes, more than the {max_bytes:,} allowed")
    depth, values = json_shape(data)
    if depth > max_depth:
        raise refuse(name, f"nests {depth} levels deep, more than the {max_depth} allowed")
    if values > max_values:
        raise refuse(name, f"holds about {values:,} values, more than the {max_values:,} allowed")
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates(name))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise refuse(name, "is not valid JSON") from None


def json_default(value: Any) -> Any:
    """The JSON form of a value ``json`` does not know (numpy scalars and arrays, paths,
    dates)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def json_safe(value: Any) -> Any:
    """Plain JSON data: numpy values converted, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return json_safe(json_default(value))


def dump_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as strict JSON (see :func:`json_safe`)."""
    text = json.dumps(json_safe(payload), allow_nan=False, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
