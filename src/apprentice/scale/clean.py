"""Clean a partitioned table on Dask: a recipe fitted on a sample, applied to every partition,
and a ledger whose counts are merged exactly.

Why the design is as it is:

* **Fit on a sample, on the client.** Type inference, markers, categories and sentinels are
  learned by the in-process machinery (:func:`apprentice.clean.api.fit_frame`) on
  ``sample_rows`` rows drawn from every partition in proportion to its size (a seeded draw,
  so runs repeat). A recipe is small plain data; learning it from a sample is what makes a
  larger-than-memory table cleanable, and the sample size is reported in the result and in
  the ledger. When the sample is the whole table, the recipe is the in-process one.
* **Apply on the workers, one partition at a time.** Every partition is cleaned by the same
  :func:`apprentice.clean.recipe.apply_column` that cleans in-process, serves, and answers
  ``apprentice why``, so the three cannot disagree. The cleaned frame stays lazy.
* **Counts are merged, never estimated.** Each partition returns the :class:`Rule` code
  counts of each column (values kept, reformatted, merged, whitespace stripped, null, empty,
  markers per token, unparseable texts with their first rows and lines, sentinel hits,
  unseen) plus up to two distinct values (for constant columns); sums and unions of these are
  exactly the whole table's. Duplicate rows are found across partitions with Dask: a 64-bit
  hash of each row's raw cells (:func:`pandas.util.hash_pandas_object`, the hash the
  in-process ledger compares with), grouped by hash to find each group's first row, joined
  back, and the rows after the first counted; the first examples come from ``nsmallest``.
  So the merged ledger equals :func:`apprentice.clean.clean_table` on the same file whenever
  the sample is the whole table, which the tests check.
* **PII as in-process.** Detection runs on the sample's raw text cells; the protection plan
  redacts the ledger's examples of flagged columns, records the feature exclusions, and
  pseudonymises kept identifier columns partition by partition with the workspace key, so no
  PII value reaches the ledger.

What depends on the sample when it is smaller than the table: the recipe and its evidence
(shares, examples of values that do not fit, category merges and their counts, a sentinel's
``rest_*`` statistics); categories absent from the sample are counted as ``unseen``.
Counts of cells, rows and duplicates never depend on it.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from apprentice.errors import ConfigError, InputError, TargetError
from apprentice.guard.ledger import LedgerWithPII
from apprentice.scale.partitions import sample_partitions

if TYPE_CHECKING:
    from distributed import Client

    from apprentice.clean.ledger import ColumnReport, Ledger
    from apprentice.clean.recipe import Recipe
    from apprentice.config import Settings
    from apprentice.guard import PIIReport, ProtectionPlan
    from apprentice.scale.partitions import PartitionedTable

_MAX_UNPARSEABLE = 1_000  # distinct unparseable texts a partition reports per column


@dataclass
class _ColumnStats:
    counts: np.ndarray
    stripped: int = 0
    markers: dict[str, int] = field(default_factory=dict)
    # raw text -> [count, first global row, first rows (<= 3), their lines]
    unparseable: dict[str, list[Any]] = field(default_factory=dict)
    unparseable_capped: bool = False
    sentinel_hits: dict[float, int] = field(default_factory=dict)
    n_finite: int = 0
    distinct: list[Any] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)  # category columns: every label


def _as_text(part: pd.DataFrame) -> pd.DataFrame:
    """Text cells in pandas' ``str`` dtype (Dask may hand back its own string dtype)."""
    return part.astype("str") if part.shape[1] else part


def _distinct2(s: pd.Series) -> list[Any]:
    """Up to two distinct non-missing values (what a constant column test needs)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        return [int(c) for c in np.unique(codes[codes >= 0])[:2]]
    if s.dtype.kind == "f":
        arr = s.to_numpy()
        return [float(v) for v in np.unique(arr[~np.isnan(arr)])[:2]]
    values = s.dropna()
    out: list[Any] = []
    for v in values.unique():
        out.append(v.item() if hasattr(v, "item") else v)
        if len(out) == 2:
            break
    return out


def _apply_all(recipe: Recipe, part: pd.DataFrame) -> tuple[pd.DataFrame, list[Any]]:
    """Clean one partition: the typed frame and each column's :class:`Applied`."""
    from apprentice.clean.recipe import apply_column

    raw = _as_text(part)
    applied = [
        apply_column(rec, raw.iloc[:, j], index=raw.index) for j, rec in enumerate(recipe.columns)
    ]
    table = pd.DataFrame(
        {rec.name: a.values for rec, a in zip(recipe.columns, applied, strict=True)},
        index=raw.index,
        copy=False,
    )
    return table, applied


