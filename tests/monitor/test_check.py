"""A check on a real bundle: stable data passes, shifts and broken data alert."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.errors import BundleError, ConfigError
from apprentice.monitor import check, load_policy, load_profile
from tests.monitor.conftest import Monitored


def test_profile_is_in_the_verified_bundle(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    profile = load_profile(bundle)
    assert profile["features"]["age"]["kind"] == "numeric"
    assert profile["features"]["workclass"]["kind"] == "categorical"
    assert profile["calibration"]["rows"] > 500
    assert sum(profile["importance"].values()) == pytest.approx(1.0)
    assert json.loads((monitored.path / "manifest.json").read_text())["profile"] == "profile.json"


def test_tampered_profile_is_refused(monitored: Monitored, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(monitored.path, copy)
    (copy / "profile.json").write_text("{}")
    with pytest.raises(BundleError):
        load_bundle(copy)


def test_same_distribution_is_fine_and_cbpe_is_close(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    result = check(bundle, monitored.current)
    assert result.status == "ok", result.alerts
    est = result.estimated
    assert est is not None and est["assumptions"]
    actual = result.performance["windows"][0]["accuracy"]
    assert abs(est["accuracy"] - actual) < 0.04
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_shift_in_an_important_feature_alerts(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    shifted = monitored.current.copy()
    shifted["marital_status"] = "Never-married"
    result = check(bundle, shifted)
    assert result.status == "alert"
    drifted = {c.column for c in result.drift if c.drifted}
    assert "marital_status" in drifted
    checks = {a["check"] for a in result.alerts}
    assert "feature_drift" in checks


def test_quality_problems_alert(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    broken = monitored.current.drop(columns=["hours_per_week"]).copy()
    broken.loc[: len(broken) // 2, "age"] = ""
    broken.loc[:50, "workclass"] = "Space-agency"
    broken.loc[:100, "capital_loss"] = "999999"
    result = check(bundle, broken)
    checks = {(a["check"], a.get("column")) for a in result.alerts}
    assert ("schema", None) in checks
    assert ("missing_rate", "age") in checks
    assert ("unseen_categories", "workclass") in checks
    assert ("out_of_range", "capital_loss") in checks


def test_policy_file(tmp_path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text("[drift]\nalpha = 0.01\nmax_score = 0.5\n[alert]\nwebhook = 'http://x'\n")
    policy = load_policy(path)
    assert policy.drift.alpha == 0.01 and policy.drift.max_score == 0.5
    assert policy.quality.max_missing_increase == 0.1
    path.write_text("[drift]\nalhpa = 0.01\n")
    with pytest.raises(ConfigError, match="alhpa"):
        load_policy(path)
    path.write_text("[drift]\nalpha = 'x'\n")
    with pytest.raises(ConfigError):
        load_policy(path)


def test_performance_per_time_window(monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    frame = monitored.current.copy()
    frame["when"] = np.repeat(pd.date_range("2026-01-01", periods=4, freq="D"), 250)
    frame = frame.drop(columns=[])
    result = check(bundle, frame, time_column="when")
    windows = result.performance["windows"]
    assert len(windows) == 4
    assert all(w["low"] <= w["accuracy"] <= w["high"] for w in windows)


def test_the_training_hook_path(monitored: Monitored, tmp_path) -> None:
    """What ``train`` calls: typed training features, raw holdout rows with the target, and
    the loaded bundle updated in memory."""
    import shutil

    from apprentice.monitor import attach_profile, build_profile
    from apprentice.monitor.profile import typed_features

    copy = tmp_path / "b"
    shutil.copytree(monitored.path, copy)
    bundle = load_bundle(copy)
    train_rows = monitored.reference.iloc[:2200].drop(columns=["income"])
    profile = build_profile(
        bundle,
        monitored.reference.iloc[2200:],
        train_features=typed_features(bundle, train_rows),
    )
    attach_profile(copy, profile, bundle=bundle)
    assert load_profile(bundle)["rows"] == 2200
    assert load_profile(load_bundle(copy))["reference_rows"] == 800
