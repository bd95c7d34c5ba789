"""``clean_file``: read -> clean -> guard (PII, protection, schema) in one call.

This is what ``apprentice clean`` runs. PII is looked for on the text cells as read (before
cleaning can turn a phone number into a float), the findings are mapped to the cleaned
column names, and then:

* the ledger's examples of every flagged column are redacted (:meth:`Ledger.redact`), and the
  findings and protection decisions are added as its ``pii`` section;
* PII columns are excluded from model features (``protection.feature_exclusions``); columns
  the user must keep (``keep=``) are pseudonymised with the workspace key;
* the schema contract is inferred from the cleaned table with the clean stage's types, and
  holds no value of a PII column;
* everything meant for people (:meth:`CleanFileResult.describe`, :meth:`preview`,
  :meth:`summary`, :meth:`explain`) masks PII.

The cleaned table itself keeps the user's values in excluded columns: it is their data, and
they asked for it. Only pseudonymised columns are changed in it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from apprentice.config import Settings, get_settings
from apprentice.errors import ConfigError
from apprentice.guard import (
    PIIReport,
    ProtectionPlan,
    Schema,
    apply_protection,
    detect_pii,
    find_pii_spans,
    infer_schema,
    mask_frame,
    mask_value,
    protection_plan,
    safe_display,
    workspace_key,
)
from apprentice.guard.ledger import LedgerWithPII
from apprentice.guard.pii import DEFAULT_PHONE_REGIONS, DEFAULT_SAMPLE

if TYPE_CHECKING:
    from apprentice.clean import CellExplanation, CleanResult, Ledger, Recipe
    from apprentice.read import ReadResult

# the clean stage's column kinds -> the schema's logical types (None: let the schema decide)
SCHEMA_TYPE_OF_KIND: dict[str, str | None] = {
    "integer": "integer",
    "float": "number",
    "boolean": "boolean",
    "date": "datetime",
    "datetime": "datetime",
    "time": None,
    "category": "category",
    "identifier": "id",
    "text": "text",
    "empty": None,
}


@dataclass
class CleanFileResult(LedgerWithPII):
    """What :func:`clean_file` returns.

    ``table``: the cleaned, typed table (pseudonymised columns replaced by pseudonyms).
    ``ledger``: the clean stage's ledger, redacted for every PII column, with a ``pii``
    section in :meth:`ledger_dict`. ``schema``: the inferred contract. ``pii``: the findings
    (cleaned column names). ``protection``: what happens to each PII column. ``recipe``: the
    full cleaning recipe (to clean new rows; store :meth:`model_recipe` in a model bundle).
    ``read``: the read result (raw text cells: never show it unmasked).
    """

    table: pd.DataFrame
    ledger: Ledger
    schema: Schema
    pii: PIIReport
    protection: ProtectionPlan
    recipe: Recipe
    read: ReadResult
    _clean: CleanResult = field(repr=False)

    # -- the ledger with its PII section, describe(): LedgerWithPII ------------------------------

    def preview(self, rows: int = 10) -> pd.DataFrame:
        """The first ``rows`` rows of the cleaned table with PII masked, for displays."""
        return mask_frame(self.table.head(rows), self.protection)

    def summary(self) -> dict[str, Any]:
        """A JSON-able account for ``--json`` output (no PII values)."""
        read = self.read.summary()
        read["notes"] = [safe_display(str(n)) for n in read.get("notes", [])]
        return {
            "source": self.read.source,
            "rows": len(self.table),
            "columns": [str(c) for c in self.table.columns],
            "read": read,
            "ledger": [safe_display(line) for line in self.ledger.summary_lines()],
            "pii": self.pii_section(),
            "feature_exclusions": self.protection.feature_exclusions,
            "schema": self.schema.to_dict(),
        }

    def explain(self, row: int, column: str | int) -> CellExplanation:
        """Where one cell's cleaned value came from (``apprentice why``), PII masked."""
        explanation = self._clean.explain(row, column)
        kind = self.protection.masked.get(explanation.column, "")
        if kind == "":
            return explanation
        values = [v for v in (explanation.raw, explanation.cleaned) if isinstance(v, str) and v]
        if kind is None:
            masks = {v: safe_display(v) for v in values}
        else:
            masks = {v: mask_value(v, kind) for v in values}

        def hide(text: str) -> str:
            for value in sorted(masks, key=len, reverse=True):
                text = text.replace(value, masks[value])
            return safe_display(text)

        raw = None if explanation.raw is None else masks.get(explanation.raw, "")
        cleaned = explanation.cleaned
        if isinstance(cleaned, str):
            cleaned = masks.get(cleaned, "")
        elif kind is not None and not pd.isna(cleaned):
            cleaned = mask_value(cleaned, kind)
        return dataclasses.replace(
            explanation,
            raw=raw,
            cleaned=cleaned,
            reason=hide(explanation.reason),
            details=[hide(d) for d in explanation.details],
        )

    # -- for a model bundle -------------------------------------------------------------------

    def model_recipe(self) -> Recipe:
        """The recipe a model bundle should store: no column excluded for PII, and no category
        or marker value that holds validated PII (such a value becomes 'unseen' at serving)."""
        recipe = copy.deepcopy(self.recipe)
        excluded = set(self.protection.feature_exclusions)
        recipe.columns = [c for c in recipe.columns if c.name not in excluded]
        for column in recipe.columns:
            if column.categories is not None:
                column.categories = [c for c in column.categories if not find_pii_spans(str(c))]
            column.markers = [m for m in column.markers if not find_pii_spans(str(m))]
            column.kept_markers = [m for m in column.kept_markers if not find_pii_spans(str(m))]
        return recipe

    # -- files ------------------------------------------------------------------------------------

    def write(
        self,
        *,
        output: str | Path | None = None,
        ledger: str | Path | None = None,
        schema: str | Path | None = None,
    ) -> dict[str, str]:
        """Write the cleaned table (CSV, or Parquet by suffix), the ledger and/or the schema."""
        written: dict[str, str] = {}
        if output is not None:
            path = Path(output)
            if path.suffix.lower() in (".parquet", ".pq"):
                self.table.to_parquet(path, index=False)
            else:
                from apprentice.clean.output import csv_frame

                csv_frame(self.table, self.recipe).to_csv(path, index=False)
            written["output"] = str(path)
        if ledger is not None:
            path = Path(ledger)
            path.write_text(self.ledger_json() + "\n", encoding="utf-8")
            written["ledger"] = str(path)
        if schema is not None:
            written["schema"] = str(self.schema.save(schema))
        return written


