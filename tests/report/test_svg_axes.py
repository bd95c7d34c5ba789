"""The report's charts draw any finite values: a span of one subnormal float (found by the
leaderboard's Hypothesis test in a fresh clone: ``log10(0)``), huge values over a tiny span,
negative and equal values."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from apprentice.report import svg

finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(finite, min_size=1, max_size=6))
@example(values=[0.0, 5e-324])
@example(values=[1e308, 1e308 + 1e292])
@example(values=[-1.0, -1.0])
def test_bars_draw_any_finite_values(values: list[float]) -> None:
    items = [{"label": f"m{i}", "value": v} for i, v in enumerate(values)]
    out = svg.bars(items, title="t", xlabel="x")
    assert out.startswith("<svg") and out.rstrip().endswith("</svg>")
