"""Request and response models generated from a bundle, and the hot path's own validator.

A record has one optional field per column of the training file (its raw name, as the
alias), each accepting what a messy file holds: text, a number, true/false or null; the
bundle's recipe cleans it exactly as in training. Unknown fields are rejected (or ignored
with ``unknown_fields="ignore"``).

:class:`RecordValidator` applies the same rules to parsed JSON without pydantic (the fast
path), with one message per field. No message ever repeats a submitted value; a field name
that is not a column of the training file is shown masked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

MAX_TEXT = 10_000
REQUEST_ID_PATTERN = r"^[0-9a-f]{32}(-[0-9]{1,9})?$"
_REQUEST_ID_RE = re.compile(REQUEST_ID_PATTERN)

FiniteFloat = Annotated[float, Strict(), AllowInfNan(False)]
Label = StrictBool | StrictInt | FiniteFloat | str


def cell_type(max_text: int) -> Any:
    """What one field accepts: text (up to ``max_text`` characters), a finite number,
    true/false or null."""
    return (
        StrictBool
        | StrictInt
        | FiniteFloat
        | Annotated[str, StringConstraints(max_length=max_text)]
    ) | None


def _describe(column: str, info: Mapping[str, Any] | None, excluded: str | None) -> str:
    if excluded == "the target":
        return (
            "The target of the training file: accepted and ignored (send the outcome to "
            "POST /feedback)."
        )
    if excluded is not None:
        return "A column of the training file the model does not use; accepted and ignored."
    if not info:
        return "A column of the training file: text, a number, true/false or null."
    kind = info.get("type", "value")
    text = f"{kind}"
    if info.get("categories"):
        cats = [str(c) for c in info["categories"]][:20]
        text += " (" + ", ".join(cats) + (", ..." if len(info["categories"]) > 20 else "") + ")"
    if info.get("minimum") is not None and info.get("maximum") is not None:
        text += f", seen from {info['minimum']} to {info['maximum']} in training"
    return (
        f"{text}. Raw values are accepted as in the training file (text is cleaned by the "
        "bundle's recipe); null or absent means missing."
    )


def _field_name(i: int) -> str:
    return f"f{i}"


class Models:
    """The pydantic models of one bundle."""

    def __init__(
        self,
        manifest: Mapping[str, Any],
        *,
        unknown_fields: str,
        max_records: int,
        max_text: int = MAX_TEXT,
    ):
        columns = [str(c) for c in manifest.get("input_columns") or []]
        if not columns:
            columns = [str(c) for c in manifest.get("feature_columns") or []]
        schema = manifest.get("schema") or {}
        info = {str(c.get("name")): c for c in schema.get("columns", []) if isinstance(c, Mapping)}
        excluded = {str(k): str(v) for k, v in (manifest.get("excluded_columns") or {}).items()}
        target = manifest.get("target")
        if target is not None and str(target) not in columns:
            columns = [*columns, str(target)]
            excluded[str(target)] = "the target"
        self.columns = columns
        fields: dict[str, Any] = {}
        cell = cell_type(max_text)
        for i, column in enumerate(columns):
            fields[_field_name(i)] = (
                cell,
                Field(
                    default=None,
                    alias=column,
                    description=_describe(column, info.get(column), excluded.get(column)),
                ),
            )
        extra: Literal["forbid", "ignore"] = "forbid" if unknown_fields == "reject" else "ignore"
        self.Record: type[BaseModel] = create_model(
            "Record",
            __config__=ConfigDict(
                extra=extra,
                validate_by_alias=True,
                validate_by_name=False,
                json_schema_extra={"minProperties": 1},
            ),
            __doc__="One row with the raw field names of the training file (a 422 when no "
            "column the model uses has a usable value).",
            **fields,
        )
        Records = Annotated[list[self.Record], Field(min_length=1, max_length=max_records)]  # type: ignore[name-defined]
        self.Body: Any = self.Record | Records

        task = manifest.get("task")
        classes = manifest.get("classes") or []
        probabilities: Any = dict[str, float] | None
        prediction: Any = Label
        if task == "regression":
            prediction = float
        warnings: tuple[Any, Any] = (
            list[ContractWarning],
            Field(
                default_factory=list,
                description="What the input contract noticed in this record: missing fields, "
                "values the recipe could not read, unseen categories, values out of the "
                "training range (a 422 instead with strict=true).",
            ),
        )
        self.Item = create_model(
            "PredictionItem",
            request_id=(str, Field(description="Use it to send feedback on this prediction.")),
            prediction=(prediction, Field(description="The predicted class or value.")),
            probabilities=(
                probabilities,
                Field(default=None, description="Class -> probability (classification)."),
            ),
            warnings=warnings,
        )
        self.Single = create_model(
            "Prediction",
            request_id=(str, Field(description="Use it to send feedback on this prediction.")),
            model_version=(str, ...),
            prediction=(prediction, Field(description="The predicted class or value.")),
            probabilities=(
                probabilities,
                Field(default=None, description="Class -> probability (classification)."),
            ),
            warnings=warnings,
        )
        self.Many = create_model(
            "Predictions",
            request_id=(str, ...),
            model_version=(str, ...),
            predictions=(list[self.Item], ...),  # type: ignore[name-defined]
        )
        self.Response = self.Single | self.Many

        actual: Any
        if task == "regression":
            actual = FiniteFloat
        elif classes:
            values = [*classes, *sorted({str(c) for c in classes} - set(classes))]
            actual = Annotated[
                Any, BeforeValidator(_one_of(values)), WithJsonSchema({"enum": values})
            ]
        else:
            actual = Label
        self.Feedback = create_model(
            "Feedback",
            __config__=ConfigDict(extra="forbid"),
            request_id=(
                str,
                Field(pattern=REQUEST_ID_PATTERN, description="The request_id of a prediction."),
            ),
            actual=(actual, Field(description="The true outcome, as in the training file.")),
        )


def _one_of(values: list[Any]) -> Any:
    allowed = [(type(v), v) for v in values]

    def check(value: Any) -> Any:
        for kind, v in allowed:
            if type(value) is kind and value == v:
                return value
        raise PydanticCustomError("literal_error", "not one of the classes of the model")

    return check


class ContractWarning(BaseModel):
    """One thing the input contract noticed in a record (never a value that was sent)."""

    field: str | None = Field(description="The column of the training file (null: several).")
    type: str = Field(
        description="missing_field, missing_value, unreadable, unseen_category, out_of_range "
        "or unknown_fields."
    )
    msg: str


class FeedbackStored(BaseModel):
    request_id: str
    stored: bool = True


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    """A 422: one message per field; submitted values are never repeated."""

    detail: list[ErrorItem]


class MessageResponse(BaseModel):
    detail: str


def safe_name(name: Any, known: set[str]) -> str:
    """A field name fit for an error message: a known column as is, anything else masked
    (a name that was sent is never repeated: it may itself be a value, such as an email)."""
    text = str(name)
    return text if text in known else "<field>"


def unknown_message(name: Any, known: set[str]) -> str:
    """The message for a field that is not a column, with the column it most likely is."""
    import difflib

    squash = {re.sub(r"[^0-9a-z]+", "", k.lower()): k for k in known}
    key = re.sub(r"[^0-9a-z]+", "", str(name).lower()[:200])
    match = squash.get(key)
    if match is not None:  # the same letters and digits: what differs may be invisible
        hint = (
            f" (did you mean '{match}'? it differs only in case, spaces, punctuation or "
            "invisible characters such as a byte-order mark)"
        )
        return f"not a column of the training file{hint}; send the name as GET /model lists it"
    if key:
        close = difflib.get_close_matches(key, list(squash), n=1, cutoff=0.75)
        match = squash[close[0]] if close else None
    hint = f" (did you mean '{match}'?)" if match is not None else ""
    return f"not a column of the training file{hint}; remove it (see GET /model for the columns)"


class RecordValidator:
    """The request rules of :class:`Models`, applied to parsed JSON without pydantic."""

    def __init__(
        self,
        columns: Sequence[str],
        *,
        unknown_fields: str,
        max_records: int,
        max_text: int = MAX_TEXT,
    ):
        self.max_text = max_text
        self.columns = list(columns)
        self.known = set(self.columns)
        self.reject_unknown = unknown_fields == "reject"
        self.max_records = max_records

    def record(self, obj: Any, loc: list[str | int], errors: list[dict[str, Any]]) -> None:
        if type(obj) is not dict:
            errors.append(
                {
                    "loc": loc,
                    "msg": "a record must be a JSON object of field name -> value",
                    "type": "model_type",
                }
            )
            return
        known = self.known
        for name, value in obj.items():
            if name not in known:
                if self.reject_unknown:
                    errors.append(
                        {
                            "loc": [*loc, "<field>"],
                            "msg": unknown_message(name, known),
                            "type": "extra_forbidden",
                        }
                    )
                continue
            kind = type(value)
            if kind is str:
                if len(value) > self.max_text:
                    errors.append(
                        {
                            "loc": [*loc, name],
                            "msg": f"text longer than {self.max_text:,} characters",
                            "type": "string_too_long",
                        }
                    )
            elif kind is float:
                if value != value or value in (math.inf, -math.inf):
                    errors.append(
                        {
                            "loc": [*loc, name],
                            "msg": "a number must be finite",
                            "type": "finite_number",
                        }
                    )
            elif not (value is None or kind is int or kind is bool):
                errors.append(
                    {
                        "loc": [*loc, name],
                        "msg": "must be text, a number, true/false or null, not an object "
                        "or a list",
                        "type": "value_type",
                    }
                )

    def unicode(self, obj: Any, loc: list[str | int]) -> list[dict[str, Any]]:
        """Text that is not valid Unicode (a lone surrogate, which JSON escapes can spell and
        the fallback parser accepts) in a record or a list of records."""
        errors: list[dict[str, Any]] = []
        if type(obj) is list:
            for i, item in enumerate(obj):
                errors.extend(self.unicode(item, [*loc, i]))
                if len(errors) >= 100:
                    break
            return errors
        if type(obj) is not dict:
            return errors
        for name, value in obj.items():
            bad_name = not _valid_text(name)
            if bad_name or (type(value) is str and not _valid_text(value)):
                errors.append(
                    {
                        "loc": [*loc, "<field>" if bad_name or name not in self.known else name],
                        "msg": UNICODE_MESSAGE,
                        "type": "string_unicode",
                    }
                )
        return errors

    def body(self, obj: Any) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        if type(obj) is dict:
            self.record(obj, ["body"], errors)
        elif type(obj) is list:
            if not obj:
                errors.append(
                    {"loc": ["body"], "msg": "send at least one record", "type": "too_short"}
                )
            elif len(obj) > self.max_records:
                errors.append(
                    {
                        "loc": ["body"],
                        "msg": f"at most {self.max_records:,} records per request; use "
                        "POST /predict/batch for more",
                        "type": "too_long",
                    }
                )
            else:
                for i, item in enumerate(obj):
                    self.record(item, ["body", i], errors)
                    if len(errors) >= 100:
                        break
        else:
            errors.append(
                {
                    "loc": ["body"],
                    "msg": "the body must be a JSON object (one record) or a JSON array of records",
                    "type": "model_type",
                }
            )
        return errors


UNICODE_MESSAGE = "text that is not valid Unicode (a lone surrogate); send UTF-8 text"


def _valid_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (bytes that were not UTF-8, decoded with
    ``surrogateescape``, or a JSON escape of one)."""
    return not _valid_text(text)


