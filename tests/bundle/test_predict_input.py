"""``apprentice predict``: the input contract (missing and unknown columns are an error that
names them, nothing written; ``--allow-missing-columns`` predicts every row and says so) and
the model references it takes (bundle folder, run, ``NAME``, ``NAME/VERSION``,
``NAME@ALIAS``, ``models:/...``, MLflow run id)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.bundle import TrainResult, load_bundle
from apprentice.cli import main
from apprentice.config import Settings
from tests.track._support import QUICK, blood_file, empty_store, make_workspace, needs_tables

__all__ = ["blood_file", "empty_store"]

pytestmark = needs_tables


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]], *, rename: dict[str, str] | None = None,
           drop: tuple[str, ...] = (), delimiter: str = ",") -> Path:  # fmt: skip
    names = [c for c in rows[0] if c not in drop]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow([(rename or {}).get(c, c) for c in names])
        for row in rows:
            writer.writerow([row[c] for c in names])
    return path


def _predict(bundle: str, data: Path, out: Path, capsys: pytest.CaptureFixture[str],
             *extra: str) -> tuple[int, str, str]:  # fmt: skip
    return _run(["predict", bundle, str(data), "-o", str(out), *extra], capsys)


def test_contract_of_the_bundle(penguins: TrainResult) -> None:
    bundle = load_bundle(penguins.path)
    needed = bundle.required_columns
    assert needed and set(needed) <= set(bundle.input_columns)
    assert bundle.check_columns([*bundle.input_columns, "species"]).ok  # the target is fine
    renamed = [("Bill Length (mm)" if c == "bill_length_mm" else c) for c in needed]
    check = bundle.check_columns(renamed)
    assert check.missing == ("bill_length_mm",) and check.unknown == ("Bill Length (mm)",)
    assert check.suggestions == {"bill_length_mm": "Bill Length (mm)"}
    assert "did you mean 'Bill Length (mm)'" in check.describe()
    longer = bundle.check_columns([c for c in needed if c != "island"] + ["island_name"])
    assert longer.suggestions == {"island": "island_name"}
    far = bundle.check_columns([c for c in needed if c != "island"] + ["zzz"])
    assert far.missing == ("island",) and far.unknown == ("zzz",) and not far.suggestions
    assert bundle.check_columns([*needed, "row_id"], ignore=["row_id"]).ok


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_check_columns_property(penguins: TrainResult, data: st.DataObject) -> None:
    bundle = load_bundle(penguins.path)
    known = sorted(bundle.known_columns())
    kept = data.draw(st.lists(st.sampled_from(known), unique=True))
    extra = data.draw(st.lists(st.text(max_size=12), max_size=4))
    names = data.draw(st.permutations([*kept, *extra]))
    check = bundle.check_columns(names)
    present = set(names)
    assert set(check.missing) == {c for c in bundle.required_columns if c not in present}
    assert set(check.unknown) == {n for n in names if n not in set(known)}
    assert set(check.suggestions) <= set(check.missing)
    assert set(check.suggestions.values()) <= set(check.unknown)
    assert len(set(check.suggestions.values())) == len(check.suggestions)
    assert check.ok == (not check.missing and not check.unknown)
    text = check.describe()
    assert all(f"'{m}'" in text for m in check.missing)


def test_renamed_column_is_an_error_and_nothing_is_written(
    penguins: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(_penguins_file())
    data = _write(tmp_path / "renamed.csv", rows, rename={"bill_length_mm": "Bill_Length_MM"})
    out = tmp_path / "out.csv"
    out.write_text("kept\n")  # an earlier output must survive a refused run
    code, stdout, err = _predict(str(penguins.path), data, out, capsys)
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert err.startswith("error: ") and "'bill_length_mm' (did you mean 'Bill_Length_MM'?)" in err
    assert "not in the training file: 'Bill_Length_MM'" in err and "nothing was written" in err
    assert "--allow-missing-columns" in err
    assert out.read_text() == "kept\n"


def test_missing_column_with_allow_predicts_every_row(
    penguins: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(_penguins_file())
    data = _write(tmp_path / "lacking.csv", rows, drop=("island",))
    out = tmp_path / "out.csv"
    code, _, err = _predict(str(penguins.path), data, out, capsys)
    assert code == 2 and "lacks 1 column(s) the model needs: 'island'" in err
    assert not out.exists()
    code, stdout, err = _predict(
        str(penguins.path), data, out, capsys, "--allow-missing-columns", "--json"
    )
    assert code == 0
    summary = json.loads(stdout)
    assert summary["missing_columns"] == ["island"] and summary["unknown_columns"] == []
    assert summary["rows_with_missing_columns"] == len(rows) == summary["rows"]
    assert f"warning: {len(rows):,} row(s) were predicted without 'island'" in err
    assert len(pd.read_csv(out)) == len(rows)  # every row predicted, none lost
    # the same as giving the bundle the rows with island missing
    frame = pd.DataFrame(rows).drop(columns=["island"])
    expected = load_bundle(penguins.path).predict(frame, allow_missing_columns=True)
    assert pd.read_csv(out)["prediction"].tolist() == list(expected)


def test_unknown_column_and_keep(
    penguins: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"row_id": str(i), **r} for i, r in enumerate(_rows(_penguins_file())[:40])]
    data = _write(tmp_path / "with_id.csv", rows)
    out = tmp_path / "out.csv"
    code, _, err = _predict(str(penguins.path), data, out, capsys)
    assert code == 2 and "1 column(s) that are not in the training file: 'row_id'" in err
    assert "did you mean" not in err and not out.exists()
    code, _, err = _predict(str(penguins.path), data, out, capsys, "--keep", "row_id")
    assert code == 0 and "warning" not in err
    assert pd.read_csv(out)["row_id"].tolist() == list(range(40))


def test_other_delimiter_is_read(
    penguins: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows(_penguins_file())[:60]
    data = _write(tmp_path / "semicolon.csv", rows, delimiter=";")
    out = tmp_path / "out.csv"
    code, _, err = _predict(str(penguins.path), data, out, capsys)
    assert code == 0 and "60 prediction(s)" in err and "warning" not in err
    expected = load_bundle(penguins.path).predict(pd.DataFrame(rows))
    assert pd.read_csv(out)["prediction"].tolist() == list(expected)


def _penguins_file() -> Path:
    from tests.learn._data import TABLES

    return TABLES / "penguins.csv"


# -- model references ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def registered(
    blood_file: Path, tmp_path_factory: pytest.TempPathFactory, empty_store: Path
) -> tuple[Settings, object]:
    from apprentice.workflows.run import run

    ws = make_workspace(tmp_path_factory.mktemp("predict-refs") / "ws", empty_store)
    result = run(
        blood_file,
        target="Class",
        settings=ws,
        report=False,
        name="blood",
        **{**QUICK, "families": ("linear",)},  # type: ignore[arg-type]
    )
    return ws, result


def test_predict_takes_what_serve_takes(
    registered: tuple[Settings, object],
    blood_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws, result = registered
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(ws.workspace))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    run_id = result.run_id  # type: ignore[attr-defined]
    mlflow_run = (result.tracking or {})["run_id"]  # type: ignore[attr-defined]
    refs = [
        str(result.bundle_path),  # type: ignore[attr-defined]
        str(result.path),  # type: ignore[attr-defined]
        run_id,
        mlflow_run,
        "blood",
        "blood/1",
        "blood@champion",
        "models:/blood@champion",
    ]
    outputs = []
    for i, ref in enumerate(refs):
        out = tmp_path / f"out{i}.csv"
        code, stdout, err = _predict(ref, blood_file, out, capsys, "--json")
        assert code == 0, (ref, err)
        assert json.loads(stdout)["rows"] == 748
        outputs.append(out.read_text())
    assert all(o == outputs[0] for o in outputs)  # one model, whichever way it is named
    for ref, said in [
        ("blood/7", "has no version 7"),
        ("blood@nope", "has no alias 'nope'"),
        ("no-such-model", "neither a run nor a registered model"),
        (str(tmp_path / "no" / "bundle"), "no bundle folder at"),
    ]:
        out = tmp_path / "refused.csv"
        code, _, err = _predict(ref, blood_file, out, capsys)
        assert code == 2 and said in err and err.count("\n") == 1, (ref, err)
        assert not out.exists()


def test_values_the_recipe_cannot_read_are_said_not_silently_missing(
    penguins: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A number written another way than in training (``4,250 g``) and a category never seen
    are missing to the model: predict still answers every row, and says which column, how
    many cells and what they looked like."""
    rows = [r for r in _rows(_penguins_file()) if r["body_mass_g"] not in ("", "NA")][:30]
    for row in rows[:12]:
        row["body_mass_g"] = f"{float(row['body_mass_g']):,.0f} g"
    rows[0]["island"] = "Atlantis"
    data = _write(tmp_path / "written_otherwise.csv", rows)
    out = tmp_path / "out.csv"
    code, stdout, err = _predict(str(penguins.path), data, out, capsys, "--json")
    assert code == 0, err
    unread = json.loads(stdout)["values_not_read"]
    assert unread["body_mass_g"]["unparseable"] == 12
    assert unread["island"]["unseen_categories"] == 1 and unread["island"]["examples"] == [
        "Atlantis"
    ]
    assert "some values were treated as missing by the model:" in err
    assert "'body_mass_g' 12 of 30 (not readable as in training; e.g. '3,750 g'" in err
    assert len(pd.read_csv(out)) == len(rows)  # every row predicted, none lost
    clean = _write(tmp_path / "clean.csv", _rows(_penguins_file())[:30])
    code, stdout, err = _predict(str(penguins.path), clean, tmp_path / "o2.csv", capsys, "--json")
    assert code == 0 and json.loads(stdout)["values_not_read"] == {} and "warning" not in err


