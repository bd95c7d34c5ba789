"""The monitoring page: one self-contained HTML document (inline SVG, no script or style
loaded from anywhere), for ``apprentice monitor --html`` and the server's ``GET /dashboard``."""

from __future__ import annotations

import html
import math
import re
from typing import Any


def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, digits: int = 3) -> str:
    """A number for a person: 3 significant digits, ``n/a`` for what is missing."""
    if value is None:
        return "n/a"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if not math.isfinite(number):
        return "n/a"
    if number != 0 and abs(number) < 10**-digits:  # 0.000701 reads better as 7.0e-04
        return f"{number:.1e}"
    return f"{number:.{digits}g}" if abs(number) < 10**digits else f"{number:,.0f}"


def _not_enough(
    points: list[tuple[str, float]],
    what: str,
    *,
    unit: str = "",
    reference: float | None = None,
) -> str:
    """The sentence that stands for a chart of fewer than two windows: the one window's value
    (and the reference) written out, so a number measured is never hidden."""
    if not points:
        return f'<p class="none">no data for {_e(what)}</p>'
    key, value = points[0]
    ref = "" if reference is None else f" (reference {_num(reference)}{_e(unit)})"
    return (
        f'<p class="none">not enough data for a chart of {_e(what)}: one window so far '
        f"(a line needs two): {_e(key)}: <b>{_num(value)}{_e(unit)}</b>{ref}</p>"
    )


def _bars(rows: list[tuple[str, float, str]], *, label: str, width: int = 640) -> str:
    """A horizontal bar chart as inline SVG; the colour says the verdict of each bar."""
    if not rows:
        return '<p class="none">no feature to show</p>'
    top = max([v for _, v, _ in rows] + [1e-9])
    h = 20
    parts = [
        f'<svg class="chart" data-points="{len(rows)}" role="img" aria-label="{_e(label)}" '
        f'width="{width}" height="{h * len(rows) + 4}">'
    ]
    for i, (name, value, verdict) in enumerate(rows):
        w = max(1.0, (width - 250) * value / top)
        colour = _COLOURS.get(verdict, "#2b6cb0")
        parts.append(
            f'<text x="0" y="{i * h + 14}" font-size="12">{_e(name[:28])}</text>'
            f'<rect x="190" y="{i * h + 3}" width="{w:.1f}" height="{h - 6}" fill="{colour}" '
            f'data-verdict="{_e(verdict)}"><title>{_e(name)}: {_num(value)} ({_e(verdict)})'
            f"</title></rect>"
            f'<text x="{194 + w:.1f}" y="{i * h + 14}" font-size="11">{_num(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line(
    points: list[tuple[str, float]],
    *,
    label: str,
    unit: str = "",
    reference: float | None = None,
    width: int = 640,
) -> str:
    """A line chart as inline SVG (x: the windows in order), its range and first and last
    window written on the axes; fewer than two points get a sentence, not an empty chart."""
    if len(points) < 2:
        return _not_enough(points, label, unit=unit, reference=reference)
    values = [v for _, v in points]
    span_values = [*values, *([reference] if reference is not None else [])]
    lo, hi = min(span_values), max(span_values)
    if hi == lo:  # a flat line: a range around it, not two axis labels of the same number
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    span = hi - lo
    height, left, right, top, bottom = 160, 56, 12, 10, 26
    n = len(points)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - lo) / span)

    xy = [(left + (width - left - right) * i / (n - 1), y(v)) for i, v in enumerate(values)]
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in xy)
    dots = "".join(
        f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="#2b6cb0"><title>{_e(k)}: '
        f"{_num(v)}{_e(unit)}</title></circle>"
        for (a, b), (k, v) in zip(xy, points, strict=True)
    )
    ref = ""
    if reference is not None:
        ref = (
            f'<line class="reference" x1="{left}" x2="{width - right}" y1="{y(reference):.1f}" '
            f'y2="{y(reference):.1f}" stroke="#718096" stroke-dasharray="4 3"/>'
            f'<text x="{width - right}" y="{y(reference) - 3:.1f}" font-size="10" '
            f'text-anchor="end" fill="#4a5568">reference {_num(reference)}</text>'
        )
    axes = (
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#cbd5e0"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" '
        f'stroke="#cbd5e0"/>'
        f'<text x="{left - 4}" y="{top + 9}" font-size="10" text-anchor="end">{_num(hi)}</text>'
        f'<text x="{left - 4}" y="{height - bottom}" font-size="10" text-anchor="end">'
        f"{_num(lo)}</text>"
        f'<text x="{left}" y="{height - 8}" font-size="10">{_e(points[0][0])}</text>'
        f'<text x="{width - right}" y="{height - 8}" font-size="10" text-anchor="end">'
        f"{_e(points[-1][0])}</text>"
    )
    return (
        f'<svg class="chart" data-points="{n}" role="img" aria-label="{_e(label)}" '
        f'width="{width}" height="{height}">{axes}{ref}<polyline fill="none" stroke="#2b6cb0" '
        f'stroke-width="2" points="{path}"/>{dots}</svg>'
    )