def _rename_report(report: PIIReport, names: Mapping[str, str]) -> PIIReport:
    if all(names.get(c, c) == c for c in report.columns_scanned):
        return report
    return PIIReport(
        findings=[
            dataclasses.replace(f, column=names.get(f.column, f.column)) for f in report.findings
        ],
        rows_scanned=report.rows_scanned,
        rows_total=report.rows_total,
        columns_scanned=[names.get(c, c) for c in report.columns_scanned],
    )


def _resolve(
    given: Iterable[str], to_clean: Mapping[str, str], what: str, choices: Sequence[str]
) -> list[str]:
    out = []
    for name in given:
        if name not in to_clean:
            raise ConfigError(
                f"{what}: column {name!r} is not in the table; choose among "
                + ", ".join(repr(c) for c in list(choices)[:30])
            )
        out.append(to_clean[name])
    return out


def clean_file(
    source: str | Path | ReadResult,
    *,
    keep: Iterable[str] = (),
    allow: Iterable[str] = (),
    type_hints: Mapping[str, str] | None = None,
    percent_as: str = "fraction",
    sentinels: Any = "flag",
    dayfirst: bool | None = None,
    target: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    pii_sample: int | None = DEFAULT_SAMPLE,
    phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
    max_categories: int = 50,
    settings: Settings | None = None,
) -> CleanFileResult:
    """Read, clean and guard one table.

    ``source`` is anything :func:`apprentice.read` takes (with ``read_options`` as its
    keywords), or a :class:`~apprentice.read.ReadResult` already read. ``keep`` names
    identifier columns to keep as keyed pseudonyms (PII or not; the key is the workspace's,
    see :func:`apprentice.guard.workspace_key`); ``allow`` names columns the user declares
    not PII. Both take original or cleaned column names. ``type_hints``, ``percent_as``,
    ``sentinels``, ``dayfirst`` and ``target`` go to :func:`apprentice.clean.clean_table`;
    ``pii_sample`` and ``phone_regions`` to :func:`apprentice.guard.detect_pii`.
    """
    from apprentice.clean.gc_pause import paused_gc

    with paused_gc():  # (a wide table makes many small objects in every stage: see clean.gc_pause)
        return _clean_file(
            source,
            keep=keep,
            allow=allow,
            type_hints=type_hints,
            percent_as=percent_as,
            sentinels=sentinels,
            dayfirst=dayfirst,
            target=target,
            read_options=read_options,
            pii_sample=pii_sample,
            phone_regions=phone_regions,
            max_categories=max_categories,
            settings=settings,
        )


