"""PII detection on column names and cell values.

:func:`detect_pii` looks at every column of a frame (text cells from ``apprentice.read`` or a
typed frame from the clean stage) and reports, per column and kind, the share of non-empty
cells that hold a value of that kind. Kinds:

``email``, ``phone``, ``payment_card``, ``ssn``, ``iban``, ``ip_address``
    found by a vectorised regular-expression pre-filter on the distinct values, then confirmed
    by an exact validator: address syntax; ``phonenumbers`` parsing and ``is_valid_number`` in
    the given default regions; Luhn plus issuer prefix and length for cards; the US SSN rules
    (area not 000, 666 or 900-999, group not 00, serial not 0000); the ISO 13616 country length
    and mod-97 checksum for IBANs; :mod:`ipaddress` for IPv4 and IPv6.
``person_name``, ``street_address``
    cannot be validated, so they need a column-name cue (``name``, ``first_name``, ``surname``,
    ``customer``, ``address``, ``street`` ...; glued names such as ``CONTACTLASTNAME`` are
    split) backed by the value shape (alphabetic tokens, also written ``snake_case``, dotted
    or glued ``CamelCase``, and for a weak cue a common given or family name in a good share
    of cells; a house number followed by words and a street type), or, without a cue, an
    unmistakable shape (honorifics such as ``Mr.``/``Mrs.`` in most cells; two to five name
    tokens with a common given name in most cells; ``123 Main St`` in most cells). The name
    lists (``data/given_names.txt``, ``data/surnames.txt``) say where they come from.
``date_of_birth``
    a column named so (``dob``, ``birth_date``, ``Date of birth`` ...) holding dates.

A column whose name names a kind and whose values are written like one (a phone number of
another region, a local number without its area code, a card number a float has rounded) is
reported with medium confidence though the validator refuses them. Numbers with a fractional
part are never checked (an hour of 13.8167 is not a card number), and where most long digit
runs fail the Luhn check (or dotted numbers fail the IPv4 ranges) the few that pass are
chance, not cards. Empty cells and missing-value markers are not checked cells.

Each finding carries a confidence: ``high`` and ``medium`` findings make a column a PII column
(excluded from features, masked in displays); ``low`` findings (a column name that suggests PII
but values that do not confirm it, or a few values embedded in free text) are reported and the
column's examples are redacted, but the column is kept. Findings never hold a cell value: only
column names, kinds, counts and shares.

Digit-only phone numbers and 9-digit SSNs without dashes are only considered in columns whose
name says so: on their own they are indistinguishable from ordinary numbers and codes.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

PII_KINDS: tuple[str, ...] = (
    "email",
    "phone",
    "payment_card",
    "ssn",
    "iban",
    "ip_address",
    "person_name",
    "street_address",
    "date_of_birth",
)
KIND_LABELS: dict[str, str] = {
    "email": "email addresses",
    "phone": "phone numbers",
    "payment_card": "payment card numbers",
    "ssn": "US social security numbers",
    "iban": "IBANs",
    "ip_address": "IP addresses",
    "person_name": "person names",
    "street_address": "street addresses",
    "date_of_birth": "dates of birth",
}
CONFIDENCE_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2}
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB")
DEFAULT_SAMPLE = 20_000
MAX_DISTINCT = 300  # distinct values given to the name and address scans per column

# ---------------------------------------------------------------------------------------------
# column-name cues


def name_tokens(column: object) -> list[str]:
    """Lower-case word tokens of a column name (``customerEmail`` -> ``customer``, ``email``).

    A token written without separators (``CONTACTLASTNAME``, ``homephone``) is split before
    the longest cue word it ends with (``contact``, ``lastname``), when what precedes it has at
    least two letters."""
    return list(_name_tokens(str(column)))


@functools.lru_cache(maxsize=65_536)
def _name_tokens(column: str) -> tuple[str, ...]:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    out: list[str] = []
    for token in re.split(r"[^0-9A-Za-z]+", text.lower()):
        if token:
            out.extend(_split_glued(token))
    return tuple(out)


# the words a glued column-name token is split before (``contactlastname``), longest first;
# short or ambiguous endings (``tel``: hotel, ``mobile``: automobile) are left out
_GLUED_SUFFIXES = tuple(
    sorted(
        (
            "lastname",
            "firstname",
            "surname",
            "fullname",
            "givenname",
            "familyname",
            "middlename",
            "name",
            "names",
            "phone",
            "phonenumber",
            "telephone",
            "email",
            "address",
            "birthdate",
            "birthday",
        ),
        key=len,
        reverse=True,
    )
)


def _split_glued(token: str) -> list[str]:
    if token in _ALL_CUES:
        return [token]
    numbered = re.fullmatch(r"([a-z]{2,})(\d+)", token)
    if numbered:  # ``phone1``, ``addressline2``
        return [*_split_glued(numbered.group(1)), numbered.group(2)]
    for suffix in _GLUED_SUFFIXES:
        head = token[: -len(suffix)]
        if token.endswith(suffix) and len(head) >= 2 and head.isalpha():
            return [*_split_glued(head), suffix]
    return [token]


_EMAIL_CUES = {"email", "emails", "mail", "emailaddress", "mailaddress"}
_PHONE_CUES = {
    "phone",
    "telefon",
    "telefono",
    "telefone",
    "telephon",
    "cell",
    "cellular",
    "contactnumber",
    "phonenum",
    "mobileno",
    "mobilephone",
    "homephone",
    "workphone",
    "phones",
    "telephone",
    "tel",
    "mobile",
    "cellphone",
    "fax",
    "msisdn",
    "phonenumber",
    "phoneno",
    "mobilenumber",
    "whatsapp",
}
_CARD_CUES = {"card", "cc", "creditcard", "cardnumber", "ccnumber", "ccnum", "pan", "cardno"}
_SSN_CUES = {"ssn", "socialsecurity", "socialsecuritynumber", "ssnumber"}
_IBAN_CUES = {"iban", "bankaccount", "accountnumber", "ibannumber"}
_IP_CUES = {"ip", "ipaddress", "ipaddr", "ipv4", "ipv6", "clientip", "remoteip", "sourceip"}
_ADDRESS_CUES = {"address", "addr", "street", "streetaddress", "addressline"}
_ADDRESS_NOT = {"email", "mail", "ip", "mac", "web", "url", "wallet", "bitcoin", "eth", "memory"}
_STRONG_NAME_CUES = {
    "firstname",
    "lastname",
    "surname",
    "fullname",
    "givenname",
    "forename",
    "familyname",
    "middlename",
    "maidenname",
    "personname",
}
_NAME_PREFIXES = {
    "first",
    "last",
    "full",
    "given",
    "family",
    "middle",
    "maiden",
    "nick",
    "sur",
    "fore",
    "customer",
    "cust",
    "client",
    "patient",
    "person",
    "employee",
    "emp",
    "passenger",
    "contact",
    "owner",
    "holder",
    "cardholder",
    "member",
    "student",
    "user",
    "applicant",
    "driver",
    "agent",
    "manager",
    "doctor",
    "physician",
    "teacher",
    "beneficiary",
    "guest",
    "buyer",
    "seller",
    "tenant",
    "account",
    "mother",
    "father",
    "parent",
    "spouse",
    "candidate",
    "author",
    "recipient",
    "sender",
}


_BIRTH_CUES = {
    "dob",
    "birthdate",
    "dateofbirth",
    "birthday",
    "birthdt",
    "borndate",
    "geburtsdatum",
    "fechanacimiento",
    "datenaissance",
    "datanascita",
}
_ALL_CUES: set[str] = set()  # filled below, once every cue set is defined
# a column named for a person's role, holding their names (``customer``, ``assigned_to``)
_ROLE_COLUMNS = {
    "customer",
    "client",
    "patient",
    "owner",
    "employee",
    "contact",
    "guest",
    "passenger",
    "member",
    "student",
    "author",
    "manager",
    "director",
    "assignee",
    "assignedto",
    "driver",
    "teacher",
    "doctor",
    "physician",
    "recipient",
    "sender",
    "cardholder",
    "tenant",
    "buyer",
    "seller",
    "applicant",
    "candidate",
    "person",
    "beneficiary",
    "spouse",
    "reporter",
    "requester",
    "leadowner",
    "salesperson",
    "salesrep",
    "supervisor",
    "username",
}


_ALL_CUES.update(
    _EMAIL_CUES,
    _PHONE_CUES,
    _CARD_CUES,
    _SSN_CUES,
    _IBAN_CUES,
    _IP_CUES,
    _ADDRESS_CUES,
    _STRONG_NAME_CUES,
    _BIRTH_CUES,
    _ROLE_COLUMNS,
)


def _joined(tokens: Sequence[str]) -> set[str]:
    """Single tokens and adjacent pairs joined (``first name`` -> ``firstname``)."""
    out = set(tokens)
    out.update(a + b for a, b in itertools.pairwise(tokens))
    out.update(a + b + c for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False))
    return out


@functools.lru_cache(maxsize=65_536)
def _cue_words(column: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """A name's tokens and their joined pairs and triples, once per name (every kind asks)."""
    tokens = _name_tokens(column)
    return tokens, frozenset(_joined(tokens))


