"""The ledger: every decision the clean stage made, as plain JSON-able data.

Per column: the type and its evidence, the markers treated as missing (and those kept as
values), category merges, coercions with counts and examples, suspected sentinels. Per table:
duplicate rows, renamed columns (originals kept), constant and all-empty columns. Examples are
bounded, so the ledger of a big table stays small; exact per-cell answers come from re-applying
the recipe (:func:`apprentice.clean.explain_cell`). :meth:`Ledger.redact` masks the example
values of given columns (the guard stage calls it for PII columns).
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any

LEDGER_FORMAT = "apprentice.clean.ledger"
LEDGER_VERSION = 1
REDACTED = "<redacted>"
MAX_EXAMPLES = 10


@dataclass
class ColumnReport:
    """What happened to one column."""

    name: str
    original: str
    kind: str
    dtype: str
    semantic: str | None = None
    n_cells: int = 0
    n_missing: int = 0
    n_missing_in_source: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    format: dict[str, Any] = field(default_factory=dict)
    markers: list[dict[str, Any]] = field(default_factory=list)
    kept_markers: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    coercions: dict[str, int] = field(default_factory=dict)
    unparseable: list[dict[str, Any]] = field(default_factory=list)
    sentinels: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnReport:
        return cls(**data)

    def summary(self) -> str:
        """One line: the type, what was missing, what changed."""
        parts = [f"{self.kind}"]
        if self.semantic:
            parts[0] += f" ({self.semantic})"
        share = self.evidence.get("share_fit")
        if isinstance(share, float) and share < 1.0:
            parts.append(f"{share:.1%} of values fit")
        fmt = self.format.get("describe") if self.kind != "category" else None
        if fmt:
            parts.append(str(fmt))
        if self.markers:
            toks = ", ".join(f"{m['token']!r} x{m['count']:,}" for m in self.markers[:4])
            parts.append(f"missing markers {toks}")
        for k in self.kept_markers:
            parts.append(f"{k['token']!r} kept as a value")
        if self.merges:
            parts.append(f"{len(self.merges)} spelling variants merged")
        c = self.coercions
        if c.get("reformatted"):
            parts.append(f"{c['reformatted']:,} cells reformatted")
        if c.get("unparseable"):
            parts.append(f"{c['unparseable']:,} cells did not fit -> missing")
        if c.get("whitespace_stripped"):
            parts.append(f"{c['whitespace_stripped']:,} cells had whitespace stripped")
        for s in self.sentinels:
            verb = "-> missing" if s.get("action") == "missing" else "flagged, kept"
            parts.append(f"suspected sentinel {s['value']:g} x{s.get('count', 0):,} {verb}")
        return "; ".join(parts)


@dataclass
class TableReport:
    """Findings about the whole table."""

    n_rows: int = 0
    n_columns: int = 0
    duplicate_rows: dict[str, Any] = field(default_factory=dict)
    renamed_columns: list[dict[str, Any]] = field(default_factory=list)
    constant_columns: list[str] = field(default_factory=list)
    empty_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableReport:
        return cls(**data)


@dataclass
class Ledger:
    """Every decision of one cleaning run (JSON via :meth:`to_json` / :meth:`from_dict`)."""

    columns: list[ColumnReport] = field(default_factory=list)
    table: TableReport = field(default_factory=TableReport)
    source: str | None = None
    recipe: dict[str, Any] | None = None
    redacted_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LEDGER_FORMAT,
            "version": LEDGER_VERSION,
            "source": self.source,
            "table": self.table.to_dict(),
            "columns": [c.to_dict() for c in self.columns],
            "redacted_columns": list(self.redacted_columns),
            "recipe": self.recipe,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        from apprentice.errors import SchemaError

        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
            raise SchemaError(
                "this is not a cleaning ledger (no 'format': 'apprentice.clean.ledger'); pass "
                "the JSON written by `apprentice clean --ledger`"
            )
        return cls(
            columns=[ColumnReport.from_dict(c) for c in data.get("columns", [])],
            table=TableReport.from_dict(data.get("table") or {}),
            source=data.get("source"),
            recipe=data.get("recipe"),
            redacted_columns=list(data.get("redacted_columns") or []),
        )

    @classmethod
    def from_json(cls, text: str) -> Ledger:
        return cls.from_dict(json.loads(text))

    def column(self, name: str) -> ColumnReport:
        for c in self.columns:
            if c.name == name or c.original == name:
                return c
        raise KeyError(name)

    def summary_lines(self) -> list[str]:
        """A readable account (the CLI prints it; the report embeds it)."""
        t = self.table
        lines = [f"{t.n_rows:,} rows x {t.n_columns} columns"]
        dup = t.duplicate_rows.get("count", 0)
        if dup:
            lines.append(f"{dup:,} duplicate rows (kept; see duplicate_rows in the ledger)")
        for r in t.renamed_columns:
            lines.append(
                f"column {r['original']!r} renamed {r['name']!r}: {'; '.join(r['reasons'])}"
            )
        if t.constant_columns:
            lines.append("constant columns (kept): " + ", ".join(t.constant_columns))
        if t.empty_columns:
            lines.append("all-empty columns (kept): " + ", ".join(t.empty_columns))
        lines.extend(t.notes)
        width = max((len(c.name) for c in self.columns), default=0)
        for c in self.columns:
            lines.append(f"{c.name.ljust(width)}  {c.summary()}")
        return lines

    def redact(self, columns: set[str] | list[str]) -> Ledger:
        """A copy with every example value of ``columns`` masked (names and counts stay)."""
        wanted = set(columns)
        out = copy.deepcopy(self)
        for c in out.columns:
            if c.name not in wanted and c.original not in wanted:
                continue
            c.evidence["not_fitting"] = [REDACTED for _ in c.evidence.get("not_fitting", [])]
            for m in c.merges:
                m["variant"], m["canonical"] = REDACTED, REDACTED
            for k in c.kept_markers:
                k["reason"] = "the most frequent value is a marker-like token: kept as a value"
            for u in c.unparseable:
                if "raw" in u:
                    u["raw"] = REDACTED
            c.format.pop("categories", None)
            if c.name not in out.redacted_columns:
                out.redacted_columns.append(c.name)
        if out.recipe is not None:
            for rc in out.recipe.get("columns", []):
                named = rc.get("name") in wanted or rc.get("source") in wanted
                if named and rc.get("categories") is not None:
                    rc["categories"] = [REDACTED]
                    rc["redacted"] = True
        return out