def _stats_series(
    part: pd.DataFrame, recipe: Recipe, offsets: list[int], partition_info: Any = None
) -> pd.Series:
    """:func:`_partition_stats` as a one-element object Series (a Dask-friendly result)."""
    number = partition_info["number"] if partition_info else 0
    out = pd.Series([None], index=[number], dtype=object)
    out.iloc[0] = _partition_stats(part, recipe, offsets[number])
    return out


def _partition_stats(part: pd.DataFrame, recipe: Recipe, offset: int) -> list[_ColumnStats]:
    """Per-column ledger counts of one partition (``offset``: its first global data row)."""
    from apprentice.clean.recipe import Rule, apply_column, mark_sentinels

    raw = _as_text(part)
    lines = raw.index.to_numpy()
    out: list[_ColumnStats] = []
    for j, rec in enumerate(recipe.columns):
        col = raw.iloc[:, j]
        stats = _ColumnStats(counts=np.zeros(len(Rule), dtype=np.int64))
        if rec.sentinels:
            bare = dataclasses.replace(rec, sentinels=[])
            applied = apply_column(bare, col, index=raw.index)
            vals = applied.values.to_numpy(dtype=np.float64)
            stats.n_finite = int(np.isfinite(vals).sum())
            for s in rec.sentinels:
                v = float(s["value"])
                stats.sentinel_hits[v] = stats.sentinel_hits.get(v, 0) + int(np.sum(vals == v))
            mark_sentinels(rec, applied)
        else:
            applied = apply_column(rec, col, index=raw.index)
        codes = applied.codes
        stats.counts = np.bincount(codes, minlength=len(Rule)).astype(np.int64)
        stats.stripped = applied.whitespace_stripped()
        stats.markers = applied.token_counts((Rule.MARKER, Rule.NEW_MARKER))
        bad = np.flatnonzero(codes == Rule.UNPARSEABLE)
        if bad.size:
            texts = col.iloc[bad].to_numpy(dtype=object)
            found = pd.DataFrame({"text": texts, "pos": bad})
            groups = found.groupby("text", sort=False)["pos"]
            counts = groups.size()
            if len(counts) > _MAX_UNPARSEABLE:
                counts = counts.sort_values(ascending=False, kind="stable").head(_MAX_UNPARSEABLE)
                stats.unparseable_capped = True
            firsts = groups.head(3).groupby(found["text"], sort=False).agg(list)
            for text, count in counts.items():
                hit = firsts[text]
                stats.unparseable[str(text)] = [
                    int(count),
                    offset + int(hit[0]),
                    [offset + int(r) for r in hit],
                    [int(lines[r]) for r in hit],
                ]
        stats.distinct = _distinct2(applied.values)
        if rec.kind == "category":
            stats.tokens = applied.token_counts((Rule.VALUE, Rule.MERGED, Rule.UNSEEN))
        applied.release()
        out.append(stats)
    return out


def _row_keys(part: pd.DataFrame, offsets: list[int], partition_info: Any = None) -> pd.DataFrame:
    """A 64-bit hash of each row's raw cells, with its global row and source line."""
    number = partition_info["number"] if partition_info else 0
    raw = _as_text(part)
    hashes = pd.util.hash_pandas_object(raw, index=False).to_numpy()
    return pd.DataFrame(
        {
            "hash": hashes,
            "row": np.arange(len(raw), dtype=np.int64) + offsets[number],
            "line": raw.index.to_numpy().astype(np.int64),
        }
    )


