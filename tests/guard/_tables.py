"""The real tables in ``../shared/data/tables`` (tests using them skip when it is absent).

Guard tests load them with pandas as text cells (every cell a ``str``, empty cells ``""``, the
manifest's reader options), which is what ``apprentice.read`` returns, so that they test the
guard and not the reader; the workflow and canary tests go through ``apprentice.read``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
TABLES = (REPO / ".." / "shared" / "data" / "tables").resolve()

needs_tables = pytest.mark.skipif(
    not (TABLES / "MANIFEST.json").is_file(), reason="../shared/data/tables is not available"
)


def manifest() -> list[dict[str, object]]:
    if not (TABLES / "MANIFEST.json").is_file():
        return []
    return list(json.loads((TABLES / "MANIFEST.json").read_text(encoding="utf-8")))


@cache
def _load(name: str) -> pd.DataFrame:
    entry = next(e for e in manifest() if e["file"] == name)
    options = {k: v for k, v in dict(entry["read"]).items() if k != "reader"}  # type: ignore[call-overload]
    return pd.read_csv(TABLES / name, dtype="str", keep_default_na=False, **options)


def load_text(name: str) -> pd.DataFrame:
    """A real table as text cells (a fresh copy each call)."""
    return _load(name).copy()
