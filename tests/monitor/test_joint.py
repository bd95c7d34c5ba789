"""The joint check: numbers within categories (a swap of two categories' meanings that keeps
both columns' own distributions is caught; samples of the reference's distribution are not)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.bundle import load_bundle
from apprentice.monitor import check, load_profile
from apprentice.monitor.check import NO_JOINT, finish_drift
from apprentice.monitor.joint import joint_profile, joint_sums, joint_tests, reference_rank
from apprentice.monitor.partial import check_chunks
from apprentice.monitor.policy import DriftPolicy
from apprentice.monitor.profile import attach_profile, frame_profile

SHARES = {"M": 0.36, "I": 0.33, "F": 0.31}
CENTRES = {"M": 1.0, "I": 0.45, "F": 0.9}


def shells(n: int, seed: int) -> pd.DataFrame:
    """A made-for-purpose table: the weight depends on the sex (infants are light), the
    target on the weight; M and I about equally common."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(list(SHARES), size=n, p=list(SHARES.values()))
    centre = np.array([CENTRES[s] for s in sex])
    weight = np.abs(centre + rng.normal(0, 0.25, n))
    length = 0.3 + 0.4 * weight + rng.normal(0, 0.05, n)
    rings = 4 + 8 * weight + rng.normal(0, 1.5, n)
    return pd.DataFrame(
        {
            "sex": sex,
            "weight": weight.round(4),
            "length": length.round(4),
            "rings": rings.round(2),
        }
    )


def swapped(rows: pd.DataFrame) -> pd.DataFrame:
    """M rows arrive as I and I rows as M (upstream recoding): the marginals barely move."""
    out = rows.copy()
    out["sex"] = out["sex"].map({"M": "I", "I": "M"}).fillna(out["sex"])
    return out


@pytest.fixture(scope="module")
def shell_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from apprentice.bundle import train

    rows = shells(4000, seed=1)
    result = train(
        rows,
        target="rings",
        out=tmp_path_factory.mktemp("joint") / "shells",
        time_budget=None,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
        n_boot=20,
    )
    return Path(result.path)


def test_the_profile_keeps_numbers_within_categories(shell_bundle: Path) -> None:
    profile = load_profile(load_bundle(shell_bundle))
    pairs = {(p["categorical"], p["numeric"]): p for p in profile["joint"]["pairs"]}
    assert ("sex", "weight") in pairs
    by = {c["category"]: c for c in pairs[("sex", "weight")]["categories"]}
    assert set(by) == set(SHARES)
    assert by["I"]["mean"] == pytest.approx(0.45, abs=0.05)
    assert by["M"]["mean"] == pytest.approx(1.0, abs=0.05)
    assert 0 <= by["I"]["rank_mean"] < by["M"]["rank_mean"] <= 1
    # summaries only: no category stores more than its count, mean and rank mean and sd
    assert all(set(c) == {"category", "n", "mean", "rank_mean", "rank_sd"} for c in by.values())
    # the stored profile round-trips through JSON unchanged
    assert json.loads(json.dumps(profile["joint"])) == profile["joint"]


def test_a_swap_that_keeps_the_marginals_is_caught(shell_bundle: Path) -> None:
    bundle = load_bundle(shell_bundle)
    current = swapped(shells(2000, seed=2))
    result = check(bundle, current.drop(columns=["rings"]))
    sex = next(c for c in result.drift if c.column == "sex")
    assert not sex.drifted  # the column's own distribution barely moved
    alerts = {a["check"]: a for a in result.alerts}
    assert "joint_drift" in alerts, result.alerts
    message = alerts["joint_drift"]["message"]
    assert "mean `weight` for `sex` = " in message and "->" in message
    pair = next(j for j in result.joint if (j.categorical, j.numeric) == ("sex", "weight"))
    assert pair.drifted and pair.p_adjusted < 0.001
    worst = pair.worst
    assert worst is not None and worst["category"] in {"M", "I"}
    moved = {"M": (1.0, 0.45), "I": (0.45, 1.0)}[worst["category"]]
    assert worst["mean_reference"] == pytest.approx(moved[0], abs=0.05)
    assert worst["mean_current"] == pytest.approx(moved[1], abs=0.05)
    payload = result.to_dict()
    json.dumps(payload, allow_nan=False)
    assert any(j["drifted"] for j in payload["drift"]["joint"])