#: the verdict of a feature's drift, and its colour on the bars and in the table
DRIFTED, SMALL, STABLE, TOO_FEW = (
    "drifted",
    "moved, below the effect floor",
    "stable",
    ("too few rows to judge"),
)
_COLOURS = {DRIFTED: "#c53030", SMALL: "#b7791f", STABLE: "#2b6cb0", TOO_FEW: "#a0aec0"}
_CLASSES = {DRIFTED: "alert", SMALL: "warn", STABLE: "ok", TOO_FEW: "none"}


def verdict(column: dict[str, Any], min_rows: int, alpha: float) -> str:
    """What the page says of one column's drift: never "stable" on fewer rows than the tests
    need (``min_rows``), and a significant move under the effect-size floor is no "stable"."""
    if int(column.get("n_current") or 0) < min_rows:
        return TOO_FEW
    if column.get("drifted"):
        return DRIFTED
    p = column.get("p_adjusted")
    if p is not None and p < alpha:
        return SMALL
    return STABLE


def _distances(distance: dict[str, Any]) -> str:
    names = {"wasserstein": "W1/sd", "psi": "PSI", "jensen_shannon": "JS", "ks": "KS"}
    return " · ".join(
        f"{_e(names.get(k, k))} {_num(v)}" for k, v in distance.items() if v is not None
    )


def _css() -> str:
    """The report's stylesheet (one copy: read from the report's template) and the few rules
    of this page."""
    from importlib.resources import files

    template = files("apprentice.report").joinpath("templates/report.html.j2").read_text("utf-8")
    found = re.search(r"<style>(.*?)</style>", template, re.S)
    return (found.group(1) if found else "") + _PAGE_CSS


_PAGE_CSS = (
    ".alert{color:var(--red);font-weight:600}.warn{color:var(--amber)}.ok{color:#276749}"
    "ul.alerts{padding-left:18px}ul.alerts li{margin:4px 0}svg.chart{display:block;"
    "max-width:100%;height:auto}svg.chart text{fill:var(--ink)}"
    ".legend span{display:inline-block;margin-right:14px;font-size:12px}"
    ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}"
)
TOO_FEW_WINDOWS = (
    '<p class="none">not enough data for a chart: no window has the {} rows a drift test needs</p>'
)
NONE_ITEM = '<li class="none">none</li>'
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


def _status(result: dict[str, Any], min_rows: int) -> str:
    if result.get("alerts"):
        return "alert"
    return TOO_FEW if int(result.get("rows") or 0) < min_rows else "ok"


