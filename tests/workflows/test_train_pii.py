"""One PII detection, one answer (issue 14, point 7): the columns the run record and the
report name as personal data are exactly the ones training leaves out of the features,
because training excludes by the clean stage's findings instead of detecting again.

The table is made for the purpose: an e-mail column (personal data), a float ``hour`` column
(a look-alike of nothing personal), a signal column and a binary target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import apprentice.workflows.clean  # noqa: F401  (binds the real detect_pii before any patch)
from apprentice.bundle import train
from apprentice.guard import PIIReport
from apprentice.guard.pii import PIIFinding
from apprentice.workflows.run import run

FIRST = ["ana", "devin", "lee", "maria", "omar", "zoe", "li", "sam"]
LAST = ["rivera", "borrego", "smith", "khan", "ng", "okafor"]


def _table(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "email": [
                f"{rng.choice(FIRST)}.{rng.choice(LAST)}{i}@example.com" for i in range(rows)
            ],
            "hour": rng.uniform(0, 24, rows).round(4),
            "x": rng.normal(size=rows),
        }
    )
    frame["y"] = np.where(frame["x"] + rng.normal(scale=0.5, size=rows) > 0, "yes", "no")
    return frame


def _pii_excluded(ledger: list[dict[str, object]]) -> set[str]:
    return {
        str(e["column"])
        for e in ledger
        if e.get("action") == "exclude_column" and str(e.get("reason", "")).startswith("PII")
    }


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pii") / "people.csv"
    _table().to_csv(path, index=False)
    return path


def test_record_report_and_exclusions_agree(
    table_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))
    import apprentice.guard as guard

    scans: list[list[str]] = []
    real = guard.detect_pii

    def counted(frame: pd.DataFrame, **kwargs: object) -> PIIReport:
        scans.append([str(c) for c in frame.columns])
        return real(frame, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(guard, "detect_pii", counted)
    record = run(
        table_file,
        target="y",
        time_budget=None,
        max_trials=1,
        families=("linear",),
        track=False,
        n_boot=50,
    )
    assert scans == []  # training did not scan again (the clean stage holds its own import)
    named = set(record.pii["findings"]["pii_columns"])
    excluded = set(record.pii["protection"]["excluded_from_features"])
    assert named == excluded == {"email"}
    assert _pii_excluded(record.ledger) == excluded  # what training actually left out
    schema_columns = {c["name"] for c in record.bundle.manifest["schema"]["columns"]}
    assert not schema_columns & excluded and {"hour", "x"} <= schema_columns
    assert record.report is not None
    html = Path(record.report["html"]).read_text(encoding="utf-8")
    assert "excluded from the features" in html and "email" in html
    assert "no personal data" not in html.lower()


def test_training_excludes_by_the_findings_it_is_given(tmp_path: Path) -> None:
    frame = _table()
    given = PIIReport(
        findings=[
            PIIFinding(
                column="hour",
                kind="payment_card",
                share=1.0,
                matched=400,
                checked=400,
                evidence="value",
                confidence="high",
            )
        ],
        rows_scanned=400,
        rows_total=400,
        columns_scanned=["email", "hour", "x", "y"],
    )
    result = train(
        frame,
        target="y",
        out=tmp_path / "bundle",
        time_budget=None,
        max_trials=1,
        families=("linear",),
        n_boot=50,
        pii=given,
    )
    # one answer: the given findings, not a detection of training's own
    assert _pii_excluded(result.ledger) == {"hour"}
    reasons = {
        e["column"]: e["reason"] for e in result.ledger if e.get("action") == "exclude_column"
    }
    assert not str(reasons.get("email", "")).startswith("PII")
    assert "x" in {c["name"] for c in result.bundle.manifest["schema"]["columns"]}
