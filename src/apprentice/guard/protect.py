"""PII protection: exclusion from features, keyed pseudonyms, masked displays.

* :func:`protection_plan` turns a :class:`~apprentice.guard.pii.PIIReport` into decisions:
  PII columns are excluded from model features by default; columns the user must keep (join
  keys, contact identifiers) are pseudonymised instead; every flagged column (low confidence
  included) has its examples redacted from the ledger and is masked in displays.
* :func:`pseudonymise` replaces values with a keyed HMAC-SHA256 (truncated hex): stable for
  one key, so joins and group splits still work, and not reversible without the key.
* :func:`workspace_key` gives that key: ``APPRENTICE_PSEUDONYM_KEY`` when set, otherwise a
  random key generated once per workspace and kept in ``<workspace>/keys/pseudonym.key``
  (mode 0600). The key is never written next to a data file.
* :func:`mask_value`, :func:`mask_frame` and :func:`scrub_text` are for anything shown to a
  person (CLI tables, reports, error messages): ``j***@e***.com``, ``***-**-6789``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from apprentice.config import Settings, get_settings
from apprentice.errors import ConfigError
from apprentice.guard.pii import (
    CONFIDENCE_ORDER,
    PIIReport,
    classify_value,
    find_pii_spans,
    looks_like_person_name,
    looks_like_street_address,
)

KEY_ENV = "APPRENTICE_PSEUDONYM_KEY"
KEY_FILE = Path("keys") / "pseudonym.key"
_MIN_KEY_BYTES = 16

# ---------------------------------------------------------------------------------------------
# key management


def key_path(settings: Settings | None = None) -> Path:
    """Where the workspace's pseudonymisation key lives (whether or not it exists yet)."""
    settings = settings or get_settings()
    return Path(settings.workspace) / KEY_FILE