def _clean_file(
    source: str | Path | ReadResult,
    *,
    keep: Iterable[str],
    allow: Iterable[str],
    type_hints: Mapping[str, str] | None,
    percent_as: str,
    sentinels: Any,
    dayfirst: bool | None,
    target: str | None,
    read_options: Mapping[str, Any] | None,
    pii_sample: int | None,
    phone_regions: Sequence[str],
    max_categories: int,
    settings: Settings | None,
) -> CleanFileResult:
    from apprentice.clean import clean_table
    from apprentice.read import ReadResult, read

    settings = settings or get_settings()
    if isinstance(source, ReadResult):
        raw = source
    else:
        raw = read(source, settings=settings, **dict(read_options or {}))
    found = detect_pii(raw.table, sample=pii_sample, phone_regions=phone_regions)
    cleaned = clean_table(
        raw,
        type_hints=type_hints,
        percent_as=percent_as,
        sentinels=sentinels,
        dayfirst=dayfirst,
        target=target,
    )
    reports = cleaned.ledger.columns
    raw_names = [str(c) for c in raw.table.columns]
    by_position = {raw_names[i]: reports[i].name for i in range(min(len(raw_names), len(reports)))}
    report = _rename_report(found, by_position)

    to_clean = {r.name: r.name for r in reports} | {str(r.original): r.name for r in reports}
    to_clean |= by_position
    choices = [r.name for r in reports]
    kept = _resolve(keep, to_clean, "keep", choices)
    allowed = _resolve(allow, to_clean, "allow", choices)
    plan = protection_plan(report, keep=kept, allow=allowed)

    redacted = set(plan.redacted) | set(plan.pseudonymised)
    # no copy when nothing is redacted: the clean result is private to this one (its explain()
    # reads the recipe and raw cells, never the ledger), and a deep copy of a 10,000-column
    # ledger costs more than a second of CPU
    ledger = cleaned.ledger.redact(redacted) if redacted else cleaned.ledger
    if hasattr(ledger, "pii"):
        ledger.pii = {"findings": report.to_dict(), "protection": plan.to_dict()}

    key = None
    if plan.pseudonymised:
        data_path = None if isinstance(source, ReadResult) else _local_path(source)
        key = workspace_key(settings, data_path=data_path)
    table = apply_protection(cleaned.table, plan, key=key)

    types: dict[str, str] = {}
    for column_report in reports:
        logical = SCHEMA_TYPE_OF_KIND.get(column_report.kind)
        if logical is not None:
            types[column_report.name] = logical
    withheld: dict[str, str] = dict.fromkeys(redacted, "")
    withheld |= report.pii_columns
    withheld |= plan.pseudonymised
    for name in plan.pseudonymised:
        types[name] = "id"
    schema = infer_schema(table, types=types, pii=withheld, max_categories=max_categories)
    return CleanFileResult(
        table=table,
        ledger=ledger,
        schema=schema,
        pii=report,
        protection=plan,
        recipe=cleaned.recipe,
        read=raw,
        _clean=cleaned,
    )


def _local_path(source: str | Path) -> Path | None:
    text = str(source)
    if text == "-" or "://" in text:
        return None
    return Path(text)
