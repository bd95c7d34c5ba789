"""Batch scoring partition by partition on Dask workers, written in row order, atomically.

The bundle is not pickled to the workers: each worker loads it once from its directory
(verified against the manifest's SHA-256 like every load) and keeps it, so the bundle's
directory must be readable at the same path on the workers (true for a LocalCluster and a
shared file system). The output is written on the client as the partitions come back, in
their order, under a temporary name that is renamed only when every partition is in: a job
that fails leaves no file that looks complete.
"""

from __future__ import annotations

import csv
import functools
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

#: bytes of the source file per partition
BLOCKSIZE = 64 * 2**20


@functools.lru_cache(maxsize=4)
def _worker_bundle(path: str, manifest_sha: str) -> Any:
    """The bundle at ``path``, loaded once per worker process (``manifest_sha`` keys the
    cache, so a rewritten bundle is loaded again)."""
    del manifest_sha
    from apprentice.bundle import load_bundle

    return load_bundle(path)


def _bundle_key(bundle: Any) -> tuple[str, str]:
    import hashlib

    root = Path(bundle.path).resolve()
    manifest = root / "manifest.json"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else ""
    return str(root), digest


def _read_parts(source: Any, client: Any, blocksize: int = BLOCKSIZE) -> tuple[list[Any], int]:
    """The partitions of ``source`` as Dask delayed objects (or pandas frames as given) and
    the number of rows the reader quarantined: a CSV or Parquet path read as text cells by
    :func:`apprentice.scale.read_partitioned` (by Dask's own readers without a client), a
    Dask DataFrame, or a list of pandas frames."""
    if isinstance(source, list):
        return list(source), 0
    if isinstance(source, str | Path):
        if client is not None:
            from apprentice.scale.partitions import read_partitioned

            table = read_partitioned(str(source), client=client, blocksize=blocksize)
            return list(table.frame.to_delayed()), table.rows_quarantined
        import dask.dataframe as dd

        path = Path(source)
        with path.open("rb") as fh:
            parquet = fh.read(4) == b"PAR1"
        if parquet:
            source = dd.read_parquet(str(path)).astype(str)
        else:
            source = dd.read_csv(
                str(path),
                dtype=str,
                keep_default_na=False,
                blocksize=blocksize,
                skipinitialspace=True,
            )
    return list(source.to_delayed()), 0


def prediction_text(predictions: pd.DataFrame) -> pd.DataFrame:
    """Predictions as the text cells ``apprentice predict`` writes (floats in full)."""
    text = predictions.astype(object).where(predictions.notna(), None)
    return text.map(lambda v: v if v is None or isinstance(v, str) else _fmt(v))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _score(
    key: tuple[str, str], part: pd.DataFrame, keep: list[str], allow_missing: bool
) -> pd.DataFrame:
    import warnings

    from apprentice.bundle import InputWarning

    bundle = _worker_bundle(*key)
    if len(part) == 0:
        return pd.DataFrame()
    part = part.reset_index(drop=True)
    with warnings.catch_warnings():  # a worker's warnings reach no one: the caller reports
        warnings.simplefilter("ignore", InputWarning)
        predictions = bundle.predict_frame(part, allow_missing_columns=allow_missing)
    for name in reversed(keep):
        predictions.insert(0, name, part[name].to_numpy())
    return predictions


def predict_partitioned(
    bundle: Any,
    source: Any,
    out: str | Path,
    *,
    client: Any,
    keep: list[str] | None = None,
    blocksize: int = BLOCKSIZE,
    allow_missing_columns: bool = False,
) -> dict[str, Any]:
    """Score every row of ``source`` (a CSV or Parquet path, a Dask DataFrame of raw text
    cells, or a list of pandas frames) with ``bundle`` on the workers of ``client``, and
    write the predictions to ``out`` (CSV, header once, or Parquet when it ends in
    ``.parquet``), rows in the source's order; ``keep`` copies input columns (an id) in
    front; ``allow_missing_columns`` predicts rows that lack a column the model uses (it is
    missing in every row) instead of failing. A worker lost mid-job raises
    :class:`~apprentice.errors.ClusterError` and leaves no file at ``out``."""
    import dask

    from apprentice.scale.cluster import gather

    key = _bundle_key(bundle)
    parts, quarantined = _read_parts(source, client, blocksize)
    tasks = [dask.delayed(_score)(key, part, keep or [], allow_missing_columns) for part in parts]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    futures: list[Any] = tasks if client is None else client.compute(tasks)

    def results() -> Any:  # in the source's order, each forgotten by the cluster once here
        for i, future in enumerate(futures):
            if client is None:
                part = future.compute(scheduler="sync")
            else:
                part = gather(client, future)
                futures[i] = None
            if part.shape[1]:
                yield part

    try:
        if out.suffix.lower() == ".parquet":
            rows, columns = _write_parquet(results(), temp, bundle)
        else:
            rows, columns = _write_csv(results(), temp, bundle)
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        if client is not None:
            client.cancel([f for f in futures if f is not None])
        raise
    return {
        "rows": rows,
        "quarantined": quarantined,
        "output": str(out),
        "partitions": len(tasks),
        "columns": columns,
    }


def _write_csv(parts: Any, path: Path, bundle: Any) -> tuple[int, list[str]]:
    rows = 0
    columns: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        for part in parts:
            if not columns:
                columns = [str(c) for c in part.columns]
                writer.writerow(columns)
            text = prediction_text(part)
            cells = [text.iloc[:, j].fillna("").astype(str).tolist() for j in range(len(columns))]
            writer.writerows(zip(*cells, strict=True))
            rows += len(part)
        if not columns:
            columns = _columns(bundle)
            writer.writerow(columns)
    return rows, columns


def _write_parquet(parts: Any, path: Path, bundle: Any) -> tuple[int, list[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    writer: Any = None
    try:
        for part in parts:
            table = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += len(part)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        columns = _columns(bundle)
        pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), str(path))
        return 0, columns
    return rows, [str(n) for n in writer.schema.names]


def _columns(bundle: Any) -> list[str]:
    if bundle.task == "regression":
        return ["prediction"]
    return ["prediction", *(f"proba_{c}" for c in bundle.classes or [])]
