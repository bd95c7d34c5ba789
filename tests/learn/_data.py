"""Small real tables for the learn, evaluate and bundle tests (text cells or typed frames)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from tests._tables import REPO, TABLES, table_path

__all__ = ["REPO", "TABLES", "needs_tables", "rng", "table_path", "text_table", "typed_table"]

needs_tables = pytest.mark.skipif(
    not (TABLES / "MANIFEST.json").is_file(), reason="no table folder (../shared or tests/data)"
)


@cache
def _text(name: str, sep: str) -> pd.DataFrame:
    return pd.read_csv(table_path(name), dtype="str", keep_default_na=False, sep=sep)


def text_table(name: str, rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """A real table as raw text cells (empty cells ``""``), optionally a row sample."""
    frame = _text(name, "\t" if name.endswith(".tsv") else ",").copy()
    if rows is not None and rows < len(frame):
        frame = frame.sample(rows, random_state=seed).reset_index(drop=True)
    return frame


def typed_table(name: str, rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """A real table typed the plain pandas way (numbers, text as category)."""
    frame = text_table(name, rows, seed)
    out = {}
    for column in frame.columns:
        stripped = frame[column].str.strip()
        missing = stripped.isin(["", "?", "NA"])
        numbers = pd.to_numeric(stripped.where(~missing), errors="coerce")
        if numbers.notna().sum() >= 0.95 * (~missing).sum():
            out[column] = numbers.astype(float)
        else:
            out[column] = stripped.where(~missing).astype("category")
    return pd.DataFrame(out)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
