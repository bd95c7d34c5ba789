"""Non-numbers with digits in a mostly numeric column: dirt while rare, values once common."""

from __future__ import annotations

import numpy as np

from apprentice.clean import clean_table
from apprentice.clean.numbers import detect_number
from tests.clean.conftest import text


def test_reference_codes_with_letters_keep_their_text() -> None:
    # a fifth of the references carry a letter prefix: they are codes, not typos of numbers
    refs = [str(40000 + 37 * i) for i in range(16)] + ["KX 5512", "KX 5517", "B/7 30021"]
    refs += ["LQ. 884"]
    res = clean_table(text({"ref": refs}))
    rep = res.ledger.columns[0]
    assert rep.kind not in ("integer", "float")
    # every reference kept, none turned missing
    assert res.table["ref"].astype(str).tolist() == refs


def test_a_recurring_band_label_makes_the_column_text() -> None:
    # one non-number ('20+') recurs on a fifth of the rows: it is a value of the column
    sizes = ["12", "15", "20+", "8", "11", "20+", "9", "14", "17", "3"] * 2
    res = clean_table(text({"size": sizes}))
    assert res.ledger.columns[0].kind not in ("integer", "float")
    assert "20+" in set(res.table["size"].astype(str))


def test_scattered_typos_stay_dirt_in_a_numeric_column() -> None:
    # two different one-off typos in 40 cells (5%): the column stays numeric, they become missing
    values = [str(100 + i) for i in range(38)] + ["1o4", "12x7"]
    res = clean_table(text({"v": values}))
    rep = res.ledger.columns[0]
    assert rep.kind == "integer"
    assert rep.coercions["unparseable"] == 2
    assert {u["raw"] for u in rep.unparseable} == {"1o4", "12x7"}


def test_number_evidence_counts_the_non_numbers_with_digits() -> None:
    values = ["1", "2", "3", "A 4", "B 5", "B 5"]
    _, ev = detect_number(values[:5], np.array([10, 10, 10, 1, 2]))
    assert ev.failing_digit_values == 2
    assert ev.failing_top_count == 2
    assert abs(ev.failing_top_with_digits - 2 / 33) < 1e-9
    assert abs(ev.failing_with_digits - 3 / 33) < 1e-9


def test_mostly_distinct_codes_with_a_short_prefix_are_identifiers() -> None:
    # shelf codes, a third with a prefix and a space: still codes (identifiers), not categories
    rng = np.random.default_rng(3)
    plain = [str(n) for n in rng.choice(range(10_000, 99_999), 40, replace=False)]
    prefixed = [f"{['QX', 'B/4', 'SL.2'][i % 3]} {501 + i}" for i in range(20)]
    codes = plain + prefixed + plain[:5]
    res = clean_table(text({"shelf": codes}))
    assert res.ledger.columns[0].kind == "identifier"
    assert res.table["shelf"].astype(str).tolist() == codes
    # a column of short sentences with numbers stays free text / category, not identifier
    notes = [f"box {i} left at the back door" for i in range(40)]
    assert clean_table(text({"note": notes})).ledger.columns[0].kind != "identifier"
