"""Categories, identifiers and free text.

Category variants that differ only in surrounding or repeated whitespace, letter case or a
trailing full stop (``' Private'``/``Private``, ``Yes``/``yes``, ``>50K.``/``>50K``) are one
category; the most frequent spelling is kept and each merge is recorded. High-cardinality codes
are identifiers and keep their text exactly (a ZIP ``01907`` keeps its leading zero). Long,
mostly distinct, multi-word values are free text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def category_key(arr: pa.Array) -> pa.Array:
    """The merge key of each (stripped) cell: spaces collapsed, lower-cased, final dots dropped."""
    x = pc.replace_substring_regex(pc.utf8_trim_whitespace(arr), r"\s+", " ")
    x = pc.utf8_lower(x)
    return pc.replace_substring_regex(x, r"[.\s]+$", "")


def key_of(text: str) -> str:
    return str(category_key(pa.array([text], type=pa.large_string()))[0].as_py())


@dataclass
class CategorySet:
    categories: list[str]
    merges: list[dict[str, object]]


def learn_categories(values: list[str], counts: np.ndarray) -> CategorySet:
    """Canonical spelling per merge key (the most frequent variant) and the merges made."""
    if not values:
        return CategorySet([], [])
    keys = category_key(pa.array(values, type=pa.large_string())).to_pylist()
    best: dict[str, tuple[int, str]] = {}
    for v, k, c in zip(values, keys, counts.tolist(), strict=True):
        cur = best.get(k)
        if cur is None or c > cur[0] or (c == cur[0] and v < cur[1]):
            best[k] = (c, v)
    merges = []
    for v, k, c in zip(values, keys, counts.tolist(), strict=True):
        canon = best[k][1]
        if v != canon:
            merges.append({"variant": v, "canonical": canon, "count": int(c)})
    merges.sort(key=lambda m: (-int(m["count"]), str(m["variant"])))  # type: ignore[call-overload]
    return CategorySet(sorted(c for _, c in best.values()), merges)


def leading_zero_identifier(values: list[str], counts: np.ndarray) -> str | None:
    """Why a column of digit strings is an identifier (leading zeros), or None."""
    total = int(counts.sum())
    if total == 0:
        return None
    digits = 0
    lead = 0
    lengths: dict[int, int] = {}
    for v, w in zip(values, counts.tolist(), strict=True):
        if v.isascii() and v.isdigit():
            digits += w
            lengths[len(v)] = lengths.get(len(v), 0) + w
            if len(v) > 1 and v[0] == "0":
                lead += w
    if digits < 0.95 * total or lead == 0 or lead < 0.01 * total:
        return None
    width, wcount = max(lengths.items(), key=lambda kv: (kv[1], kv[0]))
    if width >= 3 and (wcount >= 0.9 * digits or lead >= 0.1 * total):
        return (
            f"digit codes with leading zeros ({lead} cells, e.g. width {width}): kept as text "
            "so the zeros survive"
        )
    return None


def classify_text(values: list[str], counts: np.ndarray, n_distinct: int) -> tuple[str, str]:
    """identifier | text | category for a column that is neither number, boolean nor date."""
    total = int(counts.sum())
    if total == 0:
        return "category", "no values"
    lens = np.array([len(v) for v in values], dtype=float)
    w = counts.astype(float)
    avg_len = float((lens * w).sum() / w.sum())
    spaced = float(w[[(" " in v) for v in values]].sum() / w.sum())
    digit = float(w[[any(c.isdigit() for c in v) for v in values]].sum() / w.sum())
    words = float((np.array([v.count(" ") + 1 for v in values]) * w).sum() / w.sum())
    ratio = n_distinct / total
    # codes may carry a short prefix ("PC 17599", "A/5 21171"): a space or two is still a
    # code, a sentence is not
    code_like = spaced < 0.1 or words <= 2.0
    if total >= 20 and ratio >= 0.5 and code_like and digit >= 0.5 and avg_len <= 40:
        return "identifier", (
            f"{ratio:.0%} of values are distinct short codes with digits: kept as text"
        )
    if avg_len >= 40 or (ratio >= 0.5 and n_distinct > 20 and words >= 3):
        return "text", f"free text: {ratio:.0%} distinct, {words:.1f} words on average"
    if ratio >= 0.9 and n_distinct > 1000:
        return "text", f"{n_distinct} distinct values ({ratio:.0%}): kept as text"
    return "category", f"{n_distinct} distinct values"
