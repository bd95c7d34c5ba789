"""The watch loop's log-loss test: it sees a degradation that accuracy at the decision
threshold is blind to, and stays quiet on rows from the reference's own distribution.

The blind case is the one benchmarks/watch.py met on census_income_kdd and bank_marketing: a
champion whose F1-tuned threshold sends many rows to the rare class, and a new world whose
labels move to that class. Its decisions are then right more often than on the holdout (the
accuracy rises), while the probabilities it gives those rows are low (the loss rises)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.learn._data import text_table

from apprentice.monitor import Policy, check


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pd.DataFrame]:
    """A linear champion of 300 adult rows with its reference profile (300 other rows), and
    1,400 fresh rows of the same table."""
    from apprentice.bundle import load_bundle, train
    from apprentice.monitor import attach_profile, build_profile

    tmp = tmp_path_factory.mktemp("loss")
    rows = text_table("adult.csv", rows=2000, seed=21)
    rows.iloc[:300].to_csv(tmp / "base.csv", index=False)
    trained = train(tmp / "base.csv", target="income", out=tmp / "v1", time_budget=None,
                    max_trials=0, families=("linear",), n_jobs=1, n_boot=50)  # fmt: skip
    attach_profile(trained.path, build_profile(trained.bundle, rows.iloc[300:600]))
    return load_bundle(Path(tmp / "v1")), rows.iloc[600:].reset_index(drop=True)


def _logged(rows: pd.DataFrame, labels: Any) -> pd.DataFrame:
    """Rows as the prediction log gives them: the label joined, the time each was logged."""
    out = rows.copy()
    out["income"] = list(labels)
    out["__logged_at"] = "2026-12-04T20:00:00+00:00"
    return out


def test_the_loss_sees_what_accuracy_at_the_threshold_misses(
    champion: tuple[Any, pd.DataFrame],
) -> None:
    from apprentice.monitor.profile import load_profile, typed_features
    from apprentice.workflows.watch import log_loss_alert, log_loss_test

    bundle, fresh = champion
    proba = bundle.predictor.predict_frame(typed_features(bundle, fresh.drop(columns=["income"])))
    decided = bundle.decide(proba)
    confidence = proba[np.arange(len(decided)), decided]
    unsure = np.flatnonzero(confidence < 0.6)[:300]
    assert len(unsure) >= 150, "the champion is too sure of itself for this test"
    # the new world: these rows' outcomes are what the model decides, with low probabilities
    labels = [bundle.classes[int(k)] for k in decided[unsure]]
    current = _logged(fresh.iloc[unsure], labels)
    policy = Policy()

    result = check(bundle, current.copy(), policy=policy, time_column="__logged_at")
    window = result.performance["windows"][0]
    reference = load_profile(bundle)["reference_metrics"]
    assert window["accuracy"] == 1.0 > reference["accuracy"]  # accuracy sees an improvement
    assert not [a for a in result.alerts if a["check"] == "performance"]

    finding = log_loss_test(bundle, current, policy)
    assert finding is not None and finding["reference"] == pytest.approx(reference["log_loss"])
    (tested,) = finding["windows"]
    assert tested["rows"] == len(unsure) and tested["log_loss"] > 1.3 * reference["log_loss"]
    assert tested["p_value"] < 1e-6 and tested["alert"]
    alert = log_loss_alert(finding)
    assert alert is not None and alert["check"] == "performance_log_loss"
    assert alert["message"].startswith(
        f"log loss rose above the reference {finding['reference']:.4g}"
    )
    assert f"over {len(unsure)} labelled rows" in alert["message"]


def test_the_loss_is_quiet_on_unchanged_rows_and_skips_what_it_cannot_test(
    champion: tuple[Any, pd.DataFrame],
) -> None:
    from apprentice.workflows.watch import log_loss_alert, log_loss_test

    bundle, fresh = champion
    policy = Policy()
    for start in (0, 400, 800):  # three samples of 400 rows, their own labels
        rows = fresh.iloc[start : start + 400]
        finding = log_loss_test(bundle, _logged(rows, rows["income"]), policy)
        assert finding is not None and len(finding["windows"]) == 1
        assert finding["windows"][0]["p_value"] > policy.performance.alpha
        assert log_loss_alert(finding) is None
    # too few labelled rows in the window: not tested, and said so
    rows = fresh.iloc[:20]
    few = log_loss_test(bundle, _logged(rows, rows["income"]), policy)
    assert few is not None and few["windows"] == [] and few["untested_rows"] == 20
    assert log_loss_alert(few) is None
    # no known label at all: nothing to test; every row is kept as it was
    rows = fresh.iloc[:50]
    unlabelled = _logged(rows, [None] * 50)
    assert log_loss_test(bundle, unlabelled, policy) is None
    assert len(unlabelled) == 50 and unlabelled["income"].isna().all()


def test_the_policy_key_turns_the_loss_test_off(tmp_path: Path) -> None:
    from apprentice.errors import ConfigError
    from apprentice.monitor import load_policy

    assert load_policy().performance.log_loss is True
    path = tmp_path / "monitor.toml"
    path.write_text("[performance]\nlog_loss = false\n", encoding="utf-8")
    assert load_policy(path).performance.log_loss is False
    path.write_text('[performance]\nlog_loss = "no"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"log_loss in .* must be bool"):
        load_policy(path)
