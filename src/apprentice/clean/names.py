"""Column names: BOM and surrounding whitespace stripped, blanks named, duplicates made unique.

The original names are kept in the ledger next to the new ones.
"""

from __future__ import annotations

from typing import Any


def clean_names(originals: list[Any]) -> list[tuple[str, str, list[str]]]:
    """(new name, original name, reasons) per column, in order; new names are unique.

    Repeats are renamed as :func:`apprentice.read._source.dedupe` renames them (``a_2``), so
    a column has the same name after ``read`` and after ``clean``."""
    out: list[tuple[str, str, list[str]]] = []
    used: set[str] = set()
    base_names: list[tuple[str, list[str]]] = []
    for i, orig in enumerate(originals):
        text = "" if orig is None else str(orig)
        reasons: list[str] = []
        name = text
        if name.startswith("\ufeff"):
            name = name.lstrip("\ufeff")
            reasons.append("byte-order mark removed")
        stripped = name.strip()
        if stripped != name:
            reasons.append("surrounding whitespace removed")
            name = stripped
        if not name:
            name = f"column_{i + 1}"
            reasons.append("blank name replaced by its position")
        base_names.append((name, reasons))
    taken = {name for name, _ in base_names}
    seen: dict[str, int] = {}
    for (name, reasons), orig in zip(base_names, originals, strict=True):
        new = name
        if name in used:
            k = seen.get(name, 1)
            while True:
                k += 1
                candidate = f"{name}_{k}"
                if candidate not in taken and candidate not in used:
                    break
            seen[name] = k
            new = candidate
            reasons = [*reasons, f"duplicate of an earlier column {name!r}: renamed"]
        used.add(new)
        out.append((new, "" if orig is None else str(orig), reasons))
    return out