def name_cue(column: object, kind: str) -> Literal["strong", "weak", None]:
    """How strongly a column's name suggests ``kind`` (``None``: not at all)."""
    token_tuple, words = _cue_words(str(column))
    tokens = list(token_tuple)
    if kind == "email":
        return "strong" if words & _EMAIL_CUES or ("e" in tokens and "mail" in tokens) else None
    if kind == "phone":
        return "strong" if words & _PHONE_CUES else None
    if kind == "payment_card":
        return "strong" if words & _CARD_CUES else None
    if kind == "ssn":
        return "strong" if words & _SSN_CUES else None
    if kind == "iban":
        return "strong" if words & _IBAN_CUES else None
    if kind == "ip_address":
        return "strong" if words & _IP_CUES else None
    if kind == "street_address":
        if words & _ADDRESS_NOT:
            return None
        return "strong" if words & _ADDRESS_CUES else None
    if kind == "date_of_birth":
        return "strong" if words & _BIRTH_CUES else None
    if kind == "person_name":
        if words & _STRONG_NAME_CUES:
            return "strong"
        if tokens == ["name"] or tokens == ["names"]:
            return "weak"
        if "".join(tokens) in _ROLE_COLUMNS:
            return "weak"
        if tokens and tokens[-1] in ("name", "names") and len(tokens) >= 2:
            return "weak" if tokens[-2] in _NAME_PREFIXES else None
        if tokens in (["first"], ["last"], ["given"], ["family"]):
            return "weak"
        return None
    raise ValueError(f"unknown PII kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# exact validators


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn (mod 10) check."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_brand_ok(digits: str) -> bool:
    n = len(digits)
    p2, p4 = int(digits[:2]), int(digits[:4])
    p3, p6 = int(digits[:3]), int(digits[:6])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p4 == 6011 or p2 == 65 or 644 <= p3 <= 649 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19
    if p2 == 62:
        return 16 <= n <= 19
    return False


def is_card_number(text: str) -> bool:
    """A payment card number: 13-19 digits (spaces/dashes in card groups), issuer prefix, Luhn."""
    groups = re.split(r"[ -]", text.strip())
    digits = "".join(groups)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    if len(groups) > 1:
        sizes = [len(g) for g in groups]
        if sizes not in ([4, 6, 5], [4, 6, 4]) and not (
            all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4
        ):
            return False
        seps = set(re.findall(r"[ -]", text.strip()))
        if len(seps) > 1:
            return False
    if len(set(digits)) == 1:
        return False
    return _card_brand_ok(digits) and luhn_ok(digits)


def is_ssn(text: str) -> bool:
    """A US social security number by the SSA rules (``123-45-6789``, or 9 digits)."""
    digits = re.sub(r"[- ]", "", text.strip())
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


IBAN_LENGTHS: dict[str, int] = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BI": 27,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DJ": 27,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FK": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "LY": 25,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MN": 20,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NI": 28,
    "NL": 18,
    "NO": 15,
    "OM": 23,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "RU": 33,
    "SA": 24,
    "SC": 31,
    "SD": 18,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "SO": 23,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
    "YE": 30,
}


def iban_checksum_ok(compact: str) -> bool:
    """ISO 7064 mod-97-10 check of a compact IBAN (letters to 10..35, remainder 1)."""
    rearranged = compact[4:] + compact[:4]
    try:
        number = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


def is_iban(text: str) -> bool:
    """An IBAN: known country, that country's length, mod-97 checksum (spaces allowed)."""
    compact = re.sub(r"\s", "", text.strip()).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        return False
    return IBAN_LENGTHS.get(compact[:2]) == len(compact) and iban_checksum_ok(compact)


