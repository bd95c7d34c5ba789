"""A small SVG writer for the report's plots: no JavaScript, no fonts, no network.

Every function returns one ``<svg>`` element as text. Every label is XML-escaped here, so a
value from the data can never become markup; numbers are formatted, never interpolated raw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

BLUE = "#2b6cb0"
RED = "#c53030"
AMBER = "#d69e2e"
GREY = "#718096"
LIGHT = "#e2e8f0"
INK = "#1a202c"
PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#b7791f")
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:11px"


def _t(value: Any) -> str:
    return escape(str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A compact number (``-`` for missing)."""
    if value is None:
        return "-"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "-"
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.{digits}g}"
    if float(x).is_integer() and abs(x) < 1e5:
        return str(int(x))
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if abs(x) < 1 else f"{x:.{digits}g}"


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_t(title)}" '
        f'style="{FONT};max-width:100%;height:auto">'
        f"<title>{_t(title)}</title>"
    )


def _text(
    x: float, y: float, text: Any, *, anchor: str = "start", size: int = 11, fill: str = INK
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}">{_t(text)}</text>'
    )


def _clip(label: Any, limit: int = 28) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    if not (math.isfinite(raw) and raw > 1e-300):  # a span too small to divide (subnormal)
        return [lo]
    mag = 10.0 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    if not math.isfinite(lo / step):  # a huge value over a tiny step
        return [lo]
    start = math.ceil(lo / step) * step
    out = []
    for i in range(4 * n + 2):  # bounded: a step below the values' precision never advances
        x = start + i * step
        if x > hi + 1e-9 * step:
            break
        out.append(round(x, 12))
    return list(dict.fromkeys(out)) or [lo]


class _Axes:
    def __init__(
        self, x0: float, x1: float, y0: float, y1: float, box: tuple[float, float, float, float]
    ):
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1
        self.left, self.top, self.width, self.height = box

    def x(self, v: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (v - self.x0) / span * self.width

    def y(self, v: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.top + self.height - (v - self.y0) / span * self.height

    def frame(self, xlabel: str, ylabel: str, *, xticks: bool = True, yticks: bool = True) -> str:
        parts = [
            f'<rect x="{self.left}" y="{self.top}" width="{self.width}" height="{self.height}" '
            f'fill="none" stroke="{LIGHT}"/>'
        ]
        if xticks:
            for t in _ticks(self.x0, self.x1):
                px = self.x(t)
                parts.append(
                    f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{self.top}" '
                    f'y2="{self.top + self.height}" stroke="{LIGHT}"/>'
                )
                parts.append(_text(px, self.top + self.height + 14, fmt(t), anchor="middle"))
        if yticks:
            for t in _ticks(self.y0, self.y1):
                py = self.y(t)
                parts.append(
                    f'<line x1="{self.left}" x2="{self.left + self.width}" y1="{py:.1f}" '
                    f'y2="{py:.1f}" stroke="{LIGHT}"/>'
                )
                parts.append(_text(self.left - 6, py + 4, fmt(t), anchor="end"))
        if xlabel:
            parts.append(
                _text(
                    self.left + self.width / 2,
                    self.top + self.height + 30,
                    xlabel,
                    anchor="middle",
                    fill=GREY,
                )
            )
        if ylabel:
            cx, cy = self.left - 40, self.top + self.height / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" fill="{GREY}" '
                f'transform="rotate(-90 {cx:.1f} {cy:.1f})">{_t(ylabel)}</text>'
            )
        return "".join(parts)


def bars(
    items: Sequence[dict[str, Any]],
    *,
    title: str,
    xlabel: str = "",
    width: int = 640,
    reference: float | None = None,
    highlight: Sequence[bool] | None = None,
    highlight_colour: str = RED,
) -> str:
    """Horizontal bars ``{"label", "value", "low"?, "high"?}``, with interval whiskers;
    ``highlight`` marks bars drawn in ``highlight_colour``."""
    rows = list(items)
    bar_h, gap = 18, 6
    left, right, top = 190, 70, 10
    height = top + len(rows) * (bar_h + gap) + 40
    values = [float(r["value"]) for r in rows if r.get("value") is not None]
    ends = values + [float(r[k]) for r in rows for k in ("low", "high") if r.get(k) is not None]
    if reference is not None:
        ends.append(reference)
    lo = min([0.0, *ends]) if ends else 0.0
    hi = max([0.0, *ends]) if ends else 1.0
    if hi == lo:
        hi = lo + 1.0
    ax = _Axes(lo, hi, 0, 1, (left, top, width - left - right, len(rows) * (bar_h + gap)))
    out = [_open(width, height, title), ax.frame(xlabel, "", yticks=False)]
    zero = ax.x(0.0)
    for i, row in enumerate(rows):
        y = top + i * (bar_h + gap) + gap / 2
        out.append(_text(left - 8, y + bar_h * 0.7, _clip(row["label"]), anchor="end"))
        value = row.get("value")
        if value is None:
            out.append(_text(left + 4, y + bar_h * 0.7, "not computed", fill=GREY))
            continue
        v = float(value)
        x0, x1 = sorted((zero, ax.x(v)))
        colour = highlight_colour if highlight is not None and highlight[i] else BLUE
        out.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 1):.1f}" height="{bar_h}" '
            f'fill="{colour}" fill-opacity="0.75"/>'
        )
        if row.get("low") is not None and row.get("high") is not None:
            a, b = ax.x(float(row["low"])), ax.x(float(row["high"]))
            cy = y + bar_h / 2
            out.append(
                f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="{INK}"/>'
                f'<line x1="{a:.1f}" x2="{a:.1f}" y1="{cy - 4:.1f}" y2="{cy + 4:.1f}" '
                f'stroke="{INK}"/><line x1="{b:.1f}" x2="{b:.1f}" y1="{cy - 4:.1f}" '
                f'y2="{cy + 4:.1f}" stroke="{INK}"/>'
            )
        out.append(_text(width - right + 6, y + bar_h * 0.7, fmt(v)))
    if reference is not None:
        rx = ax.x(reference)
        out.append(
            f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{top}" y2="{top + ax.height}" '
            f'stroke="{RED}" stroke-dasharray="4 3"/>'
        )
    out.append("</svg>")
    return "".join(out)


