"""PII detectors: exact validators, Hypothesis-generated values, column-level findings."""

from __future__ import annotations

import random
import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.guard import classify_value, detect_pii, find_pii_spans
from apprentice.guard.pii import (
    IBAN_LENGTHS,
    is_card_number,
    is_email,
    is_iban,
    is_ip_address,
    is_phone,
    is_ssn,
    looks_like_person_name,
    looks_like_street_address,
    luhn_ok,
    name_cue,
    name_tokens,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# generators of valid values


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, length = draw(
        st.sampled_from([("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15),
                         ("37", 15), ("6011", 16), ("65", 16), ("3530", 16), ("36", 14)])
    )  # fmt: skip
    body = prefix + "".join(
        draw(st.lists(st.sampled_from(string.digits), min_size=length - len(prefix) - 1,
                      max_size=length - len(prefix) - 1))
    )  # fmt: skip
    number = _luhn_complete(body)
    if len(set(number)) == 1:
        number = _luhn_complete(body[:-1] + ("1" if body[-1] != "1" else "2"))
    style = draw(st.sampled_from(["plain", "spaces", "dashes"]))
    if style == "plain" or length != 16:
        return number
    sep = " " if style == "spaces" else "-"
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


def _iban_check_digits(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    size = IBAN_LENGTHS[country] - 4
    alphabet = string.digits if draw(st.booleans()) else string.digits + string.ascii_uppercase
    bban = "".join(draw(st.lists(st.sampled_from(alphabet), min_size=size, max_size=size)))
    compact = country + _iban_check_digits(country, bban) + bban
    if draw(st.booleans()):
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


@st.composite
def ssns(draw: st.DrawFn) -> str:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    group = draw(st.integers(1, 99))
    serial = draw(st.integers(1, 9999))
    return f"{area:03d}-{group:02d}-{serial:04d}"


_LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = ".".join(draw(st.lists(_LABEL, min_size=1, max_size=3)))
    if draw(st.booleans()):
        local += "+" + draw(_LABEL)
    labels = draw(st.lists(_LABEL, min_size=1, max_size=3))
    tld = draw(st.text(string.ascii_lowercase, min_size=2, max_size=6))
    return f"{local}@{'.'.join(labels)}.{tld}"


# ---------------------------------------------------------------------------------------------
# validators


@FAST
@given(card_numbers())
def test_generated_card_numbers_are_found(number: str) -> None:
    assert is_card_number(number)
    assert classify_value(number) == "payment_card"
    assert find_pii_spans(f"paid with {number} yesterday")[0][2] == "payment_card"


@FAST
@given(card_numbers())
def test_a_wrong_check_digit_is_not_a_card(number: str) -> None:
    last = number[-1]
    broken = number[:-1] + str((int(last) + 1) % 10)
    assert not is_card_number(broken)


@FAST
@given(ibans())
def test_generated_ibans_are_found(iban: str) -> None:
    assert is_iban(iban)
    assert classify_value(iban) == "iban"
    spans = find_pii_spans(f"transfer to {iban}, thanks")
    assert [k for *_, k in spans] == ["iban"]


@FAST
@given(ibans(), st.integers(4, 40))
def test_a_changed_iban_character_fails_the_checksum(iban: str, where: int) -> None:
    compact = iban.replace(" ", "")
    i = 4 + where % (len(compact) - 4)
    ch = compact[i]
    swapped = str((int(ch) + 1) % 10) if ch.isdigit() else ("A" if ch != "A" else "B")
    assert not is_iban(compact[:i] + swapped + compact[i + 1 :])


@FAST
@given(ssns())
def test_generated_ssns_are_found(ssn: str) -> None:
    assert is_ssn(ssn)
    assert classify_value(ssn) == "ssn"


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "900-12-3456", "987-65-4321",
                                 "123-00-4567", "123-45-0000", "12-345-6789"])  # fmt: skip
def test_invalid_ssns(ssn: str) -> None:
    assert not is_ssn(ssn) or ssn == "12-345-6789"
    assert classify_value(ssn) != "ssn"


@FAST
@given(emails())
def test_generated_emails_are_found(email: str) -> None:
    assert is_email(email)
    assert classify_value(email) == "email"
    assert find_pii_spans(f"write to <{email}> please") != []


@pytest.mark.parametrize(
    "text", ["user@", "@example.com", "a@b", "a@b.c", "john.@example.com", "a..b@example.com",
             "name at example dot com", "x@-example.com"]
)  # fmt: skip
def test_not_emails(text: str) -> None:
    assert not is_email(text)


@FAST
@given(st.ip_addresses())
def test_ip_addresses(addr: object) -> None:
    text = str(addr)
    if text in ("0.0.0.0", "::"):
        assert not is_ip_address(text)
    else:
        assert is_ip_address(text)
        assert classify_value(text) in ("ip_address", "phone") or text.count(":") >= 2


@pytest.mark.parametrize("text", ["256.1.1.1", "1.2.3", "01.02.03.04", "18:00:00", "12:30",
                                  "1.2.3.4.5", "::"])  # fmt: skip
def test_not_ip_addresses(text: str) -> None:
    assert not is_ip_address(text)
    assert not [k for *_, k in find_pii_spans(text) if k == "ip_address"]


@pytest.mark.parametrize(
    "text",
    ["+1 202-555-0173", "(202) 555-0173", "202.555.0173", "+44 20 7946 0958", "0044 20 7946 0958",
     "020 7946 0958", "+49 30 901820", "+33 1 42 68 53 00"],
)  # fmt: skip
def test_phone_numbers(text: str) -> None:
    assert is_phone(text)


@pytest.mark.parametrize(
    "text",
    ["2019-03-23 20:21:09", "2004-03-10", "12/31/2011", "3101282", "1484705", "0.7578",
     "123-456", "1-800", "12345", "226802", "7590-VHVEG", "A/5 21171", "1,000,000"],
)  # fmt: skip
def test_not_phone_numbers(text: str) -> None:
    assert not is_phone(text)
    assert not find_pii_spans(text)


def test_digit_only_phones_need_a_column_name() -> None:
    assert not is_phone("2025550173")
    assert is_phone("2025550173", cue=True)
    assert is_phone("+12025550173")


def test_person_name_and_address_shapes() -> None:
    assert looks_like_person_name("Braund, Mr. Owen Harris", min_tokens=2)
    assert looks_like_person_name(
        "Cumings, Mrs. John Bradley (Florence Briggs Thayer)", min_tokens=2
    )
    assert looks_like_person_name("McGowan, Miss. Anna 'Annie'", min_tokens=2)
    assert looks_like_person_name("miguel hernandez", min_tokens=2)
    assert looks_like_person_name("Zoë Núñez-O'Brien", min_tokens=2)
    assert not looks_like_person_name("iPhone 12 Pro", min_tokens=2)
    assert not looks_like_person_name("A/5 21171")
    assert looks_like_street_address("123 Main St")
    assert looks_like_street_address("4512 N. Oak Ridge Avenue, Springfield, IL 62704")
    assert looks_like_street_address("Hauptstraße 5")
    assert looks_like_street_address("12 rue de la Paix")
    assert not looks_like_street_address("Lenox Hill West")
    assert not looks_like_street_address("3 Stars")


def test_name_tokens_and_cues() -> None:
    assert name_tokens("customerEmailAddress") == ["customer", "email", "address"]
    assert name_tokens("PassengerId") == ["passenger", "id"]
    assert name_cue("E-mail", "email") == "strong"
    assert name_cue("email_address", "street_address") is None
    assert name_cue("ip_address", "street_address") is None
    assert name_cue("billing_address", "street_address") == "strong"
    assert name_cue("first_name", "person_name") == "strong"
    assert name_cue("Name", "person_name") == "weak"
    assert name_cue("product_name", "person_name") is None
    assert name_cue("studyName", "person_name") is None
    assert name_cue("PhoneService", "phone") == "strong"  # values decide: yes/no is no phone


# ---------------------------------------------------------------------------------------------
# column findings


def _frame(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = random.Random(seed)
    first = ["Anna", "Ben", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jon"]
    last = ["Smith", "Okafor", "Müller", "García", "Nguyen", "Kowalski", "Rossi", "Haddad"]
    streets = ["Main St", "Oak Avenue", "Elm Road", "Park Lane", "Cedar Blvd", "Hill Drive"]
    rows = []
    for i in range(n):
        f, la = rng.choice(first), rng.choice(last)
        rows.append(
            {
                "id": f"C{i:05d}",
                "full_name": f"{f} {la}",
                "contact": f"{f.lower()}.{la.lower()}{i}@example.org",
                "phone": f"+1 202-555-{rng.randrange(100, 199):04d}",
                "home_address": f"{rng.randrange(1, 9999)} {rng.choice(streets)}",
                "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "plan": rng.choice(["basic", "pro", "team"]),
                "spend": str(round(rng.uniform(1, 500), 2)),
                "notes": "call me at +44 20 7946 0958" if i % 10 == 0 else "no notes",
            }
        )
    return pd.DataFrame(rows).astype("str")


def test_findings_on_a_synthetic_customer_table() -> None:
    report = detect_pii(_frame())
    assert report.pii_columns == {
        "full_name": "person_name",
        "contact": "email",
        "phone": "phone",
        "home_address": "street_address",
        "ip": "ip_address",
    }
    notes = report.for_column("notes")
    assert [(f.kind, f.confidence, f.embedded) for f in notes] == [("phone", "low", True)]
    assert notes[0].share == pytest.approx(0.1)
    assert "notes" in report.flagged_columns and "notes" not in report.pii_columns
    assert not report.for_column("id") and not report.for_column("plan")
    assert not report.for_column("spend")
    email = report.for_column("contact")[0]
    assert (email.share, email.evidence, email.confidence) == (1.0, "value", "high")


def test_report_holds_no_values() -> None:
    frame = _frame()
    report = detect_pii(frame)
    text = repr(report.to_dict()) + "\n".join(report.describe()) + report.to_frame().to_csv()
    for column in ("full_name", "contact", "phone", "home_address", "ip"):
        for value in frame[column].head(50):
            assert value not in text


def test_typed_columns() -> None:
    frame = pd.DataFrame(
        {
            "phone_number": [2025550173.0, 2025550188.0, None],
            "card": pd.Series([4111111111111111, 5500005555555559, 4012888888881881]),
            "flag": [True, False, True],
            "when": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
        }
    )
    report = detect_pii(frame)
    assert report.pii_columns == {"phone_number": "phone", "card": "payment_card"}


def test_sampling_is_reported() -> None:
    frame = _frame(n=300)
    report = detect_pii(frame, sample=100)
    assert (report.rows_scanned, report.rows_total, report.sampled) == (100, 300, True)
    assert report.pii_columns["contact"] == "email"


@FAST
@given(st.lists(st.integers(0, 10**17), min_size=30, max_size=80))
def test_random_numbers_are_not_pii_columns(numbers: list[int]) -> None:
    frame = pd.DataFrame({"value": [str(n) for n in numbers]}, dtype="str")
    assert detect_pii(frame).pii_columns == {}


@FAST
@given(st.lists(st.text(min_size=1, max_size=30), min_size=30, max_size=60))
def test_random_text_is_not_pii(texts: list[str]) -> None:
    frame = pd.DataFrame({"comment": texts}, dtype="str")
    assert detect_pii(frame).pii_columns == {}
    flagged = sum(classify_value(t) is not None for t in texts)
    assert flagged <= len(texts) // 10
