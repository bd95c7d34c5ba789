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
from collections.abc import Mapping, Sequence
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
            __config__=ConfigDict(extra=extra, validate_by_alias=True, validate_by_name=False),
            __doc__="One row with the raw field names of the training file.",
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
        self.Item = create_model(
            "PredictionItem",
            request_id=(str, Field(description="Use it to send feedback on this prediction.")),
            prediction=(prediction, Field(description="The predicted class or value.")),
            probabilities=(
                probabilities,
                Field(default=None, description="Class -> probability (classification)."),
            ),
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
    """A field name fit for an error message: a known column as is, anything else masked."""
    text = str(name)
    if text in known:
        return text
    from apprentice.guard import safe_display

    shown = safe_display(text, limit=40)
    return shown if shown == text and len(text) <= 40 and text.isprintable() else "<field>"


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
                            "loc": [*loc, safe_name(name, known)],
                            "msg": "not a column of the training file; remove it (see GET "
                            "/model for the columns)",
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
    merged: dict[tuple[str | int, ...], dict[str, Any]] = {}
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
        key = tuple(loc)
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
_MODEL_FIELDS = {"request_id", "actual", "prediction", "probabilities"}
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
}