def is_ip_address(text: str) -> bool:
    """An IPv4 or IPv6 address (not the unspecified address ``0.0.0.0`` / ``::``)."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return not addr.is_unspecified


_EMAIL_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_EMAIL_FULL = re.compile(
    rf"{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}"
)


def is_email(text: str) -> bool:
    """An email address (RFC 5322 dot-atom local part, DNS host name with an alphabetic TLD)."""
    text = text.strip()
    return (
        len(text) <= 254
        and _EMAIL_FULL.fullmatch(text) is not None
        and len(text.split("@", 1)[0]) <= 64
    )


_DATE_LIKE = re.compile(r"\d{1,4}[-/. ]\d{1,2}[-/. ]\d{1,4}")
_HAS_DATE = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)\d\d)(?!\d)"
)
_NUMBER_LIKE = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


def is_phone(
    text: str, *, regions: Sequence[str] = DEFAULT_PHONE_REGIONS, cue: bool = False
) -> bool:
    """A phone number valid for ``phonenumbers`` (international, or in one of ``regions``).

    Without a column-name cue the text must look like a phone number, not just a number: a
    leading ``+``/``00`` or digit groups separated by spaces, dashes, dots or parentheses.
    """
    import phonenumbers

    text = text.strip()
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return False
    international = text.startswith("+") or text.startswith("00")
    if _DATE_LIKE.fullmatch(text) or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", text):
        return False
    if _HAS_DATE.search(text):
        return False
    if _NUMBER_LIKE.fullmatch(text) and not (text.lstrip("+").isdigit() and (cue or international)):
        return False
    if not cue and not international and not re.search(r"\d[\s().-]+\d|\(\d", text):
        return False
    candidates: list[tuple[str, str | None]] = []
    if international:
        candidates.append(("+" + text[2:] if text.startswith("00") else text, None))
    else:
        candidates.extend((text, region) for region in regions)
    for number, region in candidates:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# finders: validated spans inside a text (for scrubbing free text and for embedded values)

_EMAIL_SEARCH = re.compile(r"(?<![\w.%+-])[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,63}(?![\w-])")
# a card number is a whole run of digits: not the decimals of a number (``13.8166666666667``)
_CARD_SEARCH = re.compile(r"(?<![\d-])(?<!\d[.,])\d(?:[ -]?\d){12,18}(?!\d|[.,]\d)")
_SSN_SEARCH = re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])")
_SSN_DIGITS = re.compile(r"(?<!\d)(?<!\d[.,])\d{9}(?!\d|[.,]\d)")
_IBAN_SEARCH = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,34}")
_IPV4_SEARCH = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6_SEARCH = re.compile(
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:|:)(?::|[0-9A-Fa-f]{1,4}:?){2,14}[0-9A-Fa-f]{0,4}"
    r"(?![0-9A-Fa-f:])"
)
_PHONE_SEARCH = re.compile(r"(?<![\w+])(?<!\d[.,])(?:\+|00)?\(?\d[\d\s().\-/]{5,20}\d(?![\w])")

Span = tuple[int, int]


def _find_email(text: str, cue: bool, regions: Sequence[str]) -> list[Span]:
    return [m.span() for m in _EMAIL_SEARCH.finditer(text) if is_email(m.group())]


def _find_card(text: str, cue: bool, regions: Sequence[str]) -> list[Span]:
    return [m.span() for m in _CARD_SEARCH.finditer(text) if is_card_number(m.group())]


def _find_ssn(text: str, cue: bool, regions: Sequence[str]) -> list[Span]:
    spans = [m.span() for m in _SSN_SEARCH.finditer(text) if is_ssn(m.group())]
    if cue:
        spans += [m.span() for m in _SSN_DIGITS.finditer(text) if is_ssn(m.group())]
    return spans


def _find_iban(text: str, cue: bool, regions: Sequence[str]) -> list[Span]:
    spans = []
    for m in _IBAN_SEARCH.finditer(text):
        raw = m.group()
        country = raw[:2].upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            continue
        taken, end = 0, m.start()
        for i, ch in enumerate(raw):
            if ch != " ":
                taken += 1
            if taken == length:
                end = m.start() + i + 1
                break
        if taken == length and is_iban(text[m.start() : end]):
            spans.append((m.start(), end))
    return spans


def _find_ip(text: str, cue: bool, regions: Sequence[str]) -> list[Span]:
    spans = [m.span() for m in _IPV4_SEARCH.finditer(text) if is_ip_address(m.group())]
    if ":" in text:
        for m in _IPV6_SEARCH.finditer(text):
            raw = m.group()
            if sum(c in "0123456789abcdefABCDEF" for c in raw) >= 3 and is_ip_address(raw):
                spans.append(m.span())
    return spans


def _find_phone(text: str, cue: bool, regions: Sequence[str]) -> list[Span]:
    spans = []
    for m in _PHONE_SEARCH.finditer(text):
        raw = m.group()
        stripped = raw.rstrip(" .-/(")
        if text[m.start() + len(stripped) : m.start() + len(stripped) + 1] == ":":
            continue  # a time of day follows: a date-time, not a phone number
        if is_phone(stripped, regions=regions, cue=cue):
            spans.append((m.start(), m.start() + len(stripped)))
    return spans


Finder = Callable[[str, bool, Sequence[str]], list[Span]]
# kind -> (vectorised pre-filter regex, exact finder)
_VALIDATED: dict[str, tuple[str, Finder]] = {
    "email": (r"@[^\s@]+\.", _find_email),
    "payment_card": (r"\d(?:[ -]?\d){12}", _find_card),
    "ssn": (r"\d{3}[- ]\d{2}[- ]\d{4}", _find_ssn),
    "iban": (r"[A-Za-z]{2}\d{2} ?[A-Za-z0-9]{4}", _find_iban),
    "ip_address": (
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
        _find_ip,
    ),
    "phone": (r"\d[\d\s().\-/]{5,}\d", _find_phone),
}
_CUE_PREFILTER = {"ssn": r"\d{9}"}


def find_pii_spans(
    text: str, *, regions: Sequence[str] = DEFAULT_PHONE_REGIONS
) -> list[tuple[int, int, str]]:
    """Validated PII inside free text: ``(start, end, kind)``, non-overlapping, in order.

    Covers the kinds that can be validated (emails, formatted phone numbers, cards, dashed
    SSNs, IBANs, IP addresses); person names and street addresses in free text cannot be
    found reliably.
    """
    found: list[tuple[int, int, str]] = []
    for kind in ("email", "iban", "payment_card", "ssn", "ip_address", "phone"):
        _, finder = _VALIDATED[kind]
        for start, end in finder(text, False, regions):
            if all(end <= s or start >= e for s, e, _ in found):
                found.append((start, end, kind))
    return sorted(found)


def classify_value(text: str, *, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> str | None:
    """The PII kind a whole cell value is (validated kinds only), or ``None``."""
    text = text.strip()
    if is_email(text):
        return "email"
    if is_iban(text):
        return "iban"
    if is_card_number(text):
        return "payment_card"
    if re.fullmatch(r"\d{3}[- ]\d{2}[- ]\d{4}", text) and is_ssn(text):
        return "ssn"
    if is_ip_address(text):
        return "ip_address"
    if is_phone(text, regions=regions):
        return "phone"
    return None


# ---------------------------------------------------------------------------------------------
# value shapes for names and addresses

_HONORIFIC = re.compile(
    r"(?:^|[\s,(])(?:mr|mrs|ms|miss|mstr|master|dr|rev|prof|sir|madam|mme|mlle|lady|lord|capt|"
    r"col|major|dona|jonkheer|countess|herr|frau)\.?\s+[A-Z]",
    re.IGNORECASE,
)
# one name token: letters (any script), with inner apostrophes, hyphens or a trailing dot
_NAME_TOKEN = r"[^\W\d_](?:[^\W\d_]|['’-][^\W\d_])*\.?"
_NAME_SHAPE = re.compile(rf"{_NAME_TOKEN}(?:,?\s+{_NAME_TOKEN}){{0,7}},?")
_STREET_TYPES = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|way|"
    r"terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|alley|crescent|cres|"
    r"close|row|plaza|plz|pike|loop|route|rte|walk|grove|gardens|mews"
)
_ADDRESS_SHAPE = re.compile(
    rf"(?:^|[\s,])\d{{1,6}}[A-Za-z]?(?:[-/]\d{{1,4}})?,?\s+(?:[NSEW]\.?\s+)?"
    rf"(?:[^\W_][\w.'’-]*\s+){{1,5}}(?:{_STREET_TYPES})\b\.?"
    r"|\b[^\W\d_]+(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|straat|gatan|vej|vägen)"
    r"\s+\d{1,4}[a-z]?\b"
    r"|(?:^|[\s,])\d{1,4}(?:\s*bis)?,?\s+(?:rue|avenue|boulevard|chemin|place|allée|quai|impasse)\s",
    re.IGNORECASE,
)


def _clean_name_value(text: str) -> str:
    text = re.sub(r"\([^)]*\)|\"[^\"]*\"|(?<!\S)'[^']*'(?!\S)", " ", text).replace("/", " ")
    if not re.search(r"\s", text.strip()):
        # one word: ``devin_rivera_borrego``, ``moises.miranda``, ``WadeJanodet``
        text = re.sub(r"(?<=[^\W\d_])[_.](?=[^\W\d_])", " ", text)
        text = re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


# words that make a phrase an organisation, a place or a thing rather than a person
_NOT_PERSON_WORDS = frozenset(
    {
        "inc",
        "llc",
        "ltd",
        "co",
        "corp",
        "corporation",
        "company",
        "companies",
        "group",
        "hospital",
        "center",
        "centre",
        "clinic",
        "university",
        "college",
        "school",
        "academy",
        "bank",
        "church",
        "foundation",
        "association",
        "services",
        "service",
        "brewing",
        "brewery",
        "restaurant",
        "cafe",
        "bar",
        "grill",
        "hotel",
        "club",
        "house",
        "home",
        "trust",
        "society",
        "institute",
        "department",
        "dept",
        "county",
        "city",
        "state",
        "the",
        "and",
        "of",
        "for",
        "gmbh",
        "plc",
        "llp",
        "partners",
        "sons",
        "industries",
        "international",
        "systems",
        "solutions",
        "technologies",
        "technology",
        "store",
        "shop",
        "market",
        "pharmacy",
        "agency",
        "office",
        "council",
        "ministry",
        "program",
        "programme",
        "project",
        "fund",
        "care",
    }
)


def looks_like_person_name(text: str, *, min_tokens: int = 1, max_tokens: int = 8) -> bool:
    """Alphabetic name tokens only (``Braund, Mr. Owen Harris``, ``miguel hernandez``,
    ``devin_rivera_borrego``), none of them a word of organisations or places."""
    cleaned = _clean_name_value(text)
    if not cleaned or _NAME_SHAPE.fullmatch(cleaned) is None:
        return False
    tokens = cleaned.replace(",", " ").split()
    if not min_tokens <= len(tokens) <= max_tokens:
        return False
    return not any(t.lower().strip(".") in _NOT_PERSON_WORDS for t in tokens)


@functools.lru_cache(maxsize=1)
def _name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """Given names and family names (lower case, accents removed), shipped with the package;
    see the header of each file for its sources."""
    folder = Path(__file__).resolve().parent / "data"

    def load(name: str) -> frozenset[str]:
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        return frozenset(w for w in lines if w and not w.startswith("#"))

    return load("given_names.txt"), load("surnames.txt")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(".'’-")


def has_known_name(text: str, *, single: bool = False) -> bool:
    """Whether a name-shaped value holds a common given name (or, next to another token or in
    a ``single``-name column, a common family name) among its first tokens: ``Caitlin
    Julia``, ``WILLIAMS, Henry``."""
    given, family = _name_lexicon()
    tokens = [_fold(t) for t in _clean_name_value(text).replace(",", " ").split()[:4]]
    tokens = [t for t in tokens if len(t) >= 3]
    if any(t in given for t in tokens):
        return True
    return (single or len(tokens) >= 2) and any(t in family for t in tokens)


def looks_like_street_address(text: str) -> bool:
    """A house number and a street type (``123 Main St``, ``Hauptstraße 5``, ``12 rue ...``)."""
    return _ADDRESS_SHAPE.search(text) is not None


# ---------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class PIIFinding:
    """One kind of PII found in one column. Never holds a cell value.

    ``share`` is ``matched / checked``: the share of non-empty (sampled) cells that hold a
    value of ``kind``; ``embedded`` is true when most matches sit inside longer free text.
    ``evidence`` is ``name``, ``value`` or ``name+value``.
    """

    column: str
    kind: str
    share: float
    matched: int
    checked: int
    evidence: str
    confidence: str
    embedded: bool = False
    reason: str = ""

    @property
    def is_pii_column(self) -> bool:
        """Whether this finding makes the whole column PII (``high`` or ``medium``)."""
        return self.confidence in ("high", "medium")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["share"] = round(self.share, 4)
        return out


@dataclass
class PIIReport:
    """What :func:`detect_pii` found: findings per column and kind, no values."""

    findings: list[PIIFinding] = field(default_factory=list)
    rows_scanned: int = 0
    rows_total: int = 0
    columns_scanned: list[str] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return self.rows_scanned < self.rows_total

    @property
    def pii_columns(self) -> dict[str, str]:
        """Columns that are PII (a high or medium finding) -> their main kind."""
        out: dict[str, str] = {}
        for f in self._ranked():
            if f.is_pii_column and f.column not in out:
                out[f.column] = f.kind
        return out

    @property
    def flagged_columns(self) -> set[str]:
        """Every column with any finding, low confidence included (their examples are redacted)."""
        return {f.column for f in self.findings}

    def kind_of(self, column: str) -> str | None:
        """The main PII kind of ``column`` (any confidence), or ``None``."""
        for f in self._ranked():
            if f.column == column:
                return f.kind
        return None

    def for_column(self, column: str) -> list[PIIFinding]:
        return [f for f in self.findings if f.column == column]

    def _ranked(self) -> list[PIIFinding]:
        return sorted(self.findings, key=lambda f: (-CONFIDENCE_ORDER[f.confidence], -f.share))

    def __bool__(self) -> bool:
        return bool(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_scanned": self.rows_scanned,
            "rows_total": self.rows_total,
            "sampled": self.sampled,
            "pii_columns": self.pii_columns,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_frame(self) -> pd.DataFrame:
        cols = [
            "column",
            "kind",
            "share",
            "matched",
            "checked",
            "evidence",
            "confidence",
            "embedded",
            "reason",
        ]
        return pd.DataFrame([asdict(f) for f in self.findings], columns=cols)

    def describe(self) -> list[str]:
        """One line per finding, for people (no values)."""
        return [
            f"{f.column}: {KIND_LABELS.get(f.kind, f.kind)} ({f.confidence} confidence, "
            f"{f.share:.0%} of {f.checked:,} checked cells; {f.reason})"
            for f in self.findings
        ]


# ---------------------------------------------------------------------------------------------
# detection


def _column_values(series: pd.Series) -> pd.Series:
    """Distinct values as stripped text, with their cell counts (index: value); empty cells
    and missing-value markers left out.

    Integral floats are written without ``.0`` (a phone number stored as a float is still a
    phone number); boolean and date-time columns cannot hold the kinds looked for.
    """
    dtype = series.dtype
    empty = pd.Series(dtype="int64")
    if pd.api.types.is_bool_dtype(dtype):
        return empty
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return empty
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return _text_column_values(series)
    values = series.dropna()
    if values.empty:
        return empty
    counts = values.value_counts(sort=False, dropna=True)
    keys = counts.index
    if pd.api.types.is_float_dtype(keys.dtype):
        floats = keys.to_numpy(dtype="float64")
        finite = np.isfinite(floats)
        counts = counts[finite]
        floats = floats[finite]
        # a number with a fractional part is no kind looked for (an hour of 13.8167 is not a
        # card number); integral floats are written without ``.0``
        integral = np.equal(np.floor(floats), floats) & (np.abs(floats) < 1e18)
        counts = counts[integral]
        text = pd.Series([str(int(v)) for v in floats[integral]], dtype="str")
    else:
        text = pd.Series(keys.map(str), dtype="str").str.strip()
    out = pd.Series(counts.to_numpy(), index=text.to_numpy())
    # empty cells and missing-value markers (``?``, ``n/a`` ...) are no value: not checked;
    # as in the clean stage, a marker word that is the column's most frequent value is a
    # category (a ``notes`` column of ``none``)
    from apprentice.clean.markers import MISSING_TOKENS

    top = out.idxmax() if len(out) else None
    markers = [
        v == "" or (v.casefold() in MISSING_TOKENS and not (v == top and v.isalpha()))
        for v in out.index
    ]
    out = out[~np.asarray(markers, dtype=bool)]
    return out.groupby(level=0, sort=False).sum()


def _text_column_values(series: pd.Series) -> pd.Series:
    """:func:`_column_values` of a pyarrow-backed text column (what ``apprentice.read``
    gives): the same counts, order and markers left out, from one pyarrow count of the distinct
    cells and a loop over them (a dozen pandas calls cost more on a wide table's short columns)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from apprentice.clean.markers import MISSING_TOKENS

    counted = pc.value_counts(pa.array(series.array))  # (distinct cells, first seen first)
    keys, counts = counted.field("values"), counted.field("counts")
    if keys.null_count:
        valid = pc.is_valid(keys)
        keys, counts = keys.filter(valid), counts.filter(valid)
    if len(keys) == 0:
        return pd.Series(dtype="int64")
    texts = pc.utf8_trim_whitespace(keys).to_pylist()  # (what pandas' str.strip does)
    cells = counts.to_numpy(zero_copy_only=False).tolist()
    top = texts[int(np.argmax(cells))]  # (idxmax: the first most frequent)
    summed: dict[str, int] = {}
    for text, count in zip(texts, cells, strict=True):
        if text == "" or (
            text.casefold() in MISSING_TOKENS and not (text == top and text.isalpha())
        ):
            continue
        summed[text] = summed.get(text, 0) + int(count)
    return pd.Series(
        list(summed.values()), index=pd.Index(list(summed), dtype="str"), dtype="int64"
    )


# the loose shape a column's values must have before a column-name cue alone is reported
_LOOSE_SHAPE: dict[str, str] = {
    "email": r"@",
    "phone": r"(?:\d\D?){7}",
    "payment_card": r"(?:\d\D?){12}",
    "ssn": r"(?:\d\D?){9}",
    "iban": r"^[A-Za-z]{2}\d\d(?: ?[A-Za-z0-9]){11}",
    "ip_address": r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]",
}