def lines(
    series: Sequence[dict[str, Any]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    xlim: tuple[float, float] = (0.0, 1.0),
    ylim: tuple[float, float] = (0.0, 1.0),
    diagonal: bool = False,
    hline: float | None = None,
    width: int = 420,
    height: int = 320,
    markers: bool = False,
) -> str:
    """Lines ``{"name", "points": [[x, y], ...]}`` on fixed axes, with a legend."""
    ax = _Axes(xlim[0], xlim[1], ylim[0], ylim[1], (60, 12, width - 80, height - 60))
    out = [_open(width, height, title), ax.frame(xlabel, ylabel)]
    if diagonal:
        out.append(
            f'<line x1="{ax.x(xlim[0]):.1f}" y1="{ax.y(ylim[0]):.1f}" x2="{ax.x(xlim[1]):.1f}" '
            f'y2="{ax.y(ylim[1]):.1f}" stroke="{GREY}" stroke-dasharray="4 3"/>'
        )
    if hline is not None:
        out.append(
            f'<line x1="{ax.left}" x2="{ax.left + ax.width}" y1="{ax.y(hline):.1f}" '
            f'y2="{ax.y(hline):.1f}" stroke="{GREY}" stroke-dasharray="4 3"/>'
        )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        pts = [
            (ax.x(float(x)), ax.y(float(y)))
            for x, y in s.get("points", [])
            if x is not None and y is not None
        ]
        if not pts:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if markers:
            out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in pts)
        ly = ax.top + 14 + i * 14
        lx = ax.left + ax.width - 150
        out.append(f'<rect x="{lx:.1f}" y="{ly - 8:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(lx + 14, ly + 1, _clip(s.get("name", ""), 24)))
    out.append("</svg>")
    return "".join(out)


def heatmap(
    matrix: Sequence[Sequence[float]],
    labels: Sequence[Any],
    *,
    title: str,
    xlabel: str = "predicted",
    ylabel: str = "actual",
) -> str:
    """A confusion matrix: counts in cells, shaded by the share of their row."""
    k = len(labels)
    cell = max(28, min(64, 360 // max(k, 1)))
    left, top = 130, 30
    width = left + k * cell + 20
    height = top + k * cell + 50
    out = [_open(width, height, title)]
    for j, label in enumerate(labels):
        out.append(_text(left + j * cell + cell / 2, top - 8, _clip(label, 10), anchor="middle"))
    for i, row in enumerate(matrix):
        total = sum(float(v) for v in row) or 1.0
        out.append(
            _text(left - 8, top + i * cell + cell / 2 + 4, _clip(labels[i], 18), anchor="end")
        )
        for j, value in enumerate(row):
            share = float(value) / total
            colour = BLUE if i == j else RED
            out.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="{colour}" fill-opacity="{0.08 + 0.8 * share:.2f}"/>'
            )
            fill = "#ffffff" if share > 0.55 else INK
            out.append(
                _text(
                    left + j * cell + cell / 2 - 1,
                    top + i * cell + cell / 2 + 4,
                    fmt(value),
                    anchor="middle",
                    fill=fill,
                )
            )
    out.append(_text(left + k * cell / 2, top + k * cell + 20, xlabel, anchor="middle", fill=GREY))
    out.append(_text(12, top + k * cell / 2, ylabel, fill=GREY))
    out.append("</svg>")
    return "".join(out)


def scatter(
    points: Sequence[Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    hline: float | None = None,
    diagonal: bool = False,
    width: int = 420,
    height: int = 320,
) -> str:
    """Points ``[x, y]`` with an optional zero line or ``y = x`` line."""
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    if not xs:
        return _open(width, 40, title) + _text(10, 24, "no points", fill=GREY) + "</svg>"
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if diagonal:
        x0 = y0 = min(x0, y0)
        x1 = y1 = max(x1, y1)
    if hline is not None:
        y0, y1 = min(y0, hline), max(y1, hline)
    pad_x, pad_y = (x1 - x0) * 0.03 or 1.0, (y1 - y0) * 0.03 or 1.0
    ax = _Axes(x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y, (64, 12, width - 84, height - 60))
    out = [_open(width, height, title), ax.frame(xlabel, ylabel)]
    if hline is not None:
        out.append(
            f'<line x1="{ax.left}" x2="{ax.left + ax.width}" y1="{ax.y(hline):.1f}" '
            f'y2="{ax.y(hline):.1f}" stroke="{RED}" stroke-dasharray="4 3"/>'
        )
    if diagonal:
        out.append(
            f'<line x1="{ax.x(x0):.1f}" y1="{ax.y(x0):.1f}" x2="{ax.x(x1):.1f}" '
            f'y2="{ax.y(x1):.1f}" stroke="{RED}" stroke-dasharray="4 3"/>'
        )
    out.extend(
        f'<circle cx="{ax.x(x):.1f}" cy="{ax.y(y):.1f}" r="2.2" fill="{BLUE}" fill-opacity="0.45"/>'
        for x, y in zip(xs, ys, strict=True)
    )
    out.append("</svg>")
    return "".join(out)


def histogram(
    counts: Sequence[float],
    edges: Sequence[float],
    *,
    title: str,
    xlabel: str,
    width: int = 420,
    height: int = 260,
) -> str:
    """Bars of ``counts`` between consecutive ``edges``."""
    if not counts:
        return _open(width, 40, title) + _text(10, 24, "no values", fill=GREY) + "</svg>"
    top_count = max(float(c) for c in counts) or 1.0
    ax = _Axes(float(edges[0]), float(edges[-1]), 0, top_count, (60, 12, width - 80, height - 56))
    out = [_open(width, height, title), ax.frame(xlabel, "rows")]
    for i, c in enumerate(counts):
        a, b = ax.x(float(edges[i])), ax.x(float(edges[i + 1]))
        y = ax.y(float(c))
        out.append(
            f'<rect x="{a:.1f}" y="{y:.1f}" width="{max(b - a - 1, 1):.1f}" '
            f'height="{ax.top + ax.height - y:.1f}" fill="{BLUE}" fill-opacity="0.7"/>'
        )
    out.append("</svg>")
    return "".join(out)


def _mix(share: float) -> str:
    """Blue (low) to red (high)."""
    a, b = (43, 108, 176), (197, 48, 48)
    r, g, bl = (round(a[k] + (b[k] - a[k]) * share) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def beeswarm(
    summary: Sequence[dict[str, Any]], *, title: str, xlabel: str, width: int = 640
) -> str:
    """A SHAP summary: one row per column, a dot per row coloured by the column's value."""
    rows = list(summary)
    row_h = 26
    left, right, top = 170, 30, 10
    height = top + len(rows) * row_h + 70
    values = [float(p[0]) for r in rows for p in r.get("points", [])]
    lo, hi = (min([*values, 0.0]), max([*values, 0.0])) if values else (-1.0, 1.0)
    if hi == lo:
        hi = lo + 1.0
    ax = _Axes(lo, hi, 0, 1, (left, top, width - left - right, len(rows) * row_h))
    out = [_open(width, height, title), ax.frame(xlabel, "", yticks=False)]
    zero = ax.x(0.0)
    out.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{top + ax.height}" stroke="{GREY}"/>'
    )
    for i, row in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        out.append(_text(left - 8, cy + 4, _clip(row.get("feature", "")), anchor="end"))
        for k, (value, colour) in enumerate(row.get("points", [])):
            jitter = ((k * 7919) % 17 - 8) / 8 * (row_h * 0.35)
            fill = GREY if colour is None else _mix(float(colour))
            out.append(
                f'<circle cx="{ax.x(float(value)):.1f}" cy="{cy + jitter:.1f}" r="2.2" '
                f'fill="{fill}" fill-opacity="0.6"/>'
            )
    ly = top + ax.height + 56
    out.append(_text(left, ly, "value of the column:", fill=GREY))
    for k in range(5):
        out.append(
            f'<rect x="{left + 120 + k * 14}" y="{ly - 9}" width="14" height="10" '
            f'fill="{_mix(k / 4)}"/>'
        )
    out.append(_text(left + 195, ly, "low → high (grey: a category)", fill=GREY))
    out.append("</svg>")
    return "".join(out)