def valid_request_id(text: str) -> bool:
    return bool(_REQUEST_ID_RE.match(text))


def clean_errors(
    errors: Sequence[Mapping[str, Any]],
    known: set[str],
    *,
    body_is_list: bool | None = None,
    max_text: int = MAX_TEXT,
) -> list[dict[str, Any]]:
    """pydantic/FastAPI errors made fit to send: one message per field, no submitted values
    (``input``, ``ctx`` and ``url`` dropped), union branches merged, unknown names masked."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for err in errors:
        raw_loc = list(err.get("loc", ()))
        if body_is_list is not None and len(raw_loc) > 1 and isinstance(raw_loc[1], str):
            branch = raw_loc[1]
            if (branch.startswith("list[") and not body_is_list) or (
                branch == "Record" and body_is_list
            ):
                continue  # the error of the union branch that does not apply
        loc: list[str | int] = []
        for part in raw_loc:
            if isinstance(part, int):
                loc.append(part)
            elif part in ("body", "query", "path", "header") or part in known:
                loc.append(str(part))
            elif part in _MODEL_FIELDS:
                loc.append(part)
            elif part in _BRANCHES or part.startswith(_BRANCH_PREFIXES):
                continue
            else:
                loc.append(safe_name(part, known | _MODEL_FIELDS))
        kind = str(err.get("type", "value_error"))
        msg = _MESSAGES.get(kind) or str(err.get("msg", "invalid value"))
        if kind == "extra_forbidden" and raw_loc:
            msg = unknown_message(raw_loc[-1], known)
        key: tuple[Any, ...] = tuple(loc)
        if kind == "extra_forbidden":
            key = (*loc, len(merged))  # each unknown field its own error, all shown masked
        if key in merged:
            if len(loc) <= 1:
                msg = "the body must be a JSON object (one record) or a JSON array of records"
                kind = "model_type"
            else:
                msg = (
                    f"must be text (at most {max_text:,} characters), a finite number, "
                    "true/false or null"
                )
                kind = "value_type"
        merged[key] = {"loc": loc, "msg": msg, "type": kind}
    return list(merged.values())


_BRANCHES = frozenset({"bool", "int", "float", "str", "none", "Record", "constrained-str"})
_BRANCH_PREFIXES = ("list[", "function-", "constrained-", "json-or-python", "lax-or-strict")
_MODEL_FIELDS = {"request_id", "actual", "prediction", "probabilities", "strict"}
_MESSAGES = {
    "extra_forbidden": "not a column of the training file; remove it (see GET /model for the "
    "columns)",
    "json_invalid": "the body is not valid JSON",
    "missing": "this field is required",
    "literal_error": "not one of the classes of the model (see GET /model)",
    "string_pattern_mismatch": "not a request id returned by POST /predict",
    "model_attributes_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "bool_parsing": "must be true or false",
    "string_unicode": "text that is not valid Unicode (a lone surrogate); send UTF-8 text",
    "bool_type": "must be true or false",
}


# --------------------------------------------------------------------------- the input contract

_ABSENT = object()
_WARNING_CACHE = 10_000
#: text cells up to this length have their typed value and warning remembered per column
MEMO_MAX_CHARS = 64
#: remembered cells, all columns together (about 150 bytes each)
MEMO_ENTRIES = 200_000
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "f", "n"})


class RecordsRejected(Exception):
    """Records that break the input contract: ``errors`` are 422 items (no sent value)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} contract error(s)")
        self.errors = errors