def _dups_within(part: pd.DataFrame) -> pd.DataFrame:
    """Rows of a hash-shuffled partition that repeat an earlier row (every row sharing a hash
    is in the same partition), with the row and line they repeat."""
    ordered = part.sort_values("row", kind="stable")
    dup = ordered.duplicated("hash", keep="first").to_numpy()
    firsts = ordered[~dup].set_index("hash")
    out = ordered[dup].copy()
    out["first_row"] = firsts["row"].reindex(out["hash"]).to_numpy()
    out["first_line"] = firsts["line"].reindex(out["hash"]).to_numpy()
    return out


def _duplicates_graph(frame: Any, offsets: list[int]) -> tuple[Any, Any]:
    """Lazy (count, first examples) of rows equal to an earlier row, across partitions: the
    row hashes are shuffled by hash, so equal rows meet in one partition."""
    from apprentice.clean.ledger import MAX_EXAMPLES

    meta = pd.DataFrame(
        {
            "hash": pd.Series(dtype=np.uint64),
            "row": pd.Series(dtype=np.int64),
            "line": pd.Series(dtype=np.int64),
        }
    )
    keys = frame.map_partitions(_row_keys, offsets, meta=meta)
    out_meta = meta.assign(
        first_row=pd.Series(dtype=np.int64), first_line=pd.Series(dtype=np.int64)
    )
    dups = keys.shuffle("hash").map_partitions(_dups_within, meta=out_meta)
    return dups["row"].count(), dups.nsmallest(MAX_EXAMPLES, "row")


def _clean_part(
    part: pd.DataFrame, recipe: Recipe, plan: ProtectionPlan | None, key: bytes | None
) -> pd.DataFrame:
    """One cleaned partition (what the lazy cleaned frame is made of)."""
    table, applied = _apply_all(recipe, part)
    for a in applied:
        a.release()
    if plan is not None and plan.pseudonymised:
        from apprentice.guard import apply_protection

        table = apply_protection(table, plan, key=key)
    return table


