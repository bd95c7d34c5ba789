"""Where the tests find real tables: ``../shared/data/tables`` beside the checkout, or, in a bare
clone without it, the small subset in ``tests/data/tables`` (same files, some sampled down; its
MANIFEST.json says which). Tests that need a table the subset lacks skip and say so."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_TABLES = (REPO / ".." / "shared" / "data" / "tables").resolve()
SUBSET_TABLES = REPO / "tests" / "data" / "tables"
HAVE_SHARED = (SHARED_TABLES / "MANIFEST.json").is_file()
TABLES = SHARED_TABLES if HAVE_SHARED else SUBSET_TABLES


def table_path(name: str) -> Path:
    """The path of a real table, or a skip that says the test needs ``../shared``."""
    path = TABLES / name
    if not path.is_file():
        pytest.skip(f"{name} is not in tests/data/tables: this test needs ../shared/data/tables")
    return path