# kinds whose shape many ordinary numbers have, told apart by a checksum or a range
_CHECKSUM_KINDS = frozenset({"payment_card", "ip_address"})
# how a value of a kind is written, for a column whose name names the kind
_CUE_SHAPE: dict[str, str] = {
    "phone": r"(?:\+|00)?[\d\s().\-/]{7,24}(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?",
    "payment_card": r"\d(?:[ -]?\d){12,18}",
    "ssn": r"\d{3}([- ]?)\d{2}\1\d{4}",
}
_CUE_DIGITS: dict[str, tuple[int, int]] = {
    "phone": (7, 15),
    "payment_card": (13, 19),
    "ssn": (9, 9),
}


def _cue_shaped(texts: pd.Series, kind: str) -> np.ndarray:
    """Which of ``texts`` are written like a value of ``kind`` (the digit count included)."""
    shaped = texts.str.fullmatch(_CUE_SHAPE[kind]).to_numpy(dtype=bool).copy()
    core = texts.str.replace(r"\s*(?:x|ext\.?|#)\s*\d{1,6}$", "", regex=True)
    digits = core.str.count(r"\d").to_numpy()
    low, high = _CUE_DIGITS[kind]
    shaped &= (digits >= low) & (digits <= high)
    if kind == "phone":
        shaped &= ~texts.str.fullmatch(_DATE_LIKE.pattern).to_numpy(dtype=bool)
    return shaped


