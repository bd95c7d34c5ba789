"""Targets typed by evidence: a mostly numeric target is a regression target, its unreadable
rows are quarantined with counts and examples, and ``task`` works whenever the evidence
allows it (made-for-purpose tables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.errors import TargetError
from apprentice.learn.task import prepare_target

#: cells a person types into a price column that are neither numbers nor missing-value markers
TYPOS = ["cheap", "call us", "12..5", "ask Bob", "approx. ten", "see note 3", "1,2,3,4x"]


def _prices(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{v:,.2f}" for v in rng.gamma(3.0, 400.0, n)]


def test_a_price_with_six_bad_cells_is_a_regression_target() -> None:
    cells = _prices(6259, seed=1)
    bad = {17: "cheap", 400: "1,999 USD?", 1200: "?", 3001: "cheap", 4500: "n/a ok", 6000: "12..5"}
    for i, v in bad.items():
        cells[i] = v
    info = prepare_target(pd.Series(cells), name="price")
    assert info.task == "regression" and info.classes is None
    quarantined = set(info.quarantined.tolist())
    missing = {1200}  # '?' is a missing-value marker, counted as a missing target
    assert quarantined | missing == set(bad)
    assert not quarantined & missing and info.n_missing == 1
    # nothing lost: every other row is kept, with its value
    assert int(info.kept.sum()) == 6259 - len(bad)
    assert not info.kept[list(bad)].any()
    expected = [float(c.replace(",", "")) for i, c in enumerate(cells) if i not in bad]
    assert np.allclose(info.y, expected)
    # counts and examples, in the warnings (the summary) and the ledger
    text = " ".join(info.warnings)
    assert f"{len(quarantined)} row(s) set aside (quarantined" in text
    assert "'cheap' (2)" in text and "'12..5' (1)" in text and "'n/a ok' (1)" in text
    record = next(r for r in info.ledger if r["action"] == "quarantine_rows_unreadable_target")
    assert record["rows"] == len(quarantined)
    assert {"value": "cheap", "count": 2} in record["examples"]


def test_task_regression_is_accepted_when_enough_values_are_numbers() -> None:
    cells = _prices(60, seed=2)
    for i in range(0, 60, 3):  # a third of the cells are words
        cells[i] = TYPOS[i % len(TYPOS)]
    with pytest.raises(TargetError, match=r"ambiguous: 67% of its 60 values are numbers") as err:
        prepare_target(pd.Series(cells), name="price")
    assert "--task regression" in str(err.value) and "'cheap'" in str(err.value)
    info = prepare_target(pd.Series(cells), name="price", task="regression")
    assert info.task == "regression" and len(info.y) == 40 and len(info.quarantined) == 20
    info = prepare_target(pd.Series(cells), name="price", task="multiclass")
    assert info.task == "multiclass" and len(info.quarantined) == 0


def test_task_regression_is_refused_with_the_evidence_when_few_values_are_numbers() -> None:
    cells = ["small", "large", "medium", "42"] * 10
    with pytest.raises(TargetError, match="not numeric") as err:
        prepare_target(pd.Series(cells), name="size", task="regression")
    message = str(err.value)
    assert "25% of its 40 values are numbers" in message and "'small' (10)" in message
    assert prepare_target(pd.Series(cells), name="size").task == "multiclass"


def test_examples_of_personal_data_are_masked() -> None:
    cells = _prices(200, seed=3)
    cells[5] = "ask jane.doe@example.com"
    info = prepare_target(pd.Series(cells), name="price")
    assert "jane.doe@example.com" not in " ".join(info.warnings)
    assert "jane.doe@example.com" not in str(info.ledger)
    assert len(info.quarantined) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 2)),
        min_size=40,
        max_size=120,
        unique=True,
    ),
    typos=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(TYPOS)), max_size=4),
)
def test_a_few_typos_never_turn_numbers_into_classes(
    values: list[float], typos: list[tuple[int, str]]
) -> None:
    cells = [f"{v:.2f}" for v in values]
    bad = {}
    for where, word in typos:
        bad[where % len(cells)] = word
    for i, word in bad.items():
        cells[i] = word
    info = prepare_target(pd.Series(cells), name="amount")
    assert info.task == "regression"  # at least 36 distinct numbers
    assert set(info.quarantined.tolist()) == set(bad)
    kept = [float(c) for i, c in enumerate(cells) if i not in bad]
    assert np.allclose(info.y, kept)
    assert info.n_missing == 0 and int(info.kept.sum()) == len(cells) - len(bad)


QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear",), "n_jobs": 1, "n_boot": 100}


def test_train_on_a_price_with_typos_is_regression_and_says_so(tmp_path: Path) -> None:
    from apprentice.bundle import train

    rng = np.random.default_rng(4)
    n = 400
    nights = rng.integers(1, 10, n)
    guests = rng.integers(1, 5, n)
    price = 80 * nights + 25 * guests + rng.normal(0, 20, n)
    cells = [f"{p:,.2f}" for p in price]
    for i, word in ((3, "cheap"), (50, "1,999 USD?"), (77, "?"), (300, "cheap")):
        cells[i] = word
    frame = pd.DataFrame({"nights": nights, "guests": guests, "price": cells})
    path = tmp_path / "rates.csv"
    frame.to_csv(path, index=False)
    result = train(path, target="price", out=tmp_path / "b", **QUICK)
    assert result.task == "regression"
    assert result.metrics["r2"].value > 0.8
    text = " ".join(result.warnings)
    assert "3 row(s) set aside (quarantined" in text and "'cheap' (2)" in text
    assert (
        result.bundle.manifest["split"]["train_rows"]
        + result.bundle.manifest["split"]["holdout_rows"]
        == n - 4
    )
    explicit = train(path, target="price", out=tmp_path / "c", task="regression", **QUICK)
    assert explicit.task == "regression"


def test_band_labels_that_read_as_one_number_stay_classes() -> None:
    """census_income_kdd's target: ' - 50000.' and ' 50000+.' are two income bands; reading
    them as numbers left one value and 'nothing to learn' (found by benchmarks/serve.py)."""
    import pandas as pd

    from apprentice.learn.task import prepare_target

    info = prepare_target(pd.Series([" - 50000."] * 90 + [" 50000+."] * 10), name="income")
    assert info.task == "binary"
    assert info.classes == ["- 50000.", "50000+."]
