"""Shared helpers for the clean stage's tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "data").resolve()


def shared(*parts: str) -> Path:
    """A file of ../shared/data (the test is skipped when the data is not there)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {'/'.join(parts)} is not available")
    return path


@cache
def _read(path: str, header: int | None) -> object:
    import apprentice

    return apprentice.read(path) if header is None else apprentice.read(path, header=header)


def read_shared(*parts: str, header: int | None = None) -> object:
    """``apprentice.read`` of a shared file, cached across tests (do not mutate it)."""
    return _read(str(shared(*parts)), header)


def text(columns: dict[str, list[str | None]]) -> pd.DataFrame:
    """A frame of text cells like ``apprentice.read`` returns (pandas ``str`` dtype)."""
    return pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in columns.items()})