def _level(share: float, matched: int, cue: str | None) -> tuple[str, str] | None:
    if matched == 0:
        return ("low", "name") if cue else None
    if cue:
        return ("high" if share >= 0.3 else "medium"), "name+value"
    if share >= 0.8:
        return "high", "value"
    if share >= 0.3:
        return "medium", "value"
    return "low", "value"


def _arrow_texts(texts: pd.Series) -> Any:
    """``texts`` as one Arrow array, for RE2 pre-filters (``None`` if it cannot be one)."""
    import pyarrow as pa

    try:
        return pa.array(texts.tolist(), type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _contains(arrow: Any, texts: pd.Series, pattern: str) -> np.ndarray:
    """Which of ``texts`` contain a match of ``pattern``: one vectorised RE2 pass over the
    Arrow array (pandas' string methods re-parse the pattern on every call, which costs more
    than the match on a few hundred values), Python's ``re`` where RE2 cannot."""
    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    if arrow is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            found = pc.match_substring_regex(arrow, pattern)
            return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
        except pa.ArrowInvalid:
            pass
    return texts.str.contains(pattern, regex=True).to_numpy(dtype=bool)


def _scan_validated(
    column: str,
    values: pd.Series,
    checked: int,
    regions: Sequence[str],
) -> list[PIIFinding]:
    found: list[PIIFinding] = []
    texts = pd.Series(values.index, dtype=object)
    counts = values.to_numpy()
    arrow = _arrow_texts(texts)
    for kind, (prefilter, finder) in _VALIDATED.items():
        cue = name_cue(column, kind)
        pattern = prefilter
        if cue and kind in _CUE_PREFILTER:
            pattern = f"{prefilter}|{_CUE_PREFILTER[kind]}"
        mask = _contains(arrow, texts, pattern)
        matched = whole = 0
        for i in np.flatnonzero(mask):
            text = texts.iat[i]
            spans = finder(text, cue is not None, regions)
            if spans:
                matched += int(counts[i])
                if any(s == 0 and e == len(text) for s, e in spans):
                    whole += int(counts[i])
        candidates = int(counts[mask].sum()) if len(texts) else 0
        checksum_fails = kind in _CHECKSUM_KINDS and matched < 0.5 * candidates
        if cue is None and candidates >= 10 and checksum_fails:
            # digit runs of a card's length of which about one in ten passes the Luhn check,
            # dotted numbers of which some fit IPv4: random numbers, order ids, EAN codes,
            # version strings, not cards or addresses
            continue
        if matched == 0 and cue is not None and len(texts):
            loose = texts.str.contains(_LOOSE_SHAPE[kind], regex=True).to_numpy(dtype=bool)
            if counts[loose].sum() < 0.5 * checked:
                continue  # the name says so, but the values look like something else
        share = matched / checked if checked else 0.0
        if cue and share < 0.3 and kind in _CUE_SHAPE and len(texts):
            shaped = _cue_shaped(texts, kind)
            shaped_count = int(counts[shaped].sum())
            if shaped_count >= 0.8 * checked:
                # the name says so and the values are written like one, though the exact
                # validator refuses most (a phone number of another region, a local number
                # without its area code, a card number whose last digits a float rounded)
                found.append(
                    PIIFinding(
                        column,
                        kind,
                        shaped_count / checked,
                        shaped_count,
                        checked,
                        "name+value",
                        "medium",
                        False,
                        f"the column name suggests {KIND_LABELS[kind]} and {shaped_count:,} "
                        "cells are written like one (not all valid)",
                    )
                )
                continue
        level = _level(share, matched, cue)
        if level is None:
            continue
        confidence, evidence = level
        embedded = matched > 0 and whole < matched / 2
        label = KIND_LABELS[kind]
        if matched == 0:
            reason = f"the column name suggests {label} but no value is one"
        elif cue:
            reason = f"the column name suggests {label} and {matched:,} cells hold a valid one"
        elif embedded:
            reason = f"{matched:,} cells contain {label} inside longer text"
        else:
            reason = f"{matched:,} cells hold valid {label}"
        found.append(
            PIIFinding(
                column, kind, share, matched, checked, evidence, confidence, embedded, reason
            )
        )
    return found


def _scan_person_name(column: str, values: pd.Series, checked: int) -> PIIFinding | None:
    """Person names: a column-name cue backed by the value shape, or, without a cue, titles
    (``Mr.``, ``Mrs.`` ...) or common given names in most cells.

    * a strong cue (``first_name``, ``surname`` ...): name-shaped values suffice;
    * a weak cue (``name``, ``customer``, ``assigned_to`` ...): two or more name tokens in
      most cells and a common given or family name in a good share of them (a ``name``
      column of products, companies or places has few);
    * no cue: a title in most cells, or two to five name tokens with a common given name in
      most cells (``devin_rivera_borrego``, ``WILLIAMS, Henry``).
    """
    cue = name_cue(column, "person_name")
    texts = pd.Series(values.index, dtype=object)
    counts = values.to_numpy()
    distinct = len(texts)
    varied = distinct >= 50 or distinct >= 0.2 * checked
    honor = texts.str.contains(_HONORIFIC, regex=True).to_numpy(dtype=bool)
    honor_share = float(counts[honor].sum()) / checked
    tokens = name_tokens(column)
    if cue is None:
        if honor_share >= 0.5 and varied:
            confidence = "high" if honor_share >= 0.8 else "medium"
            matched = int(counts[honor].sum())
            return PIIFinding(
                column,
                "person_name",
                honor_share,
                matched,
                checked,
                "value",
                confidence,
                False,
                f"{matched:,} cells are names with a title (Mr., Mrs., Dr. ...)",
            )
        if not varied or distinct < 20:
            return None
        known = _known_names(texts, min_tokens=2, max_tokens=5)
        matched = int(counts[known].sum())
        share = matched / checked
        if share < 0.6:
            return None
        return PIIFinding(
            column,
            "person_name",
            share,
            matched,
            checked,
            "value",
            "high" if share >= 0.8 else "medium",
            False,
            f"{matched:,} cells are names with a common given name",
        )
    single = cue == "strong" or tokens[:1] in (["first"], ["last"], ["given"], ["family"])
    min_tokens = 1 if single else 2
    shaped = np.fromiter(
        (looks_like_person_name(t, min_tokens=min_tokens) for t in texts),
        dtype=bool,
        count=distinct,
    )
    matched = int(counts[shaped].sum())
    share = matched / checked
    if cue == "strong":
        confidence = "high" if share >= 0.5 else "medium"
    else:
        known = _known_names(texts, min_tokens=min_tokens, max_tokens=8) & shaped
        known_share = float(counts[known].sum()) / checked
        if share >= 0.6 and known_share >= 0.4 and varied:
            confidence = "high"
        elif share >= 0.3 and known_share >= 0.25 and varied:
            confidence = "medium"
        else:
            return None
    return PIIFinding(
        column,
        "person_name",
        share,
        matched,
        checked,
        "name+value",
        confidence,
        False,
        f"the column name suggests person names and {matched:,} cells are shaped like one",
    )


def _known_names(texts: pd.Series, *, min_tokens: int, max_tokens: int) -> np.ndarray:
    """Which of ``texts`` are name-shaped and hold a common given (or family) name."""
    return np.fromiter(
        (
            looks_like_person_name(t, min_tokens=min_tokens, max_tokens=max_tokens)
            and has_known_name(t, single=min_tokens == 1)
            for t in texts
        ),
        dtype=bool,
        count=len(texts),
    )


def _scan_birth_date(column: str, series: pd.Series) -> PIIFinding | None:
    """Dates of birth: a column named so (``dob``, ``birth_date`` ...) holding dates."""
    if name_cue(column, "date_of_birth") is None:
        return None
    values = series.dropna()
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        checked = matched = len(values)
    else:
        texts = values.astype(str).str.strip()
        texts = texts[texts != ""]
        checked = len(texts)
        matched = int(texts.str.fullmatch(_BIRTH_DATE).sum())
    if checked == 0 or matched < 0.5 * checked:
        return None
    share = matched / checked
    return PIIFinding(
        column,
        "date_of_birth",
        share,
        matched,
        checked,
        "name+value",
        "high" if share >= 0.8 else "medium",
        False,
        f"the column name suggests dates of birth and {matched:,} cells are dates",
    )


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_BIRTH_DATE = re.compile(
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})"
    rf"|\d{{1,2}}\s+{_MONTH}\s+\d{{2,4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{8}})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
    re.IGNORECASE,
)


