"""Numbers as people write them: detection of the format and vectorised parsing."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.clean.numbers import (
    NumberFormat,
    detect_number,
    name_tokens,
    number_pattern,
    number_semantic,
    parse_numbers,
    parse_one,
)


def parse(values: list[str], **kw: object) -> tuple[NumberFormat, list[float], list[bool]]:
    fmt, _ = detect_number(values, np.ones(len(values), dtype=np.int64), **kw)  # type: ignore[arg-type]
    assert fmt is not None
    vals, ok, _ = parse_numbers(pa.array(values), fmt, np.zeros(len(values), dtype=bool))
    return fmt, vals.tolist(), ok.tolist()


def test_thousands_and_decimal_point() -> None:
    fmt, vals, ok = parse(["1,234.5", "12.25", "1,000,000", "7"])
    assert fmt.decimal == "."
    assert vals == [1234.5, 12.25, 1_000_000.0, 7.0] and all(ok)


def test_decimal_comma_and_dot_thousands() -> None:
    fmt, vals, ok = parse(["1.234,5", "2,5", "1.000.000", "3"])
    assert fmt.decimal == ","
    assert vals == [1234.5, 2.5, 1_000_000.0, 3.0] and all(ok)


def test_space_and_apostrophe_thousands() -> None:
    _, vals, _ = parse(["1 234,5", "12 345", "3,25"])
    assert vals == [1234.5, 12345.0, 3.25]
    _, vals, _ = parse(["1'234.50", "12.5"])
    assert vals == [1234.5, 12.5]


def test_scientific_accounting_trailing_minus_currency() -> None:
    fmt, vals, ok = parse(["1e5", "2.5E-3", "(1,234)", "$5", "-$1,000.25", "$3.50", "12-"])
    assert vals == [1e5, 0.0025, -1234.0, 5.0, -1000.25, 3.5, -12.0]
    assert fmt.currency_code == "USD" and all(ok)


def test_currency_codes_either_side() -> None:
    fmt, vals, _ = parse(["EUR 12", "12 EUR", "€3,50", "€ 1.000,00"])
    assert fmt.currency_code == "EUR"
    assert vals == [12.0, 12.0, 3.5, 1000.0]


def test_other_currency_does_not_parse() -> None:
    _, vals, ok = parse(["$5", "$6", "$7", "£8"])
    assert ok == [True, True, True, False] and math.isnan(vals[3])


def test_percent_fraction_or_points() -> None:
    _, vals, _ = parse(["83%", "75%", "100%"])
    assert vals == [0.83, 0.75, 1.0]
    _, vals, _ = parse(["83%", "75%", "100%"], percent_as="points")
    assert vals == [83.0, 75.0, 100.0]


def test_mixed_percent_sign_follows_the_scale_of_the_plain_values() -> None:
    # beers: '0.09%' next to '0.05' is the same scale: the sign is decoration
    fmt, vals, _ = parse(["0.09%", "0.05", "0.066", "0.045%"])
    assert fmt.percent == "points" and vals == [0.09, 0.05, 0.066, 0.045]
    # fractions next to percent points: the percents are divided to match
    fmt, vals, _ = parse(["0.5", "0.25", "75%", "10%"])
    assert fmt.percent == "fraction" and vals == [0.5, 0.25, 0.75, 0.1]


def test_dominant_unit_suffix_is_recorded_and_removed() -> None:
    fmt, vals, ok = parse(["12.0 oz", "12 oz.", "16.0 OZ", "12.0 ounce", "24"])
    assert fmt.unit == "oz" and vals == [12.0, 12.0, 16.0, 12.0, 24.0] and all(ok)


def test_note_after_a_unit() -> None:
    fmt, vals, ok = parse(["12.0 oz", "12.0 oz. Alumi-Tek", "16 oz"])
    assert fmt.unit_note and vals == [12.0, 12.0, 16.0] and all(ok)
    value, how = parse_one("12.0 oz. Alumi-Tek", fmt)
    assert value == 12.0 and any("note" in h for h in how)


def test_other_unit_is_not_converted() -> None:
    fmt, _vals, ok = parse(["5 kg", "3kg", "7 kg", "7 lbs"])
    assert fmt.unit == "kg" and ok == [True, True, True, False]


def test_generic_unit_word_when_on_nearly_every_value() -> None:
    fmt, vals, _ = parse(["37 patients", "0 patients", "12 patients"])
    assert fmt.unit == "patients" and vals == [37.0, 0.0, 12.0]


def test_codes_with_digits_are_not_numbers_with_units() -> None:
    _, ev = detect_number(["1Story", "2Story", "1.5Fin", "SLvl"], np.ones(4, dtype=np.int64))
    assert ev.share == 0.0
    _, ev = detect_number(["6-25", "26-100", "1-5"], np.ones(3, dtype=np.int64))
    assert ev.share == 0.0


def test_number_words_when_the_whole_column_is_words() -> None:
    fmt, vals, ok = parse(["two", "four", "six", "twelve", "Twenty-One"])
    assert fmt.words and vals == [2.0, 4.0, 6.0, 12.0, 21.0] and all(ok)


def test_integer_flag_from_the_text() -> None:
    assert parse(["1", "2", "3"])[0].integer
    assert not parse(["1.0", "2", "3"])[0].integer
    assert not parse(["50%", "25%"])[0].integer


def test_parse_one_reports_what_it_removed() -> None:
    fmt = NumberFormat(currency=["$", "US$", "USD"], currency_code="USD")
    value, how = parse_one("($1,234.50)", fmt)
    assert value == -1234.5
    assert any("thousands" in h for h in how) and any("accounting" in h for h in how)


def test_pattern_is_valid_for_pyarrow_and_python() -> None:
    fmt = NumberFormat(
        decimal=",",
        thousands=[".", " "],
        currency=["€", "EUR"],
        unit="kg",
        unit_aliases=["kg", "kilo"],
        unit_note=True,
    )
    pattern = number_pattern(fmt)
    import pyarrow.compute as pc

    assert pc.extract_regex(pa.array(["1.234,5 kg"]), pattern).to_pylist()[0]["num"] == "1.234,5"


def test_name_tokens_and_semantics() -> None:
    assert name_tokens("GarageYrBlt") == ["garage", "yr", "blt"]
    assert number_semantic("YearBuilt", np.array([1990.0, 2005.0]), True) == "year"
    assert number_semantic("MoSold", np.array([1.0, 12.0]), True) == "month"
    assert number_semantic("dep_time", np.array([517.0, 2359.0, 1200.0]), True)
    assert number_semantic("dep_time", np.array([517.0, 2370.0]), True) is None
    assert number_semantic("price", np.array([1990.0, 2005.0]), True) is None


CONVENTIONS = {
    "us": (",", "."),
    "eu": (".", ","),
    "swiss": ("'", "."),
    "french": (" ", ","),
}


def _fmt(value: float, convention: str, style: str) -> str:
    thousands, decimal = CONVENTIONS[convention]
    body = (
        f"{abs(value):,.2f}".replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)
    )
    if style == "currency":
        body = "$" + body
    elif style == "unit":
        body = body + " kg"
    if value < 0:
        return f"({body})" if style == "currency" else "-" + body
    return body


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False),
        min_size=3,
        max_size=30,
    ),
    convention=st.sampled_from(sorted(CONVENTIONS)),
    style=st.sampled_from(["plain", "currency", "unit"]),
)
def test_formatted_numbers_parse_back(values: list, convention: str, style: str) -> None:
    floats = [float(v) for v in values]
    texts = [_fmt(v, convention, style) for v in floats]
    texts.append(_fmt(1234.5, convention, style))  # one grouped value settles the convention
    floats.append(1234.5)
    _, parsed, ok = parse(texts)
    assert all(ok), texts
    assert parsed == pytest.approx(floats, rel=1e-12, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=100), min_size=3, max_size=30))
def test_percents_parse_back(points: list[int]) -> None:
    texts = [f"{p}%" for p in points]
    _, parsed, ok = parse(texts)
    assert all(ok)
    assert parsed == pytest.approx([p / 100 for p in points])


@settings(max_examples=50, deadline=None)
@given(
    decimal=st.sampled_from([".", ","]),
    thousands=st.lists(st.sampled_from([",", ".", " ", "'"]), max_size=2),
    currency=st.lists(st.sampled_from(["$", "€", "USD"]), max_size=2),
    code=st.one_of(st.none(), st.sampled_from(["USD", "EUR"])),
    unit=st.one_of(st.none(), st.sampled_from(["kg", "%"])),
    aliases=st.lists(st.sampled_from(["kgs", "kilo"]), max_size=2),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    percent=st.sampled_from(["fraction", "points"]),
    semantic=st.one_of(st.none(), st.sampled_from(["year", "month"])),
)
def test_number_format_to_dict_is_asdict(
    decimal: str,
    thousands: list[str],
    currency: list[str],
    code: str | None,
    unit: str | None,
    aliases: list[str],
    flags: tuple[bool, bool, bool],
    percent: str,
    semantic: str | None,
) -> None:
    from dataclasses import asdict

    fmt = NumberFormat(
        decimal=decimal,
        thousands=thousands,
        currency=currency,
        currency_code=code,
        unit=unit,
        unit_aliases=aliases,
        unit_note=flags[0],
        percent=percent,
        words=flags[1],
        integer=flags[2],
        semantic=semantic,
    )
    out = fmt.to_dict()
    assert out == asdict(fmt)
    assert list(out) == list(asdict(fmt))  # same order: the JSON is the same
    # the lists are copies: changing the dict leaves the format alone
    out["thousands"].append("x")
    assert "x" not in fmt.thousands
    assert NumberFormat.from_dict(fmt.to_dict()) == fmt
