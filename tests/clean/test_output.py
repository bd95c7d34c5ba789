"""The cleaned table written to CSV: clock times as times a reader reads back."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.clean.output import clock_text, csv_frame


def test_clock_times_are_written_as_times_not_durations() -> None:
    col = pd.Series(pd.to_timedelta(["07:10:00", "19:10:00", None]))
    frame = csv_frame(pd.DataFrame({"start": col}), None)
    assert frame["start"].tolist()[:2] == ["07:10", "19:10"]
    assert pd.isna(frame["start"].iloc[2])
    assert col.dtype.kind == "m"  # the table itself is unchanged
    seconds = pd.Series(pd.to_timedelta(["07:10:05", "19:10:00"]))
    assert clock_text(seconds).tolist() == ["07:10:05", "19:10:00"]


def test_a_duration_of_a_day_or_more_stays_a_duration() -> None:
    col = pd.Series(pd.to_timedelta(["1 days 02:00:00", "03:00:00"]))
    assert clock_text(col) is None
    assert csv_frame(pd.DataFrame({"d": col}), None)["d"].dtype.kind == "m"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.times(), min_size=1, max_size=20))
def test_written_times_read_back_exactly(times: list[dt.time]) -> None:
    deltas = [
        dt.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)
        for t in times
    ]
    col = pd.Series(pd.to_timedelta(deltas))
    text = clock_text(col)
    assert text is not None
    back = [dt.time.fromisoformat(v) for v in text]
    assert back == [t.replace(tzinfo=None) for t in times]
