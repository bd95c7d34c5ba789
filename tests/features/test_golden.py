"""The column transforms and the cell cleaner give, to 1e-12, what they gave when recorded.

The recording (``tests/data/features/golden``) was made before the transforms moved into
:mod:`apprentice.features`: fitted matrices, their replay from the spec (frame and record,
typed and raw rows), the spec itself and the cleaned cells (column and record path), on
240-row copies of three real tables, and fingerprints of the same on the full tables.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from tests.features._golden import DATA, GOLDEN, SHARED, TABLES, compute, fingerprint, read_text


def _close(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), where
        for key in want:
            _close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _close(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, int | float), where
        assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), where
    else:
        assert got == want, where


def _check(stem: str, result: dict[str, Any], *, full: bool) -> None:
    arrays = np.load(GOLDEN / f"{stem}.npz")
    recorded = json.loads((GOLDEN / f"{stem}.json").read_text(encoding="utf-8"))
    matrices = {k: v for k, v in result.items() if isinstance(v, np.ndarray)}
    assert sorted(matrices) == sorted(arrays.files)
    for key, got in matrices.items():
        want = arrays[key]
        if full:
            got = fingerprint(got)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9, err_msg=key)
        else:
            assert got.shape == want.shape, key
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=key)
    for key, want in recorded.items():
        _close(json.loads(json.dumps(result[key])), want, key)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_small_copy_matches_the_recording(name: str) -> None:
    target, task = TABLES[name]
    result = compute(read_text(DATA / name), target, task)
    # the record path gives what the column path gives, cell by cell
    assert result["cells_row"] == result["cells_frame"]
    _check(name.removesuffix(".csv"), result, full=False)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "MANIFEST.json").is_file(), reason="../shared is not available")
@pytest.mark.parametrize("name", sorted(TABLES))
def test_full_table_matches_the_recording(name: str) -> None:
    target, task = TABLES[name]
    _check(
        f"{name.removesuffix('.csv')}.full",
        compute(read_text(SHARED / name), target, task),
        full=True,
    )
