"""The monitoring page: one self-contained HTML document (inline SVG, no script or style
loaded from anywhere), for ``apprentice monitor --html`` and the server's ``GET /dashboard``."""

from __future__ import annotations

import html
import json
from typing import Any


def _e(value: Any) -> str:
    return html.escape(str(value))


def _bars(rows: list[tuple[str, float, bool]], *, label: str, width: int = 520) -> str:
    """A horizontal bar chart as inline SVG; drifted bars in red."""
    if not rows:
        return "<p>no data</p>"
    top = max([v for _, v, _ in rows] + [1e-9])
    h = 18
    parts = [
        f'<svg class="chart" data-points="{len(rows)}" role="img" aria-label="{_e(label)}" '
        f'width="{width}" height="{h * len(rows) + 4}">'
    ]
    for i, (name, value, bad) in enumerate(rows):
        w = max(1.0, (width - 230) * value / top)
        colour = "#c0392b" if bad else "#2e86c1"
        parts.append(
            f'<text x="0" y="{i * h + 13}" font-size="12">{_e(name[:28])}</text>'
            f'<rect x="180" y="{i * h + 2}" width="{w:.1f}" height="{h - 5}" fill="{colour}">'
            f"<title>{_e(name)}: {value:.4g}</title></rect>"
            f'<text x="{184 + w:.1f}" y="{i * h + 13}" font-size="11">{value:.3g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line(points: list[tuple[str, float]], *, label: str, width: int = 520) -> str:
    """A line chart as inline SVG (x: the order of the points)."""
    if not points:
        return "<p>no data</p>"
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    height = 120
    n = len(points)
    xy = [
        (10 + (width - 20) * (i / max(n - 1, 1)), height - 10 - (height - 20) * (v - lo) / span)
        for i, v in enumerate(values)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{_e(k)}: {v:.4g}</title></circle>'
        for (x, y), (k, v) in zip(xy, points, strict=True)
    )
    return (
        f'<svg class="chart" data-points="{n}" role="img" aria-label="{_e(label)}" '
        f'width="{width}" height="{height}"><polyline fill="none" stroke="#2e86c1" '
        f'stroke-width="2" points="{path}"/>{dots}</svg>'
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}"
    "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left}.alert{color:#c0392b}.ok{color:#1e8449}section{margin-bottom:2em}"
)


def monitor_html(
    result: dict[str, Any], *, title: str = "apprentice monitor", extra: str = ""
) -> str:
    """The page of one check (``MonitorResult.to_dict()``), plus optional ``extra`` sections."""
    status = result.get("status", "ok")
    alerts = result.get("alerts", [])
    columns = result.get("drift", {}).get("columns", [])
    rows = []
    for c in sorted(columns, key=lambda c: -(c.get("importance") or 0)):
        dist = c.get("distance", {})
        value = dist.get("wasserstein") if c["kind"] == "numeric" else dist.get("jensen_shannon")
        rows.append((c["column"], float(value or 0.0), bool(c.get("drifted"))))
    table = "".join(
        f"<tr><td>{_e(c['column'])}</td><td>{_e(c['kind'])}</td><td>{_e(c['test'])}</td>"
        f"<td>{(c.get('p_adjusted') if c.get('p_adjusted') is not None else float('nan')):.3g}"
        f"</td><td>{_e(json.dumps({k: round(v, 4) if v is not None else None for k, v in c.get('distance', {}).items()}))}</td>"  # noqa: E501
        f"<td>{(c.get('importance') or 0):.3f}</td>"
        f'<td class="{"alert" if c.get("drifted") else "ok"}">'
        f"{'drifted' if c.get('drifted') else 'stable'}</td></tr>"
        for c in columns
    )
    alert_items = "".join(
        f'<li class="alert">{_e(a.get("check"))}: {_e(a.get("message"))}</li>' for a in alerts
    )
    perf = result.get("performance") or {}
    perf_points = [(w["window"], float(w[perf["metric"]])) for w in perf.get("windows", [])]
    est = result.get("estimated_performance") or {}
    est_html = ""
    if est:
        interval = est.get("accuracy_interval") or [None, None]
        est_html = (
            f"<p>estimated accuracy (CBPE, no labels): <b>{est.get('accuracy', 0):.3f}</b> "
            f"[{interval[0]:.3f}, {interval[1]:.3f}]; reference "
            f"{est.get('reference_accuracy')}</p><details><summary>assumptions</summary><ul>"
            + "".join(f"<li>{_e(a)}</li>" for a in est.get("assumptions", []))
            + "</ul></details>"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        f"style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p>status: <b class="{_e(status)}" id="status">{_e(status)}</b>; '
        f"{result.get('rows', 0):,} rows checked at {_e(result.get('checked_at', ''))}; "
        f"drift score {float(result.get('drift', {}).get('score') or 0):.3f}</p>"
        f'<section id="alerts"><h2>open alerts</h2><ul>{alert_items or "<li>none</li>"}</ul>'
        f"</section>{extra}"
        f'<section id="drift"><h2>drift per feature</h2>'
        f"{_bars(rows, label='drift per feature')}"
        f"<table><tr><th>column</th><th>kind</th><th>test</th><th>p (BH)</th>"
        f"<th>distances</th><th>importance</th><th>verdict</th></tr>{table}</table></section>"
        f'<section id="performance"><h2>performance</h2>'
        f"{_line(perf_points, label='performance over time') if perf_points else ''}"
        f"{est_html}</section></body></html>"
    )


_WINDOWS = ((300, "5min"), (3600, "1h"), (6 * 3600, "6h"), (86400, "1D"))


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
    labels = minutes.dt.floor(freq).dt.strftime("%m-%d %H:%M")
    volume = found["n"].groupby(labels).sum().sort_index()
    histogram = found.assign(label=labels).pivot_table(
        index="label", columns="bucket", values="n", aggfunc="sum", fill_value=0
    )
    histogram = histogram.reindex(columns=sorted(histogram.columns))
    latency = [(str(k), _quantile(row, 0.95)) for k, row in histogram.sort_index().iterrows()]
    html_ = (
        f'<section id="volume"><h2>prediction volume (per {_e(freq)})</h2>'
        f"{_line([(str(k), float(v)) for k, v in volume.items()], label='prediction volume')}"
        f'</section><section id="latency"><h2>latency, 95th percentile (ms)</h2>'
        f"{_line(latency, label='latency')}</section>"
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
            extra="<p>no prediction logged yet</p>",
        )
    raw = log_frame(logged, bundle)
    stamps = raw["__logged_at"]
    freq = _bucket(stamps)
    window = stamps.dt.floor(freq)
    labels = window.dt.strftime("%m-%d %H:%M")
    policy = Policy()
    extra = (
        f'<p id="coverage">{total:,} predictions in the last {_e(since)}; drift, performance '
        f"and alerts from the newest {len(raw):,}</p>" + extra
    )
    if not bundle.manifest.get("profile"):
        empty = {"status": "ok", "rows": len(raw), "alerts": [], "drift": {"score": 0}}
        note = "<p>this bundle has no reference profile: no drift or performance checks</p>"
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
    # drift per feature over time: the most important features, one line each
    weights = profile.get("importance", {})
    top = sorted(weights, key=lambda c: -weights[c])[:4]
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
        f'<section id="drift-time"><h2>drift over time (W1/sd or JS distance)</h2>'
        f"{drift_time or '<p>too few rows per window</p>'}</section>"
    )
    return monitor_html(payload, title=title, extra=extra)
