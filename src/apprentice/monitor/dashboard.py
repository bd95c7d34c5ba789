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