def test_values_far_outside_the_training_range_are_said(
    penguins: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mass written in milligrams (1,000 times the training values) or an absurd number is
    read, predicted and said: the model extrapolates there. A value just past the training
    maximum is normal for new rows and not flagged."""
    from apprentice.monitor.profile import load_profile

    reference = load_profile(penguins.bundle)["features"]["body_mass_g"]
    rows = [r for r in _rows(_penguins_file()) if r["body_mass_g"] not in ("", "NA")][:30]
    for row in rows[:3]:
        row["body_mass_g"] = str(int(float(row["body_mass_g"]) * 1000))
    rows[3]["body_mass_g"] = "1e308"
    rows[4]["body_mass_g"] = str(reference["max"] + 1)
    data = _write(tmp_path / "milligrams.csv", rows)
    out = tmp_path / "out.csv"
    code, stdout, err = _predict(str(penguins.path), data, out, capsys, "--json")
    assert code == 0, err
    far = json.loads(stdout)["values_far_outside_training_range"]
    assert list(far) == ["body_mass_g"] and far["body_mass_g"]["count"] == 4
    assert far["body_mass_g"]["range"] == [reference["min"], reference["max"]]
    written = {rows[i]["body_mass_g"] for i in range(4)}
    examples = far["body_mass_g"]["examples"]
    assert len(examples) == 3 and set(examples) <= written
    assert "some values lie far outside the training range, where the model extrapolates: " in err
    assert "'body_mass_g' 4 of 30 (e.g. " in err and err.count("\n") == 1
    assert len(pd.read_csv(out)) == len(rows)  # every row predicted, none lost
    assert json.loads(stdout)["values_not_read"] == {}  # read: not a missing value
