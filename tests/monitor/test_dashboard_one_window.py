"""A dashboard whose labelled rows all fall in one window still shows the measured number:
the sentence that stands for a one-point chart writes the window's value and the reference."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from apprentice.bundle import load_bundle
from apprentice.monitor.dashboard import dashboard_html
from tests.monitor.conftest import Monitored
from tests.monitor.test_dashboard_truth import _log


def test_one_window_of_labels_shows_the_measured_metric_and_the_reference(
    monitored: Monitored, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("one-window")
    bundle = load_bundle(monitored.path)
    rows = monitored.current.iloc[:50]
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    stamps = [minute + timedelta(seconds=i) for i in range(len(rows))]  # within one minute
    url = _log(folder / "log.sqlite", rows.drop(columns=["income"]), rows["income"], stamps)
    page = dashboard_html(url, bundle)
    found = re.search(
        r"not enough data for a chart of (\w+) per window: one window so far \(a line needs "
        r"two\): [^<]*\((\d[\d,]*) labelled rows\): <b>([0-9.]+)</b> \(reference ([0-9.]+)\)",
        page,
    )
    assert found, page[page.find("per window") - 300 : page.find("per window") + 400]
    metric, labelled, value, reference = found.groups()
    assert metric == "accuracy"
    assert int(labelled.replace(",", "")) == 25  # every other row got feedback
    assert 0.0 <= float(value) <= 1.0 and 0.0 <= float(reference) <= 1.0
    assert 'data-points="1"' not in page  # a sentence, not an empty chart


def test_a_flat_line_gets_a_range_around_it() -> None:
    from apprentice.monitor.dashboard import _line

    svg = _line([("04:07", 0.5), ("04:08", 0.5)], label="latency", unit=" ms")
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert labels[:2] == ["0.55", "0.45"]  # the top and bottom of the axis differ
    ys = {float(y) for y in re.findall(r'cy="([0-9.]+)"', svg)}
    assert len(ys) == 1 and 10 < ys.pop() < 134  # the line inside the chart, not on its floor