def _key_from_env(raw: str) -> bytes:
    text = raw.strip()
    if re.fullmatch(r"(?:[0-9a-fA-F]{2}){16,}", text):
        key = bytes.fromhex(text)
    else:
        key = text.encode("utf-8")
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigError(
            f"{KEY_ENV} is too short ({len(key)} bytes); use at least {_MIN_KEY_BYTES} random "
            'bytes, e.g. the output of: python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return key


def _check_not_next_to(path: Path, data_path: str | Path | None) -> None:
    if data_path is None:
        return
    data_dir = Path(data_path).expanduser().resolve().parent
    if path.expanduser().resolve().parent == data_dir:
        raise ConfigError(
            f"the pseudonymisation key would be written next to the data in {data_dir}; "
            "set a workspace elsewhere (APPRENTICE_WORKSPACE) or give the key in "
            f"{KEY_ENV}"
        )


def workspace_key(
    settings: Settings | None = None, *, data_path: str | Path | None = None
) -> bytes:
    """The pseudonymisation key: ``APPRENTICE_PSEUDONYM_KEY``, or the workspace's key file.

    The key file is created on first use with 32 random bytes (``secrets.token_bytes``) and
    mode 0600 in ``<workspace>/keys/`` (mode 0700, with a ``.gitignore`` that ignores all);
    later calls read it back, so pseudonyms stay stable within a workspace. ``data_path``,
    when given, is the data file being protected: a key that would land in the same folder is
    refused. A key file readable by others is refused too.
    """
    raw = os.environ.get(KEY_ENV)
    if raw:
        return _key_from_env(raw)
    path = key_path(settings)
    _check_not_next_to(path, data_path)
    if path.exists():
        return _read_key_file(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours to change: leave it
        os.chmod(folder, 0o700)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return key


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the pseudonymisation key {path} is readable by other users; run: chmod 600 {path}"
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(
            f"the pseudonymisation key file {path} is damaged (not hex); restore it from a "
            "backup, or delete it to start new pseudonyms (old ones will no longer match)"
        ) from None
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigError(
            f"the pseudonymisation key in {path} is too short; restore it from a backup, or "
            "delete it to start new pseudonyms (old ones will no longer match)"
        )
    return key


# ---------------------------------------------------------------------------------------------
# pseudonyms


def pseudonymise(series: pd.Series, key: bytes, *, length: int = 16) -> pd.Series:
    """Each value replaced by ``HMAC-SHA256(key, text)`` as ``length`` hex characters.

    Equal values get equal pseudonyms (for one key); missing values stay missing. The text of
    a value is ``str(value)`` stripped of surrounding whitespace.
    """
    if not key:
        raise ConfigError("the pseudonymisation key is empty; see apprentice.guard.workspace_key")
    if not 8 <= length <= 64:
        raise ConfigError(f"pseudonym length {length} is out of range; use 8 to 64 hex characters")
    present = series.notna()
    values = series[present].astype("object")  # categoricals: map the cells, not the categories
    uniques = pd.unique(values.map(lambda v: str(v).strip()))
    table = {
        u: hmac.new(key, u.encode("utf-8"), hashlib.sha256).hexdigest()[:length] for u in uniques
    }
    out = pd.Series(pd.NA, index=series.index, dtype="str", name=series.name)
    out[present] = values.map(lambda v: table[str(v).strip()]).astype("str")
    return out


# ---------------------------------------------------------------------------------------------
# masks for displays


def _mask_word(word: str) -> str:
    return word[:1] + "***" if word else word


def _keep_last_digits(text: str, keep: int) -> str:
    total = sum(ch.isdigit() for ch in text)
    seen = 0
    out = []
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_value(value: object, kind: str | None = None) -> str:
    """A display form of a (possibly) PII value that does not reveal it.

    ``kind`` is a PII kind (see :data:`~apprentice.guard.pii.PII_KINDS`); when ``None`` the
    value is classified first, and anything unrecognised keeps only its first character.
    Examples: ``j***@e***.com``, ``***-**-6789``, ``**** **** **** 1111``,
    ``+** ** ****-**58`` (phone: last two digits), ``DE** … 00``, ``192.*.*.*``,
    ``O*** H***`` (names and addresses: initials).
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if kind is None:
        kind = classify_value(text)
    if kind == "email" and "@" in text:
        local, domain = text.rsplit("@", 1)
        labels = domain.split(".")
        if len(labels) > 1:
            return f"{_mask_word(local)}@{_mask_word(labels[0])}.{labels[-1]}"
        return f"{_mask_word(local)}@***"
    if kind == "ssn":
        digits = re.sub(r"\D", "", text)
        return "***-**-" + digits[-4:] if len(digits) >= 4 else "***-**-****"
    if kind == "payment_card":
        digits = re.sub(r"\D", "", text)
        return "**** **** **** " + digits[-4:] if len(digits) >= 4 else "****"
    if kind == "phone":
        return _keep_last_digits(text, 2)
    if kind == "iban":
        compact = re.sub(r"\s", "", text)
        return compact[:2] + "** **** **** " + compact[-2:] if len(compact) > 6 else "****"
    if kind == "ip_address":
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return _mask_word(text)
        if addr.version == 4:
            return text.split(".", 1)[0] + ".*.*.*"
        return text.split(":", 1)[0] + ":****:****"
    if kind == "date_of_birth":
        return re.sub(r"\d", "*", text)
    if kind in ("person_name", "street_address"):
        tokens = re.findall(r"[^\W\d_]+|\d+|[^\w\s]", text)
        out = []
        for tok in tokens:
            if tok.isdigit():
                out.append("*" * min(len(tok), 3))
            elif tok[:1].isalpha():
                out.append(_mask_word(tok))
            else:
                out.append(tok)
        return re.sub(r" ([,.)])", r"\1", " ".join(out))
    return _mask_word(text) if len(text) > 2 else "**"


def scrub_text(text: str) -> str:
    """``text`` with every validated PII value in it masked (for messages and free text)."""
    if not text:
        return text
    spans = find_pii_spans(text)
    if not spans:
        return text
    out = []
    last = 0
    for start, end, kind in spans:
        out.append(text[last:start])
        out.append(mask_value(text[start:end], kind))
        last = end
    out.append(text[last:])
    return "".join(out)


def safe_display(text: str, *, limit: int | None = None) -> str:
    """A value from a column not known to be PII, made safe to show in a message.

    Validated PII inside it is masked (:func:`scrub_text`); a value shaped like a person's
    name (two or more capitalised name tokens) or a street address is masked whole, since
    those cannot be told apart from ordinary text by a validator. ``limit`` truncates the
    result (after masking, so a cut never leaves a recognisable fragment unmasked).
    """
    out = scrub_text(text)
    if out == text:
        capitalised = sum(t[:1].isupper() for t in re.findall(r"[^\W\d_]+", text))
        if capitalised >= 2 and looks_like_person_name(text, min_tokens=2):
            out = mask_value(text, "person_name")
        elif looks_like_street_address(text):
            out = mask_value(text, "street_address")
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 3, 1)] + "..."
    return out


def mask_series(series: pd.Series, kind: str | None) -> pd.Series:
    """A column for display: each value masked (``kind=None``: PII inside text scrubbed)."""
    present = series.notna()
    out = pd.Series(pd.NA, index=series.index, dtype="str", name=series.name)
    if not present.any():
        return out
    values = series[present].astype("object")  # categoricals: map the cells, not the categories
    uniques = pd.unique(values.map(str))
    if kind is None:
        table = {u: scrub_text(u) for u in uniques}
    else:
        table = {u: mask_value(u, kind) for u in uniques}
    out[present] = values.map(lambda v: table[str(v)]).astype("str")
    return out


def mask_frame(
    frame: pd.DataFrame, pii: PIIReport | ProtectionPlan | Mapping[str, str | None]
) -> pd.DataFrame:
    """A copy of ``frame`` safe to show: PII columns masked, PII inside flagged text scrubbed.

    ``pii`` is a report, a plan, or a mapping column -> kind (``None``: scrub free text).
    Columns of a low-confidence finding that sits inside free text are scrubbed, other
    flagged columns are masked cell by cell.
    """
    if isinstance(pii, ProtectionPlan):
        kinds: Mapping[str, str | None] = pii.masked
    elif isinstance(pii, PIIReport):
        kinds = _display_kinds(pii)
    else:
        kinds = pii
    out = frame.copy()
    for position, column in enumerate(frame.columns):
        if str(column) in kinds:
            out.isetitem(position, mask_series(frame.iloc[:, position], kinds[str(column)]))
    return out


def _display_kinds(report: PIIReport) -> dict[str, str | None]:
    kinds: dict[str, str | None] = {}
    pii_columns = report.pii_columns
    for column in report.flagged_columns:
        if column in pii_columns:
            finding = next(f for f in report.for_column(column) if f.kind == pii_columns[column])
            kinds[column] = None if finding.embedded else finding.kind
        else:
            kinds[column] = None
    return kinds


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass
class ProtectionPlan:
    """What to do with each PII column. Column names and kinds only, never values.

    ``excluded``: column -> reason, left out of model features. ``pseudonymised``: column ->
    kind, values replaced by keyed pseudonyms (and still not used as features).
    ``redacted``: every flagged column; its example values must not appear in a ledger.
    ``masked``: column -> kind for displays (``None``: scrub PII inside free text).
    ``allowed``: columns the user declared not PII (findings ignored).
    """

    excluded: dict[str, str] = field(default_factory=dict)
    pseudonymised: dict[str, str] = field(default_factory=dict)
    redacted: set[str] = field(default_factory=set)
    masked: dict[str, str | None] = field(default_factory=dict)
    allowed: list[str] = field(default_factory=list)

    @property
    def feature_exclusions(self) -> list[str]:
        """Every column that must not be a model feature (excluded or pseudonymised)."""
        return sorted(set(self.excluded) | set(self.pseudonymised))

    def to_dict(self) -> dict[str, Any]:
        return {
            "excluded_from_features": dict(sorted(self.excluded.items())),
            "pseudonymised": dict(sorted(self.pseudonymised.items())),
            "redacted": sorted(self.redacted),
            "masked": sorted(self.masked),
            "allowed": sorted(self.allowed),
        }

    def describe(self) -> list[str]:
        lines = [f"{c}: excluded from features ({r})" for c, r in sorted(self.excluded.items())]
        lines += [
            f"{c}: pseudonymised with the workspace key ({k}); not a feature"
            for c, k in sorted(self.pseudonymised.items())
        ]
        lines += [f"{c}: declared not PII by the user" for c in sorted(self.allowed)]
        return lines


def protection_plan(
    report: PIIReport,
    *,
    keep: Iterable[str] = (),
    allow: Iterable[str] = (),
    min_confidence: str = "medium",
) -> ProtectionPlan:
    """Decide, from ``report``, what happens to each PII column.

    Columns with a finding at ``min_confidence`` or above are excluded from model features,
    except those in ``keep``, which are pseudonymised (kept as stable, keyed identifiers); a
    ``keep`` column without a finding (an identifier such as a customer number) is
    pseudonymised too.
    Columns in ``allow`` are declared not PII: their findings are ignored entirely. Every other
    flagged column (lower confidence) is redacted from ledger examples and scrubbed in
    displays, but stays a feature.
    """
    if min_confidence not in CONFIDENCE_ORDER:
        raise ConfigError(
            f"min_confidence {min_confidence!r} is not one of {', '.join(CONFIDENCE_ORDER)}"
        )
    keep_set, allow_set = set(keep), set(allow)
    known = {str(c) for c in report.columns_scanned}
    for name, given in (("keep", keep_set), ("allow", allow_set)):
        unknown = sorted(given - known) if known else []
        if unknown:
            raise ConfigError(
                f"{name}: column(s) {', '.join(map(repr, unknown))} are not in the table; "
                f"choose among {', '.join(sorted(known))}"
            )
    threshold = CONFIDENCE_ORDER[min_confidence]
    plan = ProtectionPlan(allowed=sorted(allow_set & report.flagged_columns))
    display = _display_kinds(report)
    ranked = sorted(
        report.findings, key=lambda f: (-CONFIDENCE_ORDER[f.confidence], -f.share, f.kind)
    )
    for column in sorted(keep_set - allow_set - report.flagged_columns):
        plan.pseudonymised[column] = "identifier"  # kept by request, though not found PII
        plan.redacted.add(column)
    for finding in ranked:
        column = finding.column
        if column in allow_set:
            continue
        plan.redacted.add(column)
        plan.masked.setdefault(column, display.get(column))
        if CONFIDENCE_ORDER[finding.confidence] < threshold:
            continue
        if column in plan.excluded or column in plan.pseudonymised:
            continue
        if column in keep_set:
            plan.pseudonymised[column] = finding.kind
        else:
            plan.excluded[column] = (
                f"PII: {finding.kind}, {finding.confidence} confidence, "
                f"{finding.share:.0%} of checked cells"
            )
    return plan


def apply_protection(
    frame: pd.DataFrame, plan: ProtectionPlan, *, key: bytes | None = None
) -> pd.DataFrame:
    """A copy of ``frame`` with the plan's pseudonymised columns replaced by pseudonyms.

    Excluded columns stay in the table (they are the user's data); the caller leaves them out
    of the features with :attr:`ProtectionPlan.feature_exclusions`.
    """
    if not plan.pseudonymised:
        return frame.copy()
    if key is None:
        raise ConfigError("pseudonymising needs a key; pass key=workspace_key(settings)")
    out = frame.copy()
    for position, column in enumerate(frame.columns):
        if str(column) in plan.pseudonymised:
            out.isetitem(position, pseudonymise(frame.iloc[:, position], key))
    return out


# ---------------------------------------------------------------------------------------------
# PII values inside a column that stays a feature


def pii_free(value: object) -> object:
    """``value`` with no PII value in it: ``None`` when the whole value is one (an email,
    a phone number ...), the text with each one replaced by ``[kind]`` when it is embedded
    in longer text, ``value`` itself otherwise (also for anything that is not text)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    spans = find_pii_spans(text)
    if not spans:
        return value
    if any(start == 0 and end == len(text) for start, end, _ in spans):
        return None
    out, last = [], 0
    for start, end, kind in spans:
        out.append(text[last:start])
        out.append(f"[{kind}]")
        last = end
    out.append(text[last:])
    return "".join(out)


def _lookup(table: Mapping[Any, Any], value: Any) -> Any:
    return table.get(value, value) if isinstance(value, str) else value


def forget_pii_cells(frame: pd.DataFrame, columns: Iterable[str]) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` in which no cell of ``columns`` holds a PII value (see
    :func:`pii_free`: a whole value becomes missing, an embedded one a ``[kind]`` mark), and
    how many cells changed. For a column flagged with low confidence that stays a feature:
    what the model, its encoders and the bundle learn from it carries no PII value. The
    column's dtype is kept (a category column loses those categories)."""
    names = {str(c) for c in columns}
    out = frame.copy()
    changed = 0
    for position, column in enumerate(frame.columns):
        if str(column) not in names:
            continue
        series = frame.iloc[:, position]
        values = series.dropna().unique()
        table = {v: pii_free(v) for v in values if isinstance(v, str)}
        table = {v: w for v, w in table.items() if w != v}
        if not table:
            continue
        changed += int(series.isin(list(table)).sum())
        if isinstance(series.dtype, pd.CategoricalDtype):
            kept = series.cat.remove_categories([v for v, w in table.items() if w is None])
            renames = {v: w for v, w in table.items() if w is not None}
            fixed = kept.astype(object).map(functools.partial(_lookup, renames))
            fixed = fixed.astype(pd.CategoricalDtype(sorted(set(fixed.dropna()), key=str)))
        else:
            fixed = series.map(functools.partial(_lookup, table)).astype(series.dtype)
        out.isetitem(position, fixed)
    return out, changed


def scrub_recipe_values(recipe_json: str, columns: Iterable[str]) -> str:
    """The cleaning recipe JSON with no PII value left among the categories, markers and
    sentinels of ``columns`` (columns that stay features; those that do not are reduced to
    plain text by :func:`apprentice.clean.recipe.forget_values`)."""
    import json

    names = set(columns)
    if not names:
        return recipe_json
    document = json.loads(recipe_json)
    for column in document.get("columns", []):
        if column.get("name") not in names and column.get("source") not in names:
            continue
        for key in ("categories", "markers", "kept_markers", "sentinels"):
            values = column.get(key)
            if isinstance(values, list):
                column[key] = [v for v in values if not find_pii_spans(str(v))]
    return json.dumps(document, ensure_ascii=False)
