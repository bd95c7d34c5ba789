"""The demo's second half on a real server: traffic, a shifted batch, an alert, a decision."""

from __future__ import annotations

from pathlib import Path

import pytest

import apprentice
from apprentice.data import demo_dataset
from apprentice.workflows.lifecycle import after_release, shift


def test_after_release_alerts_and_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("APPRENTICE_TRACKING_URI", raising=False)
    result = apprentice.run(
        demo_dataset(),
        target="income",
        name="adult-lifecycle",
        families=["linear"],
        max_trials=0,
        time_budget=None,
        n_jobs=1,
        report=False,
    )
    rows = apprentice.read(demo_dataset()).table.head(4000)
    messages: list[str] = []
    after = after_release(
        result.name, rows, target="income", n=150, time_budget=None, say=messages.append
    )
    assert after.served == 300 and after.feedback == 300 and after.shifted == 150
    # the shifted batch is what the monitor sees: older people working longer hours
    assert after.monitor.status == "alert"
    drifted = " ".join(str(a.get("message")) for a in after.monitor.alerts)
    assert "age" in drifted or "hours_per_week" in drifted
    decision = after.decision.to_dict()
    assert decision["decision"] in {"promote", "keep"} and decision["reason"]
    assert after.decision.report.exists()  # the challenger's run report, with the decision
    assert any("serving adult-lifecycle" in m for m in messages)


def test_shift_changes_only_age_and_hours() -> None:
    rows = apprentice.read(demo_dataset()).table.head(50)
    moved = shift(rows)
    assert (moved["age"].astype(int) == rows["age"].astype(int) + 20).all()
    assert (
        (
            moved.drop(columns=["age", "hours_per_week"])
            == rows.drop(columns=["age", "hours_per_week"])
        )
        .all()
        .all()
    )