def monitor_html(
    result: dict[str, Any],
    *,
    title: str = "apprentice monitor",
    extra: str = "",
    policy: Any = None,
) -> str:
    """The page of one check (``MonitorResult.to_dict()``), plus optional ``extra`` sections,
    styled like the report. ``policy`` (default :class:`Policy`) gives the minimum sample
    below which no feature is called stable."""
    from apprentice.monitor.policy import Policy

    policy = policy or Policy()
    min_rows, alpha = policy.drift.min_rows, policy.drift.alpha
    status = _status(result, min_rows)
    alerts = result.get("alerts", [])
    drift = result.get("drift", {})
    columns = sorted(drift.get("columns", []), key=lambda c: -(c.get("importance") or 0))
    verdicts = [verdict(c, min_rows, alpha) for c in columns]
    bars = [(c["column"], _main(c), v) for c, v in zip(columns, verdicts, strict=True)]
    total = sum(float(c.get("importance") or 0) for c in columns)
    drifted_weight = sum(
        float(c.get("importance") or 0)
        for c, v in zip(columns, verdicts, strict=True)
        if v == DRIFTED
    )
    # the header's score is the share of importance the red bars carry: the check's score
    score = drifted_weight / total if total > 0 else float(drift.get("score") or 0.0)
    n_drifted = verdicts.count(DRIFTED)
    biggest = max(bars, key=lambda b: b[1]) if bars else None
    table = "".join(
        f"<tr><td>{_e(c['column'])}</td><td>{_e(c['kind'])}</td><td>{_e(c['test'])}</td>"
        f'<td class="num">{_num(c.get("p_adjusted"), 2)}</td>'
        f"<td>{_distances(c.get('distance', {}))}</td>"
        f'<td class="num">{_num(c.get("importance") or 0)}</td>'
        f'<td class="num">{int(c.get("n_current") or 0):,}</td>'
        f'<td class="{_CLASSES[v]} verdict">{_e(v)}</td></tr>'
        for c, v in zip(columns, verdicts, strict=True)
    )
    alert_items = "".join(
        f'<li class="alert">{_e(a.get("check"))}: {_e(a.get("message"))}</li>' for a in alerts
    )
    perf = result.get("performance") or {}
    metric = perf.get("metric")
    perf_points = [
        (f"{w['window']} ({int(w.get('rows') or 0):,} labelled rows)", float(w[metric]))
        for w in perf.get("windows", [])
    ]
    perf_html = ""
    if perf:
        perf_html = _line(
            perf_points,
            label=f"{metric} per window",
            reference=perf.get("reference"),
        ) + (
            f'<p class="muted">{_e(metric)} of the labelled rows per window against the '
            f"reference holdout ({_num(perf.get('reference'))}, dashed); "
            f"{_e(perf.get('direction', ''))}.</p>"
        )
    est = result.get("estimated_performance") or {}
    est_html = ""
    if est:
        interval = est.get("accuracy_interval") or [None, None]
        est_html = (
            f"<p>estimated accuracy (CBPE, no labels): <b>{_num(est.get('accuracy'))}</b> "
            f"[{_num(interval[0])}, {_num(interval[1])}]; reference "
            f"{_num(est.get('reference_accuracy'))}</p><details><summary>assumptions</summary>"
            "<ul>"
            + "".join(f"<li>{_e(a)}</li>" for a in est.get("assumptions", []))
            + "</ul></details>"
        )
    if not perf_html and not est_html:
        perf_html = '<p class="none">no labelled rows and no estimate: nothing to show</p>'
    legend = "".join(
        f'<span><i style="background:{_COLOURS[v]}"></i>{_e(v)}</span>'
        for v in (DRIFTED, SMALL, STABLE, TOO_FEW)
    )
    rows = int(result.get("rows") or 0)
    few = (
        f'<p class="warn">{rows:,} rows: the drift tests need at least {min_rows} rows per '
        "feature, so no feature is judged yet</p>"
        if rows < min_rows
        else ""
    )
    cards = (
        f'<div class="card"><span>status</span><b class="{_e(_CLASSES.get(status, status))}" '
        f'id="status">{_e(status)}</b></div>'
        f'<div class="card"><span>rows checked</span><b>{rows:,}</b></div>'
        f'<div class="card"><span>drift score</span><b id="drift-score">{score:.3f}</b>'
        f"<span>{n_drifted} of {len(columns)} features drifted (red bars), weighted by "
        "importance</span></div>"
        + (
            f'<div class="card"><span>largest move</span><b>{_num(biggest[1])}</b>'
            f"<span>{_e(biggest[0])}</span></div>"
            if biggest
            else ""
        )
        + f'<div class="card"><span>open alerts</span><b>{len(alerts)}</b></div>'
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{_css()}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>checked at {_e(result.get('checked_at', ''))}</p>"
        f"</header><main>"
        f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div>{few}</section>'
        f'<section id="alerts"><h2>Open alerts</h2><ul class="alerts">'
        f"{alert_items or NONE_ITEM}</ul></section>{extra}"
        f'<section id="drift"><h2>Drift per feature</h2>'
        f'<p class="muted">How far each feature moved from the reference: W1/sd (Wasserstein '
        "distance over the reference's standard deviation) for numbers, the Jensen-Shannon "
        "distance for categories. The drift score is the importance of the red bars over "
        f'the importance of all bars.</p><p class="legend">{legend}</p>'
        f"{_bars(bars, label='drift per feature')}"
        f'<table><tr><th>column</th><th>kind</th><th>test</th><th class="num">p (BH)</th>'
        f'<th>distances</th><th class="num">importance</th><th class="num">rows</th>'
        f"<th>verdict</th></tr>{table}</table></section>"
        f'<section id="performance"><h2>Performance</h2>{perf_html}{est_html}</section>'
        f"</main></body></html>"
    )