def _scan_address(column: str, values: pd.Series, checked: int) -> PIIFinding | None:
    cue = name_cue(column, "street_address")
    texts = pd.Series(values.index, dtype=object)
    counts = values.to_numpy()
    shaped = texts.str.contains(_ADDRESS_SHAPE, regex=True).to_numpy(dtype=bool)
    matched = int(counts[shaped].sum())
    share = matched / checked
    distinct = len(texts)
    varied = distinct >= 50 or distinct >= 0.2 * checked
    if cue and varied:
        # free text with a number and a word in most cells: what addresses look like
        wordy = texts.str.contains(r"\d.*[^\W\d_]{2,}|[^\W\d_]{2,}.*\d", regex=True)
        wordy_share = float(counts[wordy.to_numpy(dtype=bool)].sum()) / checked
        if share >= 0.2:
            confidence = "high"
        elif wordy_share >= 0.5:
            confidence = "medium"
        else:
            return None
        return PIIFinding(
            column,
            "street_address",
            share,
            matched,
            checked,
            "name+value" if matched else "name",
            confidence,
            False,
            f"the column name suggests addresses and {matched:,} cells are shaped like one",
        )
    if share >= 0.5 and varied:
        return PIIFinding(
            column,
            "street_address",
            share,
            matched,
            checked,
            "value",
            "high" if share >= 0.8 else "medium",
            False,
            f"{matched:,} cells are shaped like a street address (house number, street type)",
        )
    return None