@dataclass
class PartitionedClean(LedgerWithPII):
    """What :func:`clean_partitioned` returns.

    ``frame``: the lazily cleaned Dask DataFrame (index: the source line of each row;
    pseudonymised columns replaced). ``ledger``: the merged ledger, redacted for every PII
    column. ``recipe``: the recipe fitted on the sample. ``sample_rows``: rows it was fitted
    on (``rows_total`` in all). ``pii`` / ``protection``: the PII findings on the sample and
    what is done about them.
    """

    frame: Any
    ledger: Ledger
    recipe: Recipe
    pii: PIIReport
    protection: ProtectionPlan
    table: PartitionedTable
    sample_rows: int
    rows_total: int
    seed: int = 0
    pii_scanned: ClassVar[str] = "sample rows"

    @property
    def n_partitions(self) -> int:
        return self.table.n_partitions

    def scale_section(self) -> dict[str, Any]:
        return {
            "n_partitions": self.n_partitions,
            "sample_rows": self.sample_rows,
            "rows_total": self.rows_total,
            "sample_is_whole_table": self.sample_rows >= self.rows_total,
            "seed": self.seed,
        }

    def ledger_dict(self) -> dict[str, Any]:
        """The redacted ledger with its ``pii`` and ``scale`` sections."""
        out = super().ledger_dict()
        out["scale"] = self.scale_section()
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-able account for ``--json`` (no PII values)."""
        from apprentice.guard import safe_display

        read = self.table.summary()
        read["notes"] = [safe_display(str(n)) for n in read.get("notes", [])]
        return {
            "source": self.table.source,
            "rows": self.rows_total,
            "columns": [c.name for c in self.recipe.columns],
            "read": read,
            "ledger": [safe_display(line) for line in self.ledger.summary_lines()],
            "pii": self.pii_section(),
            "feature_exclusions": self.protection.feature_exclusions,
            **self.scale_section(),
        }

    def write(
        self, *, client: Client, output: str | Path | None = None, ledger: str | Path | None = None
    ) -> dict[str, str]:
        """Write the cleaned table (partition by partition) and/or the ledger."""
        written: dict[str, str] = {}
        if output is not None:
            written["output"] = str(
                write_partitioned(self.frame, output, client=client, recipe=self.recipe)
            )
        if ledger is not None:
            path = Path(ledger)
            _atomic_text(path, self.ledger_json() + "\n")
            written["ledger"] = str(path)
        return written


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _merge_stats(per_partition: list[list[_ColumnStats]], n_columns: int) -> list[_ColumnStats]:
    from apprentice.clean.recipe import Rule

    merged = [_ColumnStats(counts=np.zeros(len(Rule), dtype=np.int64)) for _ in range(n_columns)]
    distinct: list[set[Any]] = [set() for _ in range(n_columns)]
    for part in per_partition:
        for j, s in enumerate(part):
            m = merged[j]
            m.counts += s.counts
            m.stripped += s.stripped
            m.n_finite += s.n_finite
            m.unparseable_capped |= s.unparseable_capped
            for t, c in s.markers.items():
                m.markers[t] = m.markers.get(t, 0) + c
            for v, c in s.sentinel_hits.items():
                m.sentinel_hits[v] = m.sentinel_hits.get(v, 0) + c
            for t, c in s.tokens.items():
                m.tokens[t] = m.tokens.get(t, 0) + c
            for text, (count, first, rows, lines) in s.unparseable.items():
                have = m.unparseable.get(text)
                if have is None:
                    m.unparseable[text] = [count, first, list(rows), list(lines)]
                else:
                    have[0] += count
                    have[2] = (have[2] + rows)[:3]
                    have[3] = (have[3] + lines)[:3]
            if len(distinct[j]) < 2:
                distinct[j].update(s.distinct)
    for j, m in enumerate(merged):
        m.distinct = list(distinct[j])
    return merged


def _column_report(fitted: ColumnReport, stats: _ColumnStats, kind: str) -> ColumnReport:
    """The sample's report with every count replaced by the merged, exact one
    (the same fields, in the same way, as :func:`apprentice.clean.api._report`)."""
    from apprentice.clean.ledger import MAX_EXAMPLES
    from apprentice.clean.recipe import MISSING_RULES, Rule, coercions_from_counts

    rep = copy.deepcopy(fitted)
    counts = stats.counts
    rep.n_cells = int(counts.sum())
    rep.n_missing = int(sum(counts[r] for r in MISSING_RULES))
    rep.n_missing_in_source = int(counts[Rule.NULL] + counts[Rule.EMPTY])
    rep.markers = sorted(
        ({"token": t, "count": c} for t, c in stats.markers.items()),
        key=lambda m: (-int(m["count"]), str(m["token"])),
    )
    rep.coercions = coercions_from_counts(counts, stats.stripped)
    # most frequent first; ties in order of first appearance (as value_counts orders them)
    ranked = sorted(stats.unparseable.items(), key=lambda kv: kv[1][1])
    ranked.sort(key=lambda kv: -kv[1][0])
    rep.unparseable = [
        {"raw": text, "count": int(c), "rows": list(rows), "lines": list(lines)}
        for text, (c, _first, rows, lines) in ranked[:MAX_EXAMPLES]
    ]
    for s in rep.sentinels:
        hits = int(stats.sentinel_hits.get(float(s["value"]), 0))
        s["count"] = hits
        if "share" in s and stats.n_finite:
            s["share"] = round(hits / stats.n_finite, 6)
        reason = str(s.get("reason", ""))
        if reason.startswith("confirmed by the caller"):
            s["reason"] = f"confirmed by the caller ({hits} cells)"
        elif "; " in reason and stats.n_finite:
            s["reason"] = f"{hits} cells ({hits / stats.n_finite:.1%}); " + reason.split("; ", 1)[1]
    rep.notes = [n for n in rep.notes if "do not fit the column's type" not in n]
    if rep.coercions["unparseable"]:
        rep.notes.insert(
            0,
            f"{rep.coercions['unparseable']:,} cells do not fit the column's type ({kind}); "
            "they are missing in the cleaned table and their raw text is kept (see unparseable)",
        )
    if stats.unparseable_capped:
        rep.notes.append(
            "more distinct unparseable texts than a partition reports; the examples are the "
            "most frequent of each partition"
        )
    return rep


def _relearn_categories(
    recipe: Recipe, reports: list[ColumnReport], merged: list[_ColumnStats]
) -> bool:
    """Category columns with labels the sample missed learn their categories from the labels
    of every partition (what :func:`apprentice.clean.api.fit_frame` does with every cell)."""
    from apprentice.clean.categories import learn_categories
    from apprentice.clean.recipe import Rule

    changed = False
    for rec, rep, stats in zip(recipe.columns, reports, merged, strict=True):
        if rec.kind != "category" or not stats.counts[Rule.UNSEEN] or not stats.tokens:
            continue
        cs = learn_categories(
            list(stats.tokens), np.asarray(list(stats.tokens.values()), dtype=np.int64)
        )
        rec.categories = cs.categories
        rep.merges = list(cs.merges)
        rep.format["describe"] = f"{len(rec.categories)} categories"
        rep.format["n_categories"] = len(rec.categories)
        rep.format["categories"] = list(rec.categories[:50])
        rep.evidence.setdefault("decisions", []).append(
            "categories the sample missed were learned from every partition"
        )
        changed = True
    return changed


def _resolve(given: Iterable[str], to_clean: Mapping[str, str], what: str) -> list[str]:
    out = []
    for name in given:
        if name not in to_clean:
            raise ConfigError(
                f"{what}: column {name!r} is not in the table; choose among "
                + ", ".join(repr(c) for c in list(dict.fromkeys(to_clean.values()))[:30])
            )
        out.append(to_clean[name])
    return out


def clean_partitioned(
    table: PartitionedTable,
    *,
    client: Client,
    sample_rows: int = 100_000,
    seed: int = 0,
    type_hints: Mapping[str, str] | None = None,
    percent_as: str = "fraction",
    sentinels: Any = "flag",
    dayfirst: bool | None = None,
    target: str | None = None,
    keep: Iterable[str] = (),
    allow: Iterable[str] = (),
    pii_sample: int | None = None,
    phone_regions: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> PartitionedClean:
    """Fit the cleaning recipe on a sample, apply it to every partition, merge the ledger.

    ``sample_rows`` rows are drawn across the partitions (all rows when the table has no
    more); the options are :func:`apprentice.workflows.clean_file`'s. The returned frame is
    lazy: write it with :func:`write_partitioned` (or :meth:`PartitionedClean.write`).
    """
    from apprentice.clean.api import fit_frame
    from apprentice.clean.ledger import Ledger, TableReport
    from apprentice.config import get_settings
    from apprentice.guard import detect_pii, protection_plan, workspace_key
    from apprentice.guard.pii import DEFAULT_PHONE_REGIONS, DEFAULT_SAMPLE
    from apprentice.scale.cluster import compute

    if sample_rows < 1:
        raise ConfigError(f"sample_rows={sample_rows} must be at least 1")
    settings = settings or get_settings()
    frame = table.frame
    total = table.rows_kept
    originals: list[Any] = list(table.original_columns) or list(table.columns)
    if len(originals) != len(table.columns):
        originals = list(table.columns)
    if target is not None:
        names = [str(o).lstrip("\ufeff").strip() for o in originals]
        if target not in names and target not in [str(o) for o in originals]:
            raise TargetError(
                f"target column {target!r} is not in the table; its columns are "
                + ", ".join(repr(n) for n in names[:30])
            )
    # -- the sample, drawn across partitions, fitted in-process on the client
    sample = _as_text(sample_partitions(table, min(sample_rows, total), client=client, seed=seed))
    sample_lines = sample.index.to_numpy().astype(np.int64)
    sample = sample.reset_index(drop=True)
    if len(sample) == 0:
        from apprentice.errors import EmptyTableError

        raise EmptyTableError(
            f"{table.source}: the table has no data rows; a cleaning recipe needs at least one"
        )
    found = detect_pii(
        sample,
        sample=DEFAULT_SAMPLE if pii_sample is None else pii_sample,
        phone_regions=phone_regions or DEFAULT_PHONE_REGIONS,
    )
    fitted = fit_frame(
        sample,
        originals,
        type_hints=type_hints,
        percent_as=percent_as,
        sentinels=sentinels,
        dayfirst=dayfirst,
        lines=sample_lines,
        source=table.source,
    )
    recipe = fitted.recipe
    n_sample = len(sample)  # the rows actually drawn, as reported
    del sample
    # -- counts per partition on the workers, duplicates across partitions, merged exactly
    offsets = table.row_offsets
    stats = frame.map_partitions(_stats_series, recipe, offsets, meta=(None, object))
    dup_count, dup_examples = _duplicates_graph(frame, offsets)
    stats_by_part, n_dups, examples = compute(client, stats, dup_count, dup_examples)
    per_partition = [stats_by_part.loc[i] for i in sorted(stats_by_part.index)]
    merged = _merge_stats(per_partition, len(recipe.columns))
    if _relearn_categories(recipe, fitted.ledger.columns, merged):
        # as in-process: labels the sample missed are learned from every cell, then counted
        stats = frame.map_partitions(_stats_series, recipe, offsets, meta=(None, object))
        (stats_by_part,) = compute(client, stats)
        per_partition = [stats_by_part.loc[i] for i in sorted(stats_by_part.index)]
        merged = _merge_stats(per_partition, len(recipe.columns))
    reports = [
        _column_report(rep, stats, rec.kind)
        for rep, stats, rec in zip(fitted.ledger.columns, merged, recipe.columns, strict=True)
    ]
    treport = TableReport(n_rows=total, n_columns=len(recipe.columns))
    ex_rows = []
    if total >= 2 and int(n_dups):
        for _, r in examples.sort_values("row").iterrows():
            ex_rows.append(
                {
                    "row": int(r["row"]),
                    "same_as_row": int(r["first_row"]),
                    "line": int(r["line"]),
                    "same_as_line": int(r["first_line"]),
                }
            )
    treport.duplicate_rows = {
        "count": int(n_dups) if total >= 2 else 0,
        "examples": ex_rows,
        "action": "kept",
    }
    treport.renamed_columns = list(fitted.ledger.table.renamed_columns)
    for rep, stats in zip(reports, merged, strict=True):
        if rep.n_missing == rep.n_cells:
            treport.empty_columns.append(rep.name)
        elif len(stats.distinct) == 1:
            treport.constant_columns.append(rep.name)
    if target is not None:
        rec = recipe.column(target)
        trep = next(r for r in reports if r.name == rec.name)
        if trep.n_missing == trep.n_cells:
            raise TargetError(
                f"target column {target!r} has no values after cleaning (every cell is empty or "
                "a missing-value marker); choose another target"
            )
        if trep.n_missing:
            treport.notes.append(
                f"target {rec.name!r} is missing in {trep.n_missing:,} rows (kept; the train "
                "stage drops them)"
            )
    treport.notes.append(
        f"recipe fitted on {n_sample:,} of {total:,} rows drawn across {table.n_partitions} "
        "partition(s); every count in this ledger covers all rows"
    )
    ledger = Ledger(columns=reports, table=treport, source=table.source, recipe=recipe.to_dict())
    # -- PII: found on the sample, protected as in-process
    raw_names = [str(c) for c in table.columns]
    by_position = {raw_names[i]: reports[i].name for i in range(min(len(raw_names), len(reports)))}
    report = found
    if any(by_position.get(c, c) != c for c in found.columns_scanned):
        from apprentice.guard import PIIReport

        report = PIIReport(
            findings=[
                dataclasses.replace(f, column=by_position.get(f.column, f.column))
                for f in found.findings
            ],
            rows_scanned=found.rows_scanned,
            rows_total=total,
            columns_scanned=[by_position.get(c, c) for c in found.columns_scanned],
        )
    else:
        report.rows_total = total
    to_clean = {r.name: r.name for r in reports} | {str(r.original): r.name for r in reports}
    to_clean |= by_position
    plan = protection_plan(
        report, keep=_resolve(keep, to_clean, "keep"), allow=_resolve(allow, to_clean, "allow")
    )
    redacted = set(plan.redacted) | set(plan.pseudonymised)
    if redacted:
        ledger = ledger.redact(redacted)
    key = None
    if plan.pseudonymised:
        path = Path(table.source)
        key = workspace_key(settings, data_path=path if path.exists() else None)
    meta = _clean_part(frame._meta, recipe, plan, key)
    cleaned = frame.map_partitions(_clean_part, recipe, plan, key, meta=meta)
    return PartitionedClean(
        frame=cleaned,
        ledger=ledger,
        recipe=recipe,
        pii=report,
        protection=plan,
        table=table,
        sample_rows=n_sample,
        rows_total=total,
        seed=seed,
    )


# ---------------------------------------------------------------------------------------------
# writing


def _csv_part(part: pd.DataFrame, header: bool, recipe: Recipe | None = None) -> bytes:
    from apprentice.clean.output import csv_frame

    text = csv_frame(part, recipe).to_csv(index=False, header=header)
    return text.encode("utf-8")


def write_partitioned(
    frame: Any,
    out: str | Path,
    *,
    client: Client,
    kind: str | None = None,
    header: list[str] | None = None,
    recipe: Recipe | None = None,
) -> Path:
    """Write a Dask DataFrame to ONE file, partition by partition, atomically.

    ``kind`` is ``"parquet"`` (a single Parquet file, one row group per partition, with the
    first partition's schema), ``"csv"`` (one CSV file as ``DataFrame.to_csv`` writes it, as
    ``apprentice clean`` does in-process) or ``"text"`` (RFC 4180 CSV of text cells as
    :func:`apprentice.read.write_csv` writes it, ``header`` naming the columns, as
    ``apprentice read`` does); by default it follows the extension (``.parquet``/``.pq`` or
    ``.csv``; with the clean ``recipe``, its integer columns are written as integers). A
    single file rather than a folder of part files, so that the output is the
    same kind of file the in-process commands write. Partitions are computed on the workers,
    at most two at a time, and streamed to the file by the client, so memory stays at about
    two partitions and the workers need no file system shared with the client. The file is
    written under a temporary name in the same folder and renamed at the end: a failed job
    never leaves a file that looks complete.
    """
    from apprentice.scale.cluster import gather

    path = Path(out)
    suffix = path.suffix.lower()
    if kind is None:
        kind = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}.get(suffix)
    if kind not in ("parquet", "csv", "text"):
        raise ConfigError(
            f"output {str(path)!r}: unknown extension {suffix!r}; use .parquet or .csv"
        )
    if not path.parent.exists():
        raise InputError(f"output folder {str(path.parent)!r} does not exist; create it first")
    parts = frame.to_delayed()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    writer: Any = None
    pending: list[Any] = []
    try:
        pending = [client.compute(p) for p in parts[:2]]
        nxt = 2
        schema = None
        with tmp.open("wb") as fh:
            for i in range(len(parts)):
                part = gather(client, pending.pop(0))
                if nxt < len(parts):
                    pending.append(client.compute(parts[nxt]))
                    nxt += 1
                if kind != "parquet":
                    if kind == "text":
                        from apprentice.read import write_csv

                        buf = _text_csv(part, header, first=i == 0, write=write_csv)
                        fh.write(buf)
                    else:
                        fh.write(_csv_part(part, header=i == 0, recipe=recipe))
                    continue
                import pyarrow as pa
                import pyarrow.parquet as pq

                arrow = pa.Table.from_pandas(part, preserve_index=False)
                if schema is None:
                    schema = arrow.schema
                    writer = pq.ParquetWriter(fh, schema)
                else:
                    arrow = arrow.cast(schema)
                writer.write_table(arrow)
            if writer is not None:
                writer.close()
                writer = None
        if kind == "parquet" and schema is None:
            meta = frame._meta
            meta.to_parquet(tmp, index=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, path)
        pending = []
    finally:
        if pending:
            client.cancel(pending)  # a failed write stops the partitions still computing
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return path


def _text_csv(part: pd.DataFrame, header: list[str] | None, *, first: bool, write: Any) -> bytes:
    import io

    buf = io.StringIO()
    write(part, buf, header=header)
    text = buf.getvalue()
    if not first:
        text = text.split("\r\n", 1)[1] if "\r\n" in text else ""
    return text.encode("utf-8")