def _main(column: dict[str, Any]) -> float:
    """How far a column moved: W1/sd for numbers, the Jensen-Shannon distance otherwise."""
    dist = column.get("distance", {})
    value = dist.get("wasserstein") if column["kind"] == "numeric" else dist.get("jensen_shannon")
    return float(value or 0.0)


_WINDOWS = ((60, "1min"), (300, "5min"), (3600, "1h"), (6 * 3600, "6h"), (86400, "1D"))


def _bucket(stamps: Any) -> str:
    """A window length giving about a dozen windows over the logged period."""
    span = (stamps.max() - stamps.min()).total_seconds() if len(stamps) else 0
    for seconds, freq in _WINDOWS:
        if span / 12 <= seconds:
            return freq
    return "7D"


def _quantile(counts: Any, q: float) -> float:
    """The ``q`` quantile of a latency histogram (the upper edge of its bucket; the open
    last bucket reads as its lower edge)."""
    from apprentice.monitor.log import LATENCY_EDGES

    total = float(counts.sum())
    if total <= 0:
        return 0.0
    index = int((counts.cumsum() >= q * total).to_numpy().argmax())
    edges = (*LATENCY_EDGES, LATENCY_EDGES[-1])
    return float(edges[min(index, len(edges) - 1)])


def volume_latency(url: str, since: Any) -> tuple[str, str, int]:
    """The volume and latency sections from the log's per-minute aggregates (kept by the
    database on every insert, so this reads a few thousand rows whatever the log's size);
    the window used and the number of predictions in the period."""
    from datetime import UTC, datetime

    import pandas as pd

    from apprentice.monitor.log import read_windows

    cutoff = datetime.now(UTC) - since
    columns = ["minute", "version", "bucket", "n"]
    found = pd.DataFrame(read_windows(url, cutoff, hourly=True), columns=columns)
    if found["minute"].nunique() <= 12:  # a short period: its minutes are few, read them
        found = pd.DataFrame(read_windows(url, cutoff), columns=columns)
    if found.empty:
        return "", "", 0
    minutes = pd.to_datetime(found["minute"], utc=True, format="%Y-%m-%dT%H:%M")
    freq = _bucket(minutes)
    floored = minutes.dt.floor(freq)
    labels = floored.dt.strftime("%m-%d %H:%M")
    # every window of the period, an empty one as 0 (a gap in traffic is news, not a blank)
    every = pd.date_range(floored.min(), floored.max(), freq=freq).strftime("%m-%d %H:%M")
    volume = found["n"].groupby(labels).sum().reindex(every, fill_value=0)
    histogram = found.assign(label=labels).pivot_table(
        index="label", columns="bucket", values="n", aggfunc="sum", fill_value=0
    )
    histogram = histogram.reindex(columns=sorted(histogram.columns))
    latency = [(str(k), _quantile(row, 0.95)) for k, row in histogram.sort_index().iterrows()]
    html_ = (
        f'<section id="volume"><h2>Prediction volume (per {_e(freq)})</h2>'
        f"{_line([(str(k), float(v)) for k, v in volume.items()], label='prediction volume')}"
        f'<p class="muted">{int(found["n"].sum()):,} predictions in {len(volume)} window(s) '
        f"of {_e(freq)}</p>"
        f'</section><section id="latency"><h2>Latency, 95th percentile (ms)</h2>'
        f"{_line(latency, label='latency, 95th percentile', unit=' ms')}</section>"
    )
    return html_, freq, int(found["n"].sum())


def newest_rows(url: str, since: Any, max_rows: int) -> Any:
    """The newest ``max_rows`` logged predictions of the period with their latest feedback
    (an index walk: the cost does not grow with the log)."""
    from datetime import UTC, datetime

    from apprentice.monitor.log import _query

    cutoff = datetime.now(UTC) - since
    bound: Any = cutoff.isoformat(timespec="microseconds") if url.startswith("sqlite") else cutoff
    sql = (
        "SELECT p.created_at, p.inputs, p.prediction, p.probabilities, p.latency_ms, "
        "(SELECT MAX(f.actual) FROM feedback f WHERE f.request_id = p.request_id) AS actual "
        "FROM (SELECT request_id, created_at, inputs, prediction, probabilities, latency_ms "
        "FROM predictions WHERE created_at >= :cutoff ORDER BY created_at DESC "
        f"LIMIT {int(max_rows)}) p ORDER BY p.created_at"
    )
    return _query(url, sql, {"cutoff": bound})


