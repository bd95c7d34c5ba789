"""Categories, identifiers and free text.

Category variants that differ only in surrounding or repeated whitespace or a trailing full
stop (``' Private'``/``Private``, ``>50K.``/``>50K``) are one category; so are variants in
letter case (``Yes``/``yes``) when the column writes its values in one case style that the
variant breaks (``ENG``/``Eng`` in a column of mixed styles stay two codes). The spelling in
the column's style, then the most frequent, is kept and each merge is recorded.
High-cardinality codes are identifiers and keep their text exactly (a ZIP ``01907`` keeps its
leading zero). Long, mostly distinct, multi-word values are free text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apprentice.clean._arrow import DIGITS, ByteView


def merge_key(arr: pa.Array) -> pa.Array:
    """The merge key of each (stripped) cell: spaces collapsed, lower-cased, final dots dropped."""
    x = pc.replace_substring_regex(pc.utf8_trim_whitespace(arr), r"\s+", " ")
    x = pc.utf8_lower(x)
    return pc.replace_substring_regex(x, r"[.\s]+$", "")


def key_of(text: str) -> str:
    return str(merge_key(pa.array([text], type=pa.large_string()))[0].as_py())


@dataclass
class CategorySet:
    categories: list[str]
    merges: list[dict[str, object]]


def _case_style(text: str) -> str:
    """``upper``, ``lower``, ``title`` or ``mixed`` (``none`` without letters)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "none"
    if all(c.isupper() for c in letters):
        return "upper"
    if all(c.islower() for c in letters):
        return "lower"
    if text.istitle() or (letters[0].isupper() and all(c.islower() for c in letters[1:])):
        return "title"
    return "mixed"


def learn_categories(values: list[str], counts: np.ndarray) -> CategorySet:
    """Canonical spelling per merge key (the most frequent variant) and the merges made.

    Variants that differ in whitespace or a final full stop always merge. Variants that
    differ in letter case alone (``ENG``/``Eng``) merge only when the column writes its values
    in one case style (at least two thirds of its cells) and the variant breaks it: then it
    is a slip of the pen; otherwise both spellings are kept as written.
    """
    if not values:
        return CategorySet([], [])
    keys = merge_key(pa.array(values, type=pa.large_string())).to_pylist()
    cnt = counts.tolist()
    styles: dict[str, int] = {}
    for v, c in zip(values, cnt, strict=True):
        st = _case_style(v)
        if st != "none":
            styles[st] = styles.get(st, 0) + c
    lettered = sum(styles.values())
    style, top = max(styles.items(), key=lambda kv: kv[1]) if styles else ("none", 0)
    one_style = lettered > 0 and top * 3 >= 2 * lettered

    def case_key(v: str) -> str:
        return " ".join(v.split()).rstrip(". ")

    best: dict[str, tuple[int, str]] = {}
    for v, k, c in zip(values, keys, cnt, strict=True):
        # the spelling in the column's style wins over a more frequent one out of it
        rank = (one_style and _case_style(v) == style, c)
        cur = best.get(k)
        if cur is None:
            best[k] = (c, v)
            continue
        cur_rank = (one_style and _case_style(cur[1]) == style, cur[0])
        if rank > cur_rank or (rank == cur_rank and v < cur[1]):
            best[k] = (c, v)
    categories: set[str] = {v for _, v in best.values()}
    merges = []
    for v, k, c in zip(values, keys, cnt, strict=True):
        canon = best[k][1]
        if v == canon:
            continue
        if case_key(v) != case_key(canon) and not (one_style and _case_style(v) != style):
            categories.add(v)  # a case-only difference the column's evidence does not settle
            continue
        merges.append({"variant": v, "canonical": canon, "count": int(c)})
    merges.sort(key=lambda m: (-int(m["count"]), str(m["variant"])))  # type: ignore[call-overload]
    return CategorySet(sorted(categories), merges)


def leading_zero_identifier(values: list[str], counts: np.ndarray) -> str | None:
    """Why a column of digit strings is an identifier (leading zeros), or None."""
    total = int(counts.sum())
    if total == 0:
        return None
    # one vectorised pass (a wide table calls this once per column)
    arr = pa.array(values, type=pa.large_string())
    w = np.asarray(counts, dtype=np.int64)
    # ``^[0-9]+$`` by counting bytes (no regex to compile per column); a value of digits only
    # has as many characters as bytes
    view = ByteView(arr)
    lens = view.lengths()
    is_digits = (lens > 0) & (view.count(DIGITS) == lens)
    digits = int(w[is_digits].sum())
    if digits < 0.95 * total:
        return None
    zero = view.first() == ord("0")
    lead = int(w[is_digits & zero & (lens > 1)].sum())
    if lead == 0 or lead < 0.01 * total:
        return None
    lengths: dict[int, int] = {}
    for n, c in zip(lens[is_digits].tolist(), w[is_digits].tolist(), strict=True):
        lengths[n] = lengths.get(n, 0) + c
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