def test_same_distribution_samples_pass(shell_bundle: Path) -> None:
    bundle = load_bundle(shell_bundle)
    for seed in (3, 4, 5):
        result = check(bundle, shells(2000, seed=seed))
        assert not any(j.drifted for j in result.joint)
        assert "joint_drift" not in {a["check"] for a in result.alerts}, result.alerts


def test_a_chunked_check_tests_the_same_pairs(shell_bundle: Path) -> None:
    bundle = load_bundle(shell_bundle)
    current = swapped(shells(1500, seed=6)).drop(columns=["rings"])
    whole = check(bundle, current)
    chunks = (current.iloc[i : i + 400].reset_index(drop=True) for i in range(0, 1500, 400))
    chunked = check_chunks(bundle, chunks)
    assert [(j.categorical, j.numeric) for j in chunked.joint] == [
        (j.categorical, j.numeric) for j in whole.joint
    ]
    for a, b in zip(whole.joint, chunked.joint, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-9)
        assert a.drifted == b.drifted
    assert "joint_drift" in {a["check"] for a in chunked.alerts}


def test_a_profile_written_before_the_check_still_monitors(
    shell_bundle: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "old"
    shutil.copytree(shell_bundle, copy)
    profile = load_profile(load_bundle(copy))
    del profile["joint"]
    attach_profile(copy, profile)
    bundle = load_bundle(copy)
    current = swapped(shells(1000, seed=7))
    result = check(bundle, current)
    assert result.joint == []
    assert NO_JOINT in result.notes
    assert "joint_drift" not in {a["check"] for a in result.alerts}
    assert result.performance is not None  # the rest of the check ran
    chunked = check_chunks(bundle, iter([current]))
    assert NO_JOINT in chunked.notes


def test_the_joint_tests_keep_their_level_on_reference_samples() -> None:
    """Without a model: 300 samples of 600 rows from the reference's distribution; the
    per-pair p-values at 5% reject about 5% of the time (not more than 8%)."""
    reference = shells(6000, seed=10).drop(columns=["rings"])
    columns = frame_profile(reference)
    joint = joint_profile(reference, columns, {"sex": 0.5, "weight": 0.3, "length": 0.2})
    assert len(joint["pairs"]) == 2
    rejections, tests = 0, 0
    for seed in range(300):
        sample = shells(600, seed=100 + seed)
        found = joint_tests(joint, joint_sums(joint, columns, sample), min_rows=30)
        rejections += sum(j.p_value < 0.05 for j in found)
        tests += len(found)
    assert tests == 600
    assert rejections / tests < 0.08


def test_pairs_share_the_columns_false_discovery_family() -> None:
    reference = shells(6000, seed=10).drop(columns=["rings"])
    columns = frame_profile(reference)
    joint = joint_profile(reference, columns, {})
    found = joint_tests(joint, joint_sums(joint, columns, swapped(shells(2000, 11))), 30)
    policy = DriftPolicy()
    finish_drift([], {}, policy, found)
    assert all(j.p_adjusted >= j.p_value for j in found)
    assert any(j.drifted for j in found)
    # an effect floor above what moved: significant, but not drifted
    finish_drift([], {}, DriftPolicy(min_joint_shift=0.99), found)
    assert not any(j.drifted for j in found)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=1, max_size=40),
)
def test_reference_rank_is_a_monotone_share(sample: list[float], values: list[float]) -> None:
    ref = np.sort(np.asarray(sample))
    ranks = reference_rank(np.asarray(values), ref)
    finite = np.isfinite(values)
    assert np.isnan(ranks[~finite]).all()
    assert ((ranks[finite] >= 0) & (ranks[finite] <= 1)).all()
    order = np.argsort(np.asarray(values)[finite], kind="stable")
    assert np.all(np.diff(ranks[finite][order]) >= 0)