def parse_strict(value: str | None) -> bool | None:
    """A ``strict`` query value as FastAPI reads a bool (None when it is not one)."""
    if value is None:
        return False
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def strict_from_query(query: bytes) -> bool | None:
    """``strict`` of a raw query string (False when absent, None when not a boolean)."""
    if not query or b"strict" not in query:
        return False
    from urllib.parse import parse_qsl

    found = None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name == "strict":
            found = value
    return parse_strict(found)


STRICT_ERROR = {"loc": ["query", "strict"], "msg": "must be true or false", "type": "bool_parsing"}


def _typed_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    import pandas as pd

    return value is pd.NA or value is pd.NaT


class _Column:
    """One column the model uses: its raw name, the recipe that cleans it, its schema."""

    def __init__(self, name: str, rec: Any, info: Mapping[str, Any] | None) -> None:
        self.name = name  # the typed (cleaned) name
        self.source = str(rec.source) if rec is not None else name
        self.alt = name if name != self.source else None
        self.rec = rec
        info = info or {}
        self.kind = str(info.get("type") or (rec.kind if rec is not None else "value"))
        self.nullable = bool(info.get("nullable", True))
        low, high = info.get("minimum"), info.get("maximum")
        numeric = self.kind in ("number", "integer", "float")
        self.low = float(low) if numeric and isinstance(low, int | float) else None
        self.high = float(high) if numeric and isinstance(high, int | float) else None
        self.codes: dict[str, int] = {}

    def rule(self, raw: Any) -> int | None:
        """The recipe's :class:`~apprentice.clean.recipe.Rule` for a raw cell (None without
        a recipe), memoised per distinct cell."""
        if self.rec is None:
            return None
        text = raw if isinstance(raw, str) else str(raw)
        code = self.codes.get(text)
        if code is None:
            import pandas as pd

            from apprentice.clean.recipe import apply_column

            code = int(apply_column(self.rec, pd.Series([text], dtype="str")).codes[0])
            if len(self.codes) < _WARNING_CACHE:
                self.codes[text] = code
        return code


