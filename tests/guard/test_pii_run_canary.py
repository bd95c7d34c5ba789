"""A PII column flagged with low confidence and kept as a feature: through ``apprentice.run``,
none of its PII values reaches a file of the run folder, the bundle, the MLflow store or the
report, and the report lists the same findings as the run record (issues 13 and 14).

The planted column ``heard_from`` (no PII cue in its name) holds 12 distinct values: nine
ordinary labels and three canaries (two phone numbers, one email address) in about 20% of
the rows, so the detector reports it with low confidence and training keeps it as a
categorical feature; before the fix every canary was a category in ``recipe.json``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests._tables import TABLES
from tests.track._support import empty_store  # noqa: F401  (an initialised MLflow store)

TITANIC = TABLES / "titanic.csv"
CANARIES = ["+44 20 7946 0613", "+44 20 7946 0618", "zyx.referrer.canary@quixwright-mail.org"]
NEEDLES = [*CANARIES, "2079460613", "2079460618", "7946 0613", "7946 0618", "zyx.referrer"]
LABELS = ["web", "friend", "agent", "poster", "radio", "press", "club", "church", "school"]


def _planted(path: Path) -> Path:
    with open(TITANIC, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*rows[0], "heard_from"])
        for i, row in enumerate(rows[1:]):
            value = CANARIES[i % 3] if i % 15 < 3 else LABELS[i % len(LABELS)]
            writer.writerow([*row, value])
    return path


def _leaks(folder: Path) -> list[tuple[str, str]]:
    out = []
    for file in folder.rglob("*"):
        if not file.is_file():
            continue
        text = file.read_bytes().decode("utf-8", errors="replace").lower()
        out += [(str(file), n) for n in NEEDLES if n.lower() in text]
    return out


def test_low_confidence_pii_feature_keeps_no_value_anywhere(
    tmp_path: Path,
    empty_store: Path,  # noqa: F811
) -> None:
    from apprentice.workflows.run import run
    from tests.track._support import QUICK, make_workspace

    if not TITANIC.is_file():
        pytest.skip("titanic.csv is not available")
    source = _planted(tmp_path / "passengers.csv")
    settings = make_workspace(tmp_path / "ws", empty_store)
    result = run(source, target="Survived", settings=settings, **QUICK)  # type: ignore[arg-type]

    findings = result.pii["findings"]["findings"]
    heard = [f for f in findings if f["column"] == "heard_from"]
    assert heard and all(f["confidence"] == "low" for f in heard), findings
    assert "heard_from" not in result.pii["findings"]["pii_columns"]
    bundle = result.bundle_path
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    specs = [(bundle / name).read_text(encoding="utf-8") for name in manifest["features"].values()]
    assert any('"heard_from"' in spec for spec in specs)  # still a feature
    # what the run record calls PII is what training left out of the features as PII
    excluded = manifest.get("excluded_columns") or {}
    left_out = {c for c, why in excluded.items() if str(why).startswith("PII")}
    assert left_out == set(result.pii["findings"]["pii_columns"]), (left_out, result.pii)

    leaks = _leaks(tmp_path / "ws")
    assert not leaks, leaks[:5]
    # the search does find them where they are: in the source file itself
    assert any(n.lower() in source.read_text(encoding="utf-8").lower() for n in NEEDLES)

    # the report names every flagged column of the run record, low confidence included
    report = Path(result.path) / "report.html"
    if report.is_file():
        html = report.read_text(encoding="utf-8")
        for f in findings:
            assert f["column"] in html, f"{f['column']} is in the run record, not the report"


def test_forget_pii_cells_keeps_the_rest_and_the_dtype() -> None:
    import pandas as pd

    from apprentice.guard.protect import forget_pii_cells, pii_free, scrub_recipe_values

    labels = ["web", "friend", CANARIES[0], CANARIES[2], None, "call +44 20 7946 0618 now"]
    frame = pd.DataFrame(
        {
            "as_text": pd.Series(labels, dtype="str"),
            "as_category": pd.Series(labels, dtype="category"),
            "other": [CANARIES[0]] * 6,  # not named: untouched
        }
    )
    out, changed = forget_pii_cells(frame, ["as_text", "as_category"])
    assert changed == 6  # two whole values and one embedded, in each of two columns
    for column in ("as_text", "as_category"):
        assert type(out[column].dtype) is type(frame[column].dtype)  # category stays category
        assert out[column].iloc[:2].tolist() == ["web", "friend"]
        assert out[column].iloc[2:5].isna().all()
        assert out[column].iloc[5] == "call [phone] now"
    assert (out["other"] == CANARIES[0]).all()
    assert not _text_leaks(out[["as_text", "as_category"]].to_csv())
    assert frame["as_text"].iloc[2] == CANARIES[0]  # the input is not changed
    assert pii_free(3.5) == 3.5 and pii_free("plain") == "plain"

    recipe = json.dumps(
        {
            "columns": [
                {"name": "as_text", "categories": ["web", CANARIES[1]], "markers": [CANARIES[2]]},
                {"name": "other", "categories": [CANARIES[0]]},
            ]
        }
    )
    scrubbed = json.loads(scrub_recipe_values(recipe, ["as_text"]))
    assert scrubbed["columns"][0]["categories"] == ["web"]
    assert scrubbed["columns"][0]["markers"] == []
    assert scrubbed["columns"][1]["categories"] == [CANARIES[0]]  # not named: untouched


def _text_leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n.lower() in text.lower()]
