"""Dates, times and datetimes in mixed formats; day-first vs month-first from the values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.clean.dates import DateFormat, detect_date, parse_dates


def parse(values: list[str], **kw: object) -> tuple[DateFormat, list[str]]:
    fmt, _ = detect_date(values, np.ones(len(values), dtype=np.int64), **kw)  # type: ignore[arg-type]
    assert fmt is not None, values
    vals, _ = parse_dates(pa.array(values), fmt, np.zeros(len(values), dtype=bool))
    return fmt, [str(v)[:19] for v in vals]


def test_day_first_proved_by_the_values() -> None:
    fmt, vals = parse(["18/01/2016", "01/02/2016", "31/12/2016"])
    assert fmt.dayfirst is True and not fmt.ambiguous
    assert vals[1] == "2016-02-01T00:00:00"


def test_month_first_proved_by_the_values() -> None:
    fmt, vals = parse(["01/18/2016", "01/02/2016"])
    assert fmt.dayfirst is False and vals[1] == "2016-01-02T00:00:00"


def test_ambiguity_is_reported_not_guessed_silently() -> None:
    fmt, ev = detect_date(["01/02/2016", "03/04/2016"], np.ones(2, dtype=np.int64))
    assert fmt is not None and fmt.ambiguous
    assert any("ambiguous" in d for d in ev.decisions)
    fmt, _ = detect_date(["01/02/2016"], np.ones(1, dtype=np.int64), dayfirst=True)
    assert fmt is not None and fmt.dayfirst is True and not fmt.ambiguous


def test_conflicting_orders_keep_the_majority() -> None:
    fmt, ev = detect_date(["13/01/2016", "14/01/2016", "01/13/2016"], np.ones(3, dtype=np.int64))
    assert fmt is not None and fmt.dayfirst is True
    assert any("conflicting" in d for d in ev.decisions)


def test_mixed_formats_in_one_column() -> None:
    fmt, vals = parse(["2016-01-05", "Jan 6, 2016", "7 Feb 2016", "Jun 12 1998"])
    assert len(fmt.formats) == 4
    assert vals == [
        "2016-01-05T00:00:00",
        "2016-01-06T00:00:00",
        "2016-02-07T00:00:00",
        "1998-06-12T00:00:00",
    ]


def test_datetimes_times_and_offsets() -> None:
    fmt, vals = parse(["2014-08-27 12:31:41", "2015-11-30 21:25:06"])
    assert fmt.kind == "datetime" and vals[0] == "2014-08-27T12:31:41"
    fmt, _ = parse(["10:00", "23:59", "1:05 PM"])
    assert fmt.kind == "time"
    fmt, vals = parse(["2016-01-02T10:11:12+02:00", "2016-01-02T10:11:12Z"])
    assert fmt.utc and vals == ["2016-01-02T08:11:12", "2016-01-02T10:11:12"]


def test_fractional_seconds() -> None:
    _, vals = parse(["2016-01-02 10:11:12.345", "2016-01-02 10:11:12.5"])
    assert vals[0] == "2016-01-02T10:11:12"


def test_invalid_day_is_not_rolled_over() -> None:
    fmt, _ev = detect_date(["31/02/2016", "30/01/2016", "28/02/2016"], np.ones(3, dtype=np.int64))
    assert fmt is not None
    _vals, ok = parse_dates(pa.array(["31/02/2016", "30/01/2016"]), fmt, np.zeros(2, bool))
    assert ok.tolist() == [False, True]


def test_school_years_and_year_months() -> None:
    _, vals = parse(["2013-2014", "2012-2013", "2009-10"])
    assert vals[2] == "2009-01-01T00:00:00"
    _fmt, vals = parse(["2016-01", "2016-02", "2016-11"])
    assert vals[2] == "2016-11-01T00:00:00"


def test_things_that_are_not_dates() -> None:
    for values in (["6-25", "26-100", "1-5"], ["Spring 2012", "Fall 2006"], ["1.5", "2.25"]):
        fmt, ev = detect_date(values, np.ones(len(values), dtype=np.int64))
        assert fmt is None or ev.share == 0.0, values


def test_compact_dates_only_with_a_date_name() -> None:
    assert detect_date(["20160118", "20151231"], np.ones(2, dtype=np.int64))[0] is None
    fmt, _ = detect_date(["20160118", "20151231"], np.ones(2, dtype=np.int64), allow_compact=True)
    assert fmt is not None and fmt.formats == ["%Y%m%d"]


FORMATS = {
    "iso": "%Y-%m-%d",
    "dmy": "%d/%m/%Y",
    "mdy": "%m/%d/%Y",
    "dotted": "%d.%m.%Y",
    "named": "%d %b %Y",
    "us_named": "%b %d, %Y",
    "iso_time": "%Y-%m-%d %H:%M:%S",
}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2049, 12, 31)),
        min_size=2,
        max_size=25,
    ),
    st.sampled_from(sorted(FORMATS)),
)
def test_dates_parse_back(moments: list[dt.datetime], style: str) -> None:
    fmt_text = FORMATS[style]
    if "%H" not in fmt_text:
        moments = [dt.datetime(m.year, m.month, m.day) for m in moments]
    else:
        moments = [m.replace(microsecond=0) for m in moments]
    # one value that proves the day/month order, as a real column would have
    moments.append(dt.datetime(2001, 5, 23))
    texts = [m.strftime(fmt_text) for m in moments]
    dayfirst = None if style not in ("dmy", "mdy", "dotted") else style != "mdy"
    fmt, vals = parse(texts)
    if dayfirst is not None:
        assert fmt.dayfirst is dayfirst
    assert vals == [m.strftime("%Y-%m-%dT%H:%M:%S") for m in moments]