# numbers no kind can be without a column-name cue: up to twelve digits (a card has 13 or
# more; digit-only phone and SSN numbers need the cue), any decimals; a ``+`` or ``00`` in
# front of seven or more digits may be an international phone number
_SHORT_NUMBER = (
    r"^(?:[+-]?\d{1,6}(?:\.\d*)?|[+-]?\.\d+|-?(?:[1-9]\d{0,11}|0[1-9]\d{0,10}|0)(?:\.\d*)?)"
    r"(?:[eE][-+]?\d{1,3})?$"
)


def _short_numbers_only(column: str, series: pd.Series) -> bool:
    """A column whose name suggests no PII kind and whose cells are all numbers of at most
    twelve digits before the point (any decimals; no ``+`` or ``00`` in front of a long one):
    no detector can match it without a cue (a card number has 13 digits or more, digit-only
    phone and SSN numbers need the cue), so it is not scanned."""
    return bool(_short_numbers_columns([column], [series])[0])


@functools.lru_cache(maxsize=65_536)
def _any_cue(column: str) -> bool:
    """Whether the name suggests any kind (asked once per name, not once per kind)."""
    return any(name_cue(column, kind) for kind in KIND_LABELS)


def _short_numbers_columns(columns: Sequence[str], series: Sequence[Any]) -> list[bool]:
    """:func:`_short_numbers_only` of many columns at once (``series``: the columns, or
    their arrays: a wide frame's columns are taken with no Series each).

    A numeric dtype: the magnitudes, per column. Text: the trimmed non-empty cells of every
    text column are concatenated and matched by one RE2 call (compiling the pattern costs
    more than matching a 1,000-row column), then counted per column."""
    out = [False] * len(columns)
    texts: list[tuple[int, Any]] = []
    for j, (column, values) in enumerate(zip(columns, series, strict=True)):
        if _any_cue(column):
            continue
        dtype = values.dtype
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            vals = pd.Series(values, copy=False).to_numpy(dtype="float64", na_value=np.nan)
            vals = vals[np.isfinite(vals)]
            # without a cue only a whole number of 13 digits or more (a card) can be PII
            out[j] = not bool(((np.abs(vals) >= 1e12) & np.equal(np.floor(vals), vals)).any())
            continue
        if not (pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)):
            continue
        import pyarrow as pa

        try:
            arr = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        texts.append((j, arr))
    if not texts:
        return out
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [a if a.type == pa.large_string() else a.cast(pa.large_string()) for _, a in texts]
    # batches of about a million cells bound the memory of the concatenation
    first = 0
    while first < len(arrays):
        last, size = first, 0
        while last < len(arrays) and (last == first or size + len(arrays[last]) <= 1_000_000):
            size += len(arrays[last])
            last += 1
        batch = arrays[first:last]
        owner = np.repeat(np.arange(len(batch)), [len(a) for a in batch])
        # the chunks of every column, copied once
        chunks = [c for a in batch for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
        cells = pa.concat_arrays(chunks) if chunks else pa.array([], type=pa.large_string())
        # cells of one to six ASCII digits and at most one point (nothing else, so trimming
        # leaves them alone) match the pattern: found by counting bytes in one pass; only the
        # other cells are trimmed and matched (most cells of a numeric table are such)
        quick = _plain_short_cells(cells)
        rest = ~quick
        if cells.null_count:
            rest &= np.asarray(pc.is_valid(cells).to_numpy(zero_copy_only=False), dtype=bool)
        n_cells = np.bincount(owner[quick], minlength=len(batch))
        n_short = n_cells.copy()
        if rest.any():
            owner = owner[rest]
            cells = pc.utf8_trim_whitespace(cells.filter(pa.array(rest)))
            filled = np.asarray(pc.not_equal(cells, "").to_numpy(zero_copy_only=False), dtype=bool)
            cells, owner = cells.filter(pa.array(filled)), owner[filled]
            short_np = _short_number_cells(cells)
            n_cells += np.bincount(owner, minlength=len(batch))
            n_short += np.bincount(owner[short_np], minlength=len(batch))
        for k in range(len(batch)):
            out[texts[first + k][0]] = bool(n_cells[k] > 0 and n_short[k] == n_cells[k])
        first = last
    return out


def _plain_short_cells(cells: Any) -> np.ndarray:
    """Which of ``cells`` (untrimmed; null is never) are one to six ASCII digits with at most
    one point among them and nothing else: cells that match ``_SHORT_NUMBER`` as they are
    (:func:`_short_number_cells` finds the same ones among trimmed cells)."""
    from apprentice.clean.text_arrays import DIGITS, ByteView

    view = ByteView(cells)
    digits, points = view.count2(DIGITS, ".")
    return np.asarray(
        (digits + points == view.lengths()) & (points <= 1) & (digits >= 1) & (digits <= 6),
        dtype=bool,
    )


def _short_number_cells(cells: Any) -> np.ndarray:
    """Which of ``cells`` (trimmed, non-empty, no nulls) match ``_SHORT_NUMBER``.

    Digits alone, or digits around one point, with six digits at most, match it whatever
    their order (``12``, ``4.25``, ``.5``, ``7.``): they are found by three string kernels,
    and only the other cells go through the regex (most cells of a numeric table are such)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # without its first point, the cell is one to six ASCII digits
    undotted = pc.replace_substring(cells, pattern=".", replacement="", max_replacements=1)
    size = np.asarray(pc.binary_length(undotted).to_numpy(zero_copy_only=False))
    plain = np.asarray(pc.ascii_is_decimal(undotted).to_numpy(zero_copy_only=False), dtype=bool)
    plain &= (size >= 1) & (size <= 6)
    if plain.all():
        return plain
    rest = np.flatnonzero(~plain)
    matched = pc.match_substring_regex(cells.take(pa.array(rest)), _SHORT_NUMBER)
    out = plain.copy()
    out[rest] = np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)
    return out


def detect_pii(
    frame: pd.DataFrame,
    *,
    sample: int | None = DEFAULT_SAMPLE,
    columns: Iterable[str] | None = None,
    phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
    seed: int = 0,
) -> PIIReport:
    """Find PII in ``frame``'s column names and values.

    ``sample`` rows (all rows when ``None`` or when the frame is smaller) are scanned; shares
    are over the non-empty cells of the sample. ``phone_regions`` are the regions in which
    numbers without a ``+`` country code are tried. Float, boolean and datetime columns hold
    no PII a detector could recognise and are checked by name only.
    """
    total = len(frame)
    scanned = frame
    if sample is not None and total > sample:
        scanned = frame.sample(n=sample, random_state=seed)
    names = [str(c) for c in frame.columns] if columns is None else [str(c) for c in columns]
    report = PIIReport(rows_scanned=len(scanned), rows_total=total, columns_scanned=names)
    wanted = set(names)
    # the columns' arrays once, with no Series (a Series per column costs more than the
    # short-number check of a plain column on a wide frame); a Series only where scanned
    from apprentice.clean.text_arrays import column_arrays

    arrays = column_arrays(scanned)
    positions = [p for p, c in enumerate(frame.columns) if str(c) in wanted]
    short_numbers = dict(
        zip(
            positions,
            _short_numbers_columns(
                [str(frame.columns[p]) for p in positions], [arrays[p] for p in positions]
            ),
            strict=True,
        )
    )
    for position, column in enumerate(frame.columns):
        if str(column) not in wanted:
            continue
        if name_cue(str(column), "date_of_birth") is not None:
            birth = _scan_birth_date(str(column), scanned.iloc[:, position])
            if birth is not None:
                report.findings.append(birth)
                continue  # a column of dates holds no other kind
        if short_numbers[position]:
            continue  # short numbers hold no kind looked for, and the name suggests none
        values = _column_values(scanned.iloc[:, position])
        checked = int(values.sum())
        if checked == 0:
            continue  # nothing to protect in an empty column
        report.findings.extend(_scan_validated(str(column), values, checked, phone_regions))
        shapes = values
        if len(values) > MAX_DISTINCT:
            # the shape scans (a Python test per value) run on a random subset of the distinct
            # values, their shares weighted by cell counts: a bounded cost per column. The
            # validated kinds are pre-filtered by one vectorised match and see every value.
            shapes = values.sample(n=MAX_DISTINCT, random_state=seed)
        for scan in (_scan_person_name, _scan_address):
            finding = scan(str(column), shapes, int(shapes.sum()))
            if finding is not None:
                report.findings.append(finding)
    return report
