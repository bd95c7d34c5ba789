"""The HTML report and the model card: every section, escaped, offline, tolerant, rebuilt."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apprentice.cli import main
from apprentice.errors import InputError
from apprentice.report import load_record, render_html, render_model_card, risks, write_report
from tests.learn._data import needs_tables
from tests.report._record import adult_record


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@needs_tables
def test_full_report_sections(tmp_path: Path) -> None:
    paths = write_report(adult_record(), tmp_path)
    html = paths.html.read_text(encoding="utf-8")
    assert paths.html.name == "report.html" and paths.model_card.name == "model_card.md"
    assert 'id="leaderboard"' in html and "Risks and limits" in html
    for title in ("Confusion matrix", "ROC curve", "Precision-recall curve", "Calibration"):
        assert title in html
    assert html.count("<svg") >= 7  # leaderboard, 4 holdout plots, importance, SHAP, fairness
    assert "SHAP summary" in html and "Fairlearn (all groups)" in html
    assert "too small to judge" in html  # the planted group: shown and flagged
    assert "adult-income version 1 (alias champion)" in html
    card = paths.model_card.read_text(encoding="utf-8")
    for heading in (
        "## Purpose and intended use",
        "## Data",
        "## Leaderboard",
        "## Worst slices",
        "## Importance",
        "## Fairness",
        "## Risks and limits",
        "## How to reproduce",
    ):
        assert heading in card  # fmt: skip
    assert "| rank | model |" in card


@needs_tables
def test_values_from_the_data_are_inert(tmp_path: Path) -> None:
    paths = write_report(adult_record(), tmp_path)
    html = paths.html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the planted category, escaped
    assert not re.search(r"<\s*script", html, re.IGNORECASE)
    assert not re.search(r"<\s*img", html, re.IGNORECASE)
    card = paths.model_card.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in card and "<script" not in card.lower()
    # and a script could not run anyway: the page forbids scripts and requests
    assert "Content-Security-Policy" in html and "default-src &#39;none&#39;" in html


@needs_tables
def test_report_makes_no_request(tmp_path: Path) -> None:
    html = render_html(adult_record())
    refs = re.findall(r"""(?:src|href|action|poster|data)\s*=\s*["']?([^"'\s>]+)""", html)
    assert all(r.startswith("#") for r in refs), refs
    assert "url(" not in html and "@import" not in html and "<link" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls  # the SVG namespace name only


@needs_tables
def test_no_raw_values_beyond_category_labels() -> None:
    record = adult_record()
    text = json.dumps(record["explain"])
    assert "Private" not in text and "Bachelors" not in text


def test_tolerant_of_missing_and_malformed_sections(tmp_path: Path) -> None:
    paths = write_report({}, tmp_path / "empty")
    html = paths.html.read_text(encoding="utf-8")
    assert html.count("not computed") >= 6 and "Risks and limits" in html
    assert "No holdout evaluation" in html
    broken = {
        "leaderboard": "x",
        "plots": 3,
        "metrics": [1],
        "explain": {"error": "no contribution method"},
        "fairness": {"error": "the sensitive column 'x' is not in the table"},
        "error_slices": {"error": "ValueError while computing this section"},
        "calibration": {"bins": [None, {"mean_predicted": 0.2, "observed": 0.3}]},
        "classes": "ab",
        "split": {"train_rows": "many"},
    }
    html = write_report(broken, tmp_path / "broken").html.read_text(encoding="utf-8")
    assert "no contribution method" in html and "is not in the table" in html
    render_model_card(broken)


def test_risks_written_from_the_evidence() -> None:
    record = {
        "split": {"train_rows": 400, "holdout_rows": 80},
        "metrics": {"roc_auc": {"value": 0.75, "low": 0.6, "high": 0.9}},
        "comparisons": [
            {
                "role": "baseline",
                "better": False,
                "a": "lgb",
                "b": "linear",
                "metric": "roc_auc",
                "difference": 0.01,
                "low": -0.02,
                "high": 0.04,
                "p_value": 0.3,
            }
        ],
        "plots": {"class_balance": {"labels": ["no", "yes"], "counts": [76, 4]}},
        "calibration": {"ece": 0.12},
        "leakage": {"near_perfect": {"refund_id": 0.99}, "shared_duplicates": 3},
        "excluded_columns": {"email": "PII (email)"},
        "fairness": {
            "min_group": 30,
            "summary": {
                "sex": {
                    "demographic_parity_difference": 0.31,
                    "demographic_parity_difference_interval": [0.2, 0.4],
                    "small_groups": ["other"],
                }
            },
        },
        "error_slices": [
            {
                "feature": "age",
                "slice": "[60, 90]",
                "n": 40,
                "error": 0.4,
                "overall": 0.2,
                "significant": True,
            }
        ],
        "profile": {
            "income": {"missing_share": 0.45},
            "age": {
                "missing_share": 0.0,
                "outside_train_range": 3,
                "train_min": 18,
                "train_max": 70,
            },
        },
        "schema": {"columns": [{"name": "age", "minimum": 18, "maximum": 70}]},
        "data": {"quarantined": 2},
        "warnings": ["a training warning"],
    }
    found = {r["title"]: r for r in risks(record)}
    for title in (
        "Small holdout",
        "Small training sample",
        "Wide interval on roc_auc",
        "No evidence of beating the linear baseline",
        "Imbalanced classes",
        "Probabilities are not well calibrated",
        "Possible target leak: refund_id",
        "Holdout rows copied in training",
        "1 column(s) not used as features",
        "Subgroup gap in selection rates by sex",
        "Groups too small to judge in sex",
        "Worse on 1 slice(s) of the data",
        "Features with many missing values",
        "Holdout values outside the training range",
        "Ranges outside which the model extrapolates",
        "Rows left out when reading",
        "Training warning",
    ):
        assert title in found, title
    assert "[0.6, 0.9]" in found["Wide interval on roc_auc"]["detail"]
    levels = [r["level"] for r in risks(record)]
    assert levels == sorted(levels, key=["high", "medium", "note"].index)
    perfect = risks(
        {
            "metrics": {"roc_auc": {"value": 0.9995, "low": 0.999, "high": 1.0}},
            "explain": {"importance": [{"feature": "is_recid"}]},
            "leakage": {"near_perfect": {"r_date": 0.99}},
            "warnings": ["column 'r_date' predicts the target almost perfectly"],
        }
    )
    assert perfect[0]["title"] == "Suspiciously good holdout score"
    assert "is_recid" in perfect[0]["detail"]
    assert not any(r["title"] == "Training warning" for r in perfect)  # said once, as a leak
    quiet = risks({"metrics": {"r2": {"value": 0.8, "low": 0.78, "high": 0.82}},
                   "sensitive_suggested": ["sex"]})  # fmt: skip
    titles = {r["title"] for r in quiet}
    assert "Fairness not assessed" in titles and not any("Wide" in t for t in titles)


@needs_tables
def test_report_command_rebuilds_from_run_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws"
    folder = workspace / "runs" / "adult-1"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(adult_record()), encoding="utf-8")
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(workspace))
    code, _, err = _run(["report", "adult-1"], capsys)  # a run id under the workspace
    assert code == 0, err
    assert (folder / "report.html").is_file() and (folder / "model_card.md").is_file()
    out = tmp_path / "elsewhere"
    code, stdout, _ = _run(["report", str(folder), "--out", str(out), "--json"], capsys)
    assert code == 0 and json.loads(stdout)["html"] == str(out / "report.html")
    assert (out / "report.html").read_text() == (folder / "report.html").read_text().replace(
        re.search(r"Rendered [^.]+", (folder / "report.html").read_text()).group(0),  # type: ignore[union-attr]
        re.search(r"Rendered [^.]+", (out / "report.html").read_text()).group(0),  # type: ignore[union-attr]
    )


def test_a_run_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))
    code, stdout, err = _run(["report", "no-such-run"], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("error: no run 'no-such-run'") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not a valid run record"):
        load_record(bad)
    (bad / "run.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON object"):
        load_record(bad)