def dashboard_html(
    log_db_url: str | None, bundle: Any, *, since: str = "30d", max_rows: int = 5_000
) -> str:
    """The ``GET /dashboard`` page of a served bundle, from its prediction log: prediction
    volume, latency, drift per feature over time, performance over time, open alerts.

    ``log_db_url``: the server's log URL (``None``: the workspace's log). Volume and latency
    cover every prediction of the last ``since``, read from the log's per-minute aggregates;
    drift, performance and alerts are computed on the newest ``max_rows`` predictions (the
    page says how many), so the page takes about the same time on a log of any size.
    Everything is inline: the page loads nothing from anywhere. A bundle without a
    reference profile gets volume and latency only.
    """
    import numpy as np

    from apprentice.monitor.check import check, feature_drift
    from apprentice.monitor.log import _url, log_frame, parse_period
    from apprentice.monitor.policy import Policy
    from apprentice.monitor.profile import load_profile, typed_features

    title = f"apprentice dashboard: {bundle.target or 'model'} ({bundle.task})"
    url = _url(log_db_url)
    period = parse_period(since)
    extra, _, total = volume_latency(url, period)
    logged = newest_rows(url, period, max_rows) if total else None
    if logged is None or logged.empty:
        return monitor_html(
            {"status": "ok", "rows": 0, "alerts": [], "drift": {"score": 0, "columns": []}},
            title=title,
            extra='<section id="volume"><h2>Prediction volume</h2><p class="none">no '
            f"prediction logged in the last {_e(since)}</p></section>",
        )
    raw = log_frame(logged, bundle)
    stamps = raw["__logged_at"]
    freq = _bucket(stamps)
    window = stamps.dt.floor(freq)
    labels = window.dt.strftime("%m-%d %H:%M")
    policy = Policy()
    extra = (
        f'<section id="coverage"><p>{total:,} predictions in the last {_e(since)}; drift, '
        f"performance and alerts from the newest {len(raw):,}</p></section>" + extra
    )
    if not bundle.manifest.get("profile"):
        empty = {"status": "ok", "rows": len(raw), "alerts": [], "drift": {"score": 0}}
        note = (
            '<p class="none">this bundle has no reference profile: no drift or performance '
            "checks</p>"
        )
        return monitor_html(empty, title=title, extra=extra + note)
    profile = load_profile(bundle)
    features = raw.drop(columns=["__logged_at", "__latency_ms"])
    result = check(bundle, features, policy=policy, profile=profile)
    payload = result.to_dict()
    if bundle.target is not None and bundle.target in raw.columns:
        labelled = check(
            bundle,
            features.assign(__w=window),
            policy=policy,
            profile=profile,
            time_column="__w",
            window=freq,
        )
        payload["performance"] = labelled.to_dict()["performance"]
    # drift per feature over time: the drifted features, then the most important, one line each
    weights = profile.get("importance", {})
    drifted = [c.column for c in sorted(result.drift, key=lambda c: -c.importance) if c.drifted]
    top = list(dict.fromkeys([*drifted, *sorted(weights, key=lambda c: -weights[c])]))[:5]
    typed = typed_features(bundle, features.drop(columns=[bundle.target], errors="ignore"))
    series: dict[str, list[tuple[str, float]]] = {c: [] for c in top}
    for key in dict.fromkeys(labels.tolist()):
        mask = np.asarray(labels == key)
        if mask.sum() < policy.drift.min_rows:
            continue
        sub = {"features": {c: profile["features"][c] for c in top if c in profile["features"]}}
        cols, _ = feature_drift(sub, typed[mask], policy.drift)
        for col in cols:
            value = col.distance.get("wasserstein", col.distance.get("jensen_shannon"))
            series[col.column].append((key, float(value or 0.0)))
    drift_time = "".join(
        f"<h3>{_e(name)}</h3>{_line(points, label=f'drift of {name} over time')}"
        for name, points in series.items()
        if points
    )
    extra += (
        f'<section id="drift-time"><h2>Drift over time (W1/sd or JS distance)</h2>'
        f"{drift_time or TOO_FEW_WINDOWS.format(policy.drift.min_rows)}</section>"
    )
    return monitor_html(payload, title=title, extra=extra)
