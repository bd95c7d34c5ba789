"""Missing-value markers, decided per column.

The vocabulary below lists text that *can* mean "no value". Whether it does is decided per
column from the column's evidence: in a numeric, boolean or date column a marker is missing
(``?`` among numbers); in a categorical or text column a marker is missing unless it is the
column's most frequent value, in which case it is a category (a ``holiday`` column whose
normal value is ``None``; ``NA`` meaning "no alley" in most rows). The empty string is always
missing. pandas' default NA list is never applied blindly.
"""

from __future__ import annotations

MISSING_TOKENS: frozenset[str] = frozenset(
    {
        # casefolded, surrounding whitespace stripped
        "na",
        "n/a",
        "n.a.",
        "n.a",
        "#n/a",
        "#na",
        "<na>",
        "nan",
        "-nan",
        "null",
        "<null>",
        "(null)",
        "#null!",
        "none",
        "nil",
        "missing",
        "unknown",
        "unk",
        "undefined",
        "not available",
        "not applicable",
        "not known",
        "n/k",
        "nr",
        "not reported",
        "no data",
        "empty",
        "blank",
        "(blank)",
        "don't know",
        "dont know",
        "do not know",
        "not sure",
        "#value!",
        "#div/0!",
        "#ref!",
        "?",
        "??",
        "???",
        "-",
        "--",
        "---",
        "—",
        "–",
        ".",
        "..",
        "...",
    }
)

# Answers that mean "no answer" in a yes/no question: missing in a boolean column.
UNCERTAIN_TOKENS: frozenset[str] = frozenset(
    {"don't know", "dont know", "do not know", "not sure", "unknown", "unk"}
)


def is_marker(token: str) -> bool:
    """Whether ``token`` (stripped text) is in the marker vocabulary (the empty string is)."""
    return token == "" or token.casefold() in MISSING_TOKENS
