"""The Python API says what ``apprentice predict`` says: rows without a column the model uses
are refused (``allow_missing_columns=True`` to go on), values the recipe cannot read are
predicted as missing with one :class:`InputWarning` naming them, and a clean row or a
missing-value marker of the training file raises nothing and warns nothing."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import Bundle, InputWarning, load_bundle, train
from apprentice.errors import ApprenticeError, ColumnMismatchError

QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear",), "n_jobs": 1}


@pytest.fixture(scope="module")
def students(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, pd.DataFrame]:
    """A grade table (400 rows): two numbers that carry the target, a category, and ``?``
    for a missing age in the training file."""
    rng = np.random.default_rng(3)
    n = 400
    g1 = rng.integers(0, 20, n)
    absences = rng.integers(0, 30, n)
    frame = pd.DataFrame(
        {
            "age": rng.integers(15, 22, n).astype(str),
            "school": rng.choice(["GP", "MS"], n),
            "G1": g1.astype(str),
            "absences": absences.astype(str),
            "G3": (g1 - 0.1 * absences + rng.normal(0, 1, n)).round(1).astype(str),
        }
    )
    frame.loc[::37, "age"] = "?"
    path = tmp_path_factory.mktemp("grades") / "grades.csv"
    frame.to_csv(path, index=False)
    result = train(path, target="G3", out=path.parent / "bundle", **QUICK)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["G3"])
    return load_bundle(result.path), raw


def _quiet(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        return call(*args, **kwargs)


def test_clean_rows_and_known_markers_pass_silently(students: tuple[Bundle, pd.DataFrame]) -> None:
    bundle, raw = students
    rows = raw.head(40)  # holds '?' ages: a marker of the training file, not news
    assert (rows["age"] == "?").any()
    frame = _quiet(bundle.predict, rows)
    single = _quiet(bundle.predict, rows.iloc[0].to_dict())
    assert len(frame) == 40 and single.shape == (1,)
    assert single[0] == pytest.approx(frame[0])


@pytest.mark.parametrize("how", ["frame", "records", "record", "one-row frame"])
def test_a_missing_column_is_refused_by_name(
    students: tuple[Bundle, pd.DataFrame], how: str
) -> None:
    bundle, raw = students
    rows = raw.head(5).drop(columns=["G1"]).rename(columns={"absences": "Absences"})
    given = {
        "frame": rows,
        "records": rows.to_dict("records"),
        "record": rows.iloc[0].to_dict(),
        "one-row frame": rows.head(1),
    }[how]
    before = rows.copy()
    with pytest.raises(ColumnMismatchError) as caught:
        bundle.predict(given)
    message = str(caught.value)
    assert isinstance(caught.value, ApprenticeError)
    assert "'G1'" in message and "'absences' (did you mean 'Absences'?)" in message
    assert "allow_missing_columns=True" in message and "\n" not in message
    pd.testing.assert_frame_equal(rows, before)  # the caller's rows are untouched


def test_allow_missing_columns_predicts_with_them_missing(
    students: tuple[Bundle, pd.DataFrame],
) -> None:
    bundle, raw = students
    rows = raw.head(5)
    partial = rows.drop(columns=["G1"])
    full = bundle.predict(rows)
    allowed = bundle.predict(partial, allow_missing_columns=True)
    explicit = bundle.predict(rows.assign(G1=""))  # the same rows with G1 empty
    assert len(allowed) == 5
    np.testing.assert_allclose(allowed, explicit)
    assert not np.allclose(allowed, full)  # G1 carries the target: missing moves predictions
    proba_like = bundle.predict_frame(partial, allow_missing_columns=True)
    np.testing.assert_allclose(proba_like["prediction"].to_numpy(), allowed)


@pytest.mark.parametrize("how", ["frame", "record"])
def test_values_not_read_are_named_in_one_warning(
    students: tuple[Bundle, pd.DataFrame], how: str
) -> None:
    bundle, raw = students
    rows = raw.head(6).copy()
    rows["age"] = rows["age"] + " years"
    rows.loc[rows.index[0], "absences"] = "lots"
    given = rows if how == "frame" else rows.iloc[0].to_dict()
    with pytest.warns(InputWarning) as caught:
        out = bundle.predict(given)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "'absences' 1 (e.g. 'lots')" in message
    assert "'age'" in message and "years" in message
    # predicted as if those cells were empty: the warning says what happened
    blank = rows.assign(age="")
    blank.loc[blank.index[0], "absences"] = ""
    expected = _quiet(bundle.predict, blank if how == "frame" else blank.iloc[0].to_dict())
    np.testing.assert_allclose(out, expected)


def test_the_cli_reports_once_and_keeps_its_contract(
    students: tuple[Bundle, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``apprentice predict`` still writes every row with --allow-missing-columns and prints
    its own lines, not a Python warning."""
    from apprentice.cli import main

    bundle, raw = students
    data = tmp_path / "new.csv"
    rows = raw.head(8).drop(columns=["G1"]).copy()
    rows.loc[rows.index[1], "absences"] = "lots"
    rows.to_csv(data, index=False)
    out = tmp_path / "p.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        with pytest.raises(SystemExit) as refused:
            main(["predict", str(bundle.path), str(data), "-o", str(out)])
        assert refused.value.code == 2 and not out.exists()
        try:
            main(
                ["predict", str(bundle.path), str(data), "-o", str(out), "--allow-missing-columns"]
            )
        except SystemExit as exc:
            assert not exc.code
    err = capsys.readouterr().err
    assert "InputWarning" not in err and "lots" in err
    assert len(pd.read_csv(out)) == 8
