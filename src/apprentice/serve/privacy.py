"""What of a request may reach the prediction log: PII columns pseudonymised, PII in text masked.

The bundle's manifest says which input columns the guard stage excluded as PII; their values
are replaced by keyed pseudonyms (HMAC-SHA256 with the workspace key, the same pseudonyms
:func:`apprentice.guard.pseudonymise` gives), so they still join but cannot be read. In every
other text value, validated PII (emails, phone and card numbers, SSNs, IBANs, IP addresses) is
masked with :func:`apprentice.guard.scrub_text`. Fields that are not columns of the training
file are dropped. Work is memoised per distinct value (bounded), and runs on the log writer's
thread, never on the request path.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

_CACHE_LIMIT = 100_000
PSEUDONYM_LENGTH = 16


def pii_columns(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Input columns the guard excluded as PII -> their kind (from the manifest's reasons)."""
    out: dict[str, str] = {}
    excluded = manifest.get("excluded_columns") or {}
    if isinstance(excluded, Mapping):
        for column, reason in excluded.items():
            text = str(reason)
            if text.startswith("PII"):
                kind = text.split(":", 1)[1].split(",", 1)[0].strip() if ":" in text else "pii"
                out[str(column)] = kind or "pii"
    for column in manifest.get("pseudonymised_columns") or []:
        out.setdefault(str(column), "identifier")
    return out


def _plain(value: Any) -> Any:
    """A JSON-ready scalar (NaN and NaT become ``None``)."""
    if value is None:
        return None
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return None if value != value or value in (math.inf, -math.inf) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        import numpy as np
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
        if isinstance(value, pd.Timedelta):
            return value.total_seconds()
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return _plain(float(value))
    except ImportError:  # pragma: no cover - numpy and pandas ship with apprentice
        pass
    return str(value)


class LogProtector:
    """Turns raw request fields and typed features into what the log may keep."""

    def __init__(self, manifest: Mapping[str, Any], key: bytes | None) -> None:
        self.pii = pii_columns(manifest)
        self.key = key
        self.known = {str(c) for c in manifest.get("input_columns") or []}
        self.known |= {str(c) for c in manifest.get("feature_columns") or []}
        self._scrubbed: dict[str, str] = {}
        self._pseudonyms: dict[str, str] = {}

    def pseudonym(self, value: Any) -> str | None:
        if value is None or (isinstance(value, float) and value != value):
            return None
        text = str(value).strip()
        out = self._pseudonyms.get(text)
        if out is None:
            if self.key is None:
                out = "[pii removed]"
            else:
                digest = hmac.new(self.key, text.encode("utf-8"), hashlib.sha256)
                out = digest.hexdigest()[:PSEUDONYM_LENGTH]
            if len(self._pseudonyms) >= _CACHE_LIMIT:
                self._pseudonyms.clear()
            self._pseudonyms[text] = out
        return out

    def scrub(self, text: str) -> str:
        out = self._scrubbed.get(text)
        if out is None:
            from apprentice.guard import scrub_text

            out = scrub_text(text) if len(text) >= 6 else text
            if len(self._scrubbed) >= _CACHE_LIMIT:
                self._scrubbed.clear()
            self._scrubbed[text] = out
        return out

    def raw(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A raw request record as the log keeps it."""
        out: dict[str, Any] = {}
        known = self.known
        pii = self.pii
        scrubbed = self._scrubbed.get
        for name, value in record.items():
            if known and name not in known:
                continue  # not a column of the training file: never logged
            if name in pii:
                out[name] = self.pseudonym(value)
            elif type(value) is str:
                text = scrubbed(value)  # the memo of scrub(), looked up inline
                out[name] = text if text is not None else self.scrub(value)
            else:
                out[name] = _plain(value)
        return out

    def features(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        """The typed values the models saw, as the log keeps them."""
        out: dict[str, Any] = {}
        pii = self.pii
        scrubbed = self._scrubbed.get
        for name, value in typed.items():
            if name in pii:
                out[name] = self.pseudonym(value)
                continue
            kind = type(value)
            if kind is float:  # the common cases of _plain, inline
                out[name] = value if value - value == 0.0 else None  # NaN and inf: None
                continue
            plain = value if kind is str else _plain(value)
            if type(plain) is str:
                text = scrubbed(plain)
                out[name] = text if text is not None else self.scrub(plain)
            else:
                out[name] = plain
        return out
