"""Encoding detection: BOMs, UTF-8, single-byte code pages, undecodable bytes."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apprentice.read.encoding import decode, guess_encoding

TEXT = "name,city\nJosé,Zürich\nFrançoise,Kraków\n"


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "utf-32-le"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-8"), "utf-8"),
        (b"a,b\n1,2\n", "ascii"),
    ],
)
def test_detects_and_decodes(raw: bytes, encoding: str) -> None:
    decoded = decode(raw)
    assert decoded.encoding == encoding
    expected = TEXT if encoding != "ascii" else "a,b\n1,2\n"
    assert decoded.text == expected
    assert decoded.undecodable == 0


def test_cp1252_is_the_western_default() -> None:
    raw = "name,price\nCafé,€3\nNaïve,“quoted”\n".encode("cp1252")
    decoded = decode(raw)
    assert decoded.encoding == "cp1252"
    assert "€3" in decoded.text and "“quoted”" in decoded.text


def test_cyrillic_code_page() -> None:
    raw = ("город,население\n" + "Москва,13000000\nСанкт-Петербург,5600000\n" * 20).encode("cp1251")
    assert guess_encoding(raw)[0] == "cp1251"


def test_undecodable_bytes_are_counted_not_fatal() -> None:
    raw = b"a,b\n1,caf\xe9\n2,\xff\xfe\n"
    decoded = decode(raw, "utf-8")
    assert decoded.undecodable == 3
    assert decoded.text.count("\ufffd") == 3


def test_hint_wins() -> None:
    raw = "a\nZürich\n".encode("latin-1")
    assert decode(raw, "latin-1").text == "a\nZürich\n"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_utf8_text_round_trips(text: str) -> None:
    decoded = decode(text.encode("utf-8"))
    assert decoded.text == text.removeprefix("\ufeff")
    assert decoded.undecodable == 0


def test_central_european_text_is_read_as_cp1250() -> None:
    # a Czech bank export: in cp1252 "č" reads "è" and "ě" reads "ì"; the detector finds
    # the cp1250 reading less of a mess, so it wins over the Western default
    text = (
        "Datum provedení;Datum zaúčtování;Číslo účtu;Název účtu;Zpráva;Poznámka;Měna účtu\n"
        "27.05.2018;27.05.2018;123456789/1234;Jméno Příjmení;Platba za nákup;Jednorázová "
        "platba;CZK\n"
        "28.05.2018;28.05.2018;987654321/4321;Čeněk Dvořák;Převod mezi účty;Měsíční "
        "příspěvek;CZK\n"
    )
    got = decode(text.encode("cp1250"))
    assert got.encoding == "cp1250"
    assert got.text == text
    assert got.undecodable == 0
