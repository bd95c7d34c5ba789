"""Canary PII: a report and model card of a table full of planted PII hold none of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_pii_canary import TITANIC, assert_no_canary, planted_table


@pytest.mark.skipif(not TITANIC.is_file(), reason="../shared/data/tables is not available")
def test_report_of_a_planted_table_holds_no_canary(tmp_path: Path) -> None:
    import pandas as pd

    from apprentice.bundle import train
    from apprentice.report import analyse, write_report

    planted = planted_table(tmp_path / "passengers.csv")
    rows = pd.read_csv(planted, dtype="str", keep_default_na=False)
    result = train(rows, target="Survived", out=tmp_path / "bundle", time_budget=None,
                   max_trials=0, n_jobs=1, n_boot=50, families=("linear", "lightgbm"))  # fmt: skip
    bundle = result.bundle
    # the canary rows are in the analysed rows, as holdout rows would be
    sections = analyse(bundle, rows, rows["Survived"], sensitive=["Sex", "Name"], n_boot=50)
    record = {**result.to_dict(), **sections, "run_id": "canary",
              "excluded_columns": bundle.manifest.get("excluded_columns"),
              "schema": bundle.manifest.get("schema")}  # fmt: skip
    document = json.loads(json.dumps(record, default=str))
    out = tmp_path / "report"
    write_report(document, out)
    assert_no_canary(out)
    assert_no_canary(json.dumps(sections))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Name" in html  # the user asked for it: groups shown, names masked
    assert "more groups, each too small to judge" in html
