"""The log's protection of a row: the inline fast cases give what the general rule gives."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.serve.privacy import LogProtector, _plain
from tests.test_pii_canary import CANARIES

MANIFEST = {
    "input_columns": ["a", "b", "email", "c"],
    "feature_columns": ["a", "b", "c"],
    "excluded_columns": {"email": "PII: email"},
}
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from([CANARIES["email"], f"call {CANARIES['phone']}", "", "plain words"]),
    st.integers(),
    st.booleans(),
    st.none(),
)


def _reference(protector: LogProtector, row: dict[str, Any], raw: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if raw and name not in protector.known:
            continue
        if name in protector.pii:
            out[name] = protector.pseudonym(value)
        elif raw and type(value) is str:
            out[name] = protector.scrub(value)
        else:
            plain = _plain(value)
            out[name] = protector.scrub(plain) if type(plain) is str else plain
    return out


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return list(a) == list(b) and all(
        type(a[k]) is type(b[k])
        and (a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])))
        for k in a
    )


@settings(max_examples=200, deadline=None)
@given(row=st.dictionaries(st.sampled_from(["a", "b", "email", "c", "zz"]), VALUES))
def test_protection_fast_cases_match_the_rule(row: dict[str, Any]) -> None:
    protector = LogProtector(MANIFEST, b"k" * 32)
    for _ in range(2):  # the second time from the memo
        assert _same(protector.raw(row), _reference(protector, row, raw=True))
        assert _same(protector.features(row), _reference(protector, row, raw=False))
    email = row.get("email")
    if isinstance(email, str) and email.strip():  # a PII column: a pseudonym, never the value
        assert protector.raw(row)["email"] != email and len(protector.raw(row)["email"]) == 16
    for value in (*protector.raw(row).values(), *protector.features(row).values()):
        assert value != CANARIES["email"]