def _number(value: float) -> str:
    return f"{value:g}"


class InputContract:
    """The warnings of each record against the bundle's input contract.

    A warning names a column of the training file, never a value that was sent:

    * ``missing_field``: a column the model uses is absent from the record;
    * ``missing_value``: null (or a missing-value marker) in a column never missing in training;
    * ``unreadable``: the recipe could not read the value as the column's type;
    * ``unseen_category``: a category not seen in training;
    * ``out_of_range``: a number below the smallest or above the largest value in training;
    * ``unknown_fields``: fields that are not columns of the training file were ignored
      (``unknown_fields="ignore"``; their names are not repeated).

    Every one of them makes the value missing for the model except ``out_of_range``. A record
    with no usable value in any column the model uses is rejected (422); ``strict`` rejects
    any warning.
    """

    def __init__(
        self, bundle: Any, typed_columns: Sequence[str], known: set[str], *, ignore_unknown: bool
    ) -> None:
        from apprentice.clean.recipe import Rule

        self.unparseable = int(Rule.UNPARSEABLE)
        self.unseen = int(Rule.UNSEEN)
        self.ignore_unknown = ignore_unknown
        recipe = getattr(bundle.cleaner, "recipe_", None)
        recipes = {str(rec.name): rec for rec in getattr(recipe, "columns", None) or []}
        schema = bundle.manifest.get("schema") or {}
        info = {str(c.get("name")): c for c in schema.get("columns", []) if isinstance(c, Mapping)}
        self.columns = [
            _Column(str(n), recipes.get(str(n)), info.get(str(n))) for n in typed_columns
        ]
        self.known = known
        self._memos: list[dict[str, tuple[Any, dict[str, Any] | None, bool]]] = [
            {} for _ in self.columns
        ]
        self._memo_limit = max(256, min(8192, MEMO_ENTRIES // max(len(self.columns), 1)))
        self.required = [c.source for c in self.columns]
        self.no_features = (
            "none of the columns the model uses has a usable value (each is absent, null or "
            "unreadable); send at least one of: "
            + ", ".join(self.required[:30])
            + (", ..." if len(self.required) > 30 else "")
            + " (see GET /model)"
        )

    def warnings(
        self, raw: Mapping[str, Any], typed: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], bool]:
        """(warnings, usable): usable when at least one column the model uses has a value."""
        out: list[dict[str, Any]] = []
        usable = False
        get = raw.get
        for col in self.columns:
            warning, present = self._column(col, typed.get(col.name), get)
            usable = usable or present
            if warning is not None:
                out.append(warning)
        return out, usable

    def _column(
        self, col: _Column, value: Any, get: Callable[[str, Any], Any]
    ) -> tuple[dict[str, Any] | None, bool]:
        """The warning (or None) of one column whose typed value is ``value``, and whether
        that value is usable; ``get`` reads the raw record."""
        if not _typed_missing(value):
            low, high = col.low, col.high
            if low is not None and type(value) is not bool and isinstance(value, Real):
                number = float(value)
                if number < low:
                    return _warning(
                        col.source,
                        "out_of_range",
                        "below the smallest value seen in training (" + _number(low) + ")",
                    ), True
                if high is not None and number > high:
                    return _warning(
                        col.source,
                        "out_of_range",
                        "above the largest value seen in training (" + _number(high) + ")",
                    ), True
            return None, True
        sent = get(col.source, _ABSENT)
        if sent is _ABSENT and col.alt is not None:
            sent = get(col.alt, _ABSENT)
        if sent is _ABSENT:
            return _warning(
                col.source, "missing_field", "absent from the record; predicted as missing"
            ), False
        code = None if sent is None else col.rule(sent)
        if code == self.unparseable or (code is None and sent is not None):
            return _warning(
                col.source,
                "unreadable",
                f"could not be read as {_article(col.kind)}; predicted as missing",
            ), False
        if code == self.unseen:
            return _warning(
                col.source,
                "unseen_category",
                "not a category seen in training; predicted as missing",
            ), False
        if not col.nullable:
            return _warning(
                col.source,
                "missing_value",
                "missing, but never missing in training; predicted as missing",
            ), False
        return None, False

    def clean_and_check(
        self,
        raw: Mapping[str, Any],
        cells: Sequence[tuple[str, str | None, Callable[[Any], Any] | None]],
    ) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
        """The typed values of one record (``cells``: the compiled model's cell cleaners, one
        per column, in order), its warnings and whether it is usable, in one pass.

        The same values and warnings as :meth:`CompiledModel.clean_record
        <apprentice.serve.compiled.CompiledModel.clean_record>` followed by
        :meth:`warnings` (tested): a short text cell's typed value and warning depend on the
        cell alone, so both are remembered per column and distinct cell (bounded).
        """
        typed: dict[str, Any] = {}
        found: list[dict[str, Any]] = []
        usable = False
        get = raw.get
        limit = self._memo_limit
        for col, (source, alt, clean), memo in zip(self.columns, cells, self._memos, strict=True):
            value = get(source)
            if type(value) is str and len(value) <= MEMO_MAX_CHARS:
                hit = memo.get(value)
                if hit is None:
                    cleaned = clean(value) if clean is not None else value
                    hit = (cleaned, *self._column(col, cleaned, get))
                    if len(memo) < limit:
                        memo[value] = hit
                cleaned, warning, present = hit
            else:
                if value is None and alt is not None:
                    value = get(alt)
                cleaned = clean(value) if clean is not None else value
                warning, present = self._column(col, cleaned, get)
            typed[col.name] = cleaned
            if present:
                usable = True
            if warning is not None:
                found.append(warning)
        return typed, found, usable

    def check(
        self,
        raw: Mapping[str, Any],
        typed: Mapping[str, Any],
        *,
        strict: bool,
        loc: list[str | int],
        errors: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The record's warnings; its 422 errors appended to ``errors``."""
        found, usable = self.warnings(raw, typed)
        return self.verdict(raw, found, usable, strict=strict, loc=loc, errors=errors)

    def verdict(
        self,
        raw: Mapping[str, Any],
        found: list[dict[str, Any]],
        usable: bool,
        *,
        strict: bool,
        loc: list[str | int],
        errors: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The warnings of a record whose column warnings are ``found`` (plus one for ignored
        unknown fields); its 422 errors (no usable feature, or strict and any warning)
        appended to ``errors``."""
        if self.ignore_unknown:
            extra = sum(1 for name in raw if name not in self.known)
            if extra:
                found.append(
                    _warning(
                        None,
                        "unknown_fields",
                        f"{extra} field(s) that are not columns of the training file were ignored",
                    )
                )
        if not usable:
            errors.append({"loc": loc, "msg": self.no_features, "type": "no_features"})
        elif strict and found:
            for w in found:
                where = [*loc, w["field"]] if w["field"] is not None else loc
                errors.append({"loc": where, "msg": "strict: " + w["msg"], "type": w["type"]})
        return found


def _warning(field: str | None, kind: str, msg: str) -> dict[str, Any]:
    return {"field": field, "type": kind, "msg": msg}


def _article(kind: str) -> str:
    return ("an " if kind[:1] in "aeiou" else "a ") + kind
