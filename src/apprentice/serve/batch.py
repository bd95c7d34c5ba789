"""``POST /predict/batch``: a CSV or JSON-lines upload in, one prediction per row out, streamed.

The upload is spooled (in memory up to 8 MB, then to a temporary file) so that memory stays
bounded whatever the file's size and so that clients that send the whole body before
reading the answer never dead-lock; the answer is then produced and sent a chunk of rows at
a time (the bundle's column-wise path, off the event loop), in the upload's format:

* CSV (``text/csv``; the delimiter is detected from the header; columns that are not in
  the training file, such as an id or the target, are ignored): ``row, request_id,
  prediction, proba_<class>..., warnings, error`` (``warnings``: ``column: type`` items
  separated by ``; ``);
* JSON lines (``application/x-ndjson``): one object per line, ``{"row", "request_id",
  "prediction", "probabilities", "warnings"}`` or ``{"row", "error"}``.

A malformed row gets an error in its output row (never its values) and the others go on:
a row with more or fewer fields than the header, a cell over the text limit, bytes that are
not UTF-8, a row with no usable value in any column the model uses, and with ``strict`` any
row with a warning (see :class:`~apprentice.serve.schema.InputContract`). Every prediction
is logged like those of ``POST /predict``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from apprentice.serve.schema import (
    STRICT_ERROR,
    UNICODE_MESSAGE,
    has_surrogates,
    strict_from_query,
)

if TYPE_CHECKING:
    from apprentice.serve.app import Service

SPOOL_BYTES = 8 * 1024 * 1024
LOG_HIGH_WATER = 200_000
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
JSONL_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/json-lines",
        "application/jsonlines",
    }
)
_BINARY = {"schema": {"type": "string", "format": "binary"}}
BATCH_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CSV file with a header row (the training file's column names) or "
        "JSON lines (one record per line).",
        "content": {"text/csv": _BINARY, "application/x-ndjson": _BINARY},
    }
}


def _json(status: int, payload: Any) -> Any:
    from fastapi.responses import Response

    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


async def batch_response(service: Service, request: Any) -> Any:
    from fastapi.responses import StreamingResponse

    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in CSV_TYPES:
        fmt = "csv"
    elif content_type in JSONL_TYPES:
        fmt = "jsonl"
    else:
        return _json(
            415,
            {
                "detail": "send a CSV file (Content-Type: text/csv) or JSON lines "
                "(Content-Type: application/x-ndjson)"
            },
        )
    strict = strict_from_query(request.scope.get("query_string", b""))
    if strict is None:
        return _json(422, {"detail": [STRICT_ERROR]})
    strict = strict or service.options.strict
    limit = service.options.max_batch_bytes
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed below
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                spool.close()
                return _json(
                    413,
                    {
                        "detail": f"the upload is larger than the batch limit of "
                        f"{limit / 2**20:g} MB; split the file"
                    },
                )
            spool.write(chunk)
        spool.seek(0)
        # bytes that are not UTF-8 become lone surrogates: the rows holding them are refused
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", errors="surrogateescape", newline="")
        if fmt == "csv":
            first = text.readline()
            text.seek(0)
            _allow_long_fields()
            reader = csv.reader(text, delimiter=_delimiter(first))
            try:
                header = [h.strip() for h in next(reader, None) or []]
            except csv.Error:
                header = []
            if any(has_surrogates(h) or len(h) > service.options.max_text for h in header):
                spool.close()
                return _json(
                    422,
                    {
                        "detail": "the CSV header is not valid UTF-8 text or has a name over "
                        f"{service.options.max_text:,} characters"
                    },
                )
            rows = _csv_rows(reader, header, service.options.max_text)
            media = "text/csv"
        else:
            rows = _jsonl_rows(text, service)
            media = "application/x-ndjson"
    except BaseException:
        spool.close()
        raise
    stream = _stream(service, rows, fmt, text, bool(strict))
    return StreamingResponse(stream, media_type=media)


def _allow_long_fields() -> None:
    """Let the csv module read cells of any length (as the read stage does): a long cell is
    then refused in its own row instead of ending the parse, which silently lost the rows
    after it."""
    limit = min(sys.maxsize, 2**31 - 1)
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _csv_rows(reader: Any, header: list[str], max_text: int) -> Any:
    if not header:
        return
    width = len(header)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte: the row is refused, the rest goes on
            yield number, None, f"not a CSV row ({_csv_reason(exc)})"
            continue
        if not cells or (len(cells) == 1 and cells[0] == "" and width > 1):
            continue  # a blank line
        if len(cells) != width:
            yield number, None, f"expected {width} fields, found {len(cells)}"
            continue
        if any(len(c) > max_text for c in cells):
            yield number, None, f"a cell is longer than the limit of {max_text:,} characters"
            continue
        if any(has_surrogates(c) for c in cells if not c.isascii()):
            yield number, None, "not valid UTF-8 text"
            continue
        yield number, dict(zip(header, cells, strict=True)), None


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    return "a NUL byte" if "NUL" in text else "malformed quoting or delimiters"


def _jsonl_rows(text: Any, service: Service) -> Any:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        if not line.isascii() and has_surrogates(line):
            yield number, None, "not valid UTF-8 text"
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:  # integers beyond 64 bits and escaped lone surrogates, which orjson refuses
                obj = json.loads(line)
            except (ValueError, RecursionError):
                yield number, None, "not valid JSON"
                continue
            if service.validator.unicode(obj, [number]):
                yield number, None, UNICODE_MESSAGE
                continue
        errors: list[dict[str, Any]] = []
        service.validator.record(obj, [number], errors)
        if errors:
            yield (
                number,
                None,
                "; ".join(
                    f"{e['loc'][-1]}: {e['msg']}" if len(e["loc"]) > 1 else e["msg"]
                    for e in errors[:5]
                ),
            )
            continue
        yield number, obj, None


async def _stream(
    service: Service, rows: Any, fmt: str, text: Any, strict: bool
) -> AsyncIterator[bytes]:
    import anyio

    chunk_rows = service.options.batch_chunk_rows
    base = uuid.uuid4().hex
    proba_cols = [f"proba_{c}" for c in service.class_keys] if service.classification else []
    try:
        if fmt == "csv":
            yield _csv_line(["row", "request_id", "prediction", *proba_cols, "warnings", "error"])
        while True:
            chunk = []
            for item in rows:
                chunk.append(item)
                if len(chunk) >= chunk_rows:
                    break
            if not chunk:
                return
            log = service.log
            while log is not None and log.pending > LOG_HIGH_WATER:
                await asyncio.sleep(0.05)
            results = await anyio.to_thread.run_sync(_predict_chunk, service, chunk, base, strict)
            # a row's answer leaves only once its log row is committed (as for /predict): a
            # kill at any moment loses no prediction a client has received
            await service.logged()
            yield _render(results, fmt, len(proba_cols))
    finally:
        text.close()


def _predict_chunk(service: Service, chunk: list[Any], base: str, strict: bool) -> list[Any]:
    import numpy as np
    import pandas as pd

    good = [(n, rec) for n, rec, err in chunk if err is None]
    outputs: list[Any] = []
    typed_rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    if good:
        frame = pd.DataFrame([rec for _, rec in good])
        out, typed = service.compiled.predict_frame(frame)
        outputs = list(out)
        typed_rows = typed.to_dict("records")
    latency = (time.perf_counter() - start) * 1000.0 / max(len(good), 1)
    now = time.time()
    by_row: dict[int, Any] = {}
    refused: dict[int, str] = {}
    contract = service.contract
    for (number, record), output, typed_row in zip(good, outputs, typed_rows, strict=True):
        errors: list[dict[str, Any]] = []
        warnings = contract.check(record, typed_row, strict=strict, loc=[], errors=errors)
        if errors:
            refused[number] = "; ".join(
                f"{e['loc'][-1]}: {e['msg']}" if e["loc"] else e["msg"] for e in errors[:5]
            )
            continue
        rid = f"{base}-{number}"
        item, label, probs = service._item(np.asarray(output), rid)
        item["warnings"] = warnings
        by_row[number] = item
        if service.log is not None:
            service.log.add((rid, now, "batch", record, typed_row, label, probs, latency))
    results = []
    for number, _rec, err in chunk:
        results.append((number, by_row.get(number), err or refused.get(number)))
    return results


def _csv_line(cells: list[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue().encode("utf-8")


def _render(results: list[Any], fmt: str, n_proba: int) -> bytes:
    if fmt == "jsonl":
        lines = []
        for number, item, err in results:
            if item is None:
                lines.append(orjson.dumps({"row": number, "error": err}))
            else:
                lines.append(orjson.dumps({"row": number, **item}))
        return b"\n".join(lines) + b"\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for number, item, err in results:
        if item is None:
            writer.writerow([number, "", "", *[""] * n_proba, "", err])
            continue
        probs = list((item["probabilities"] or {}).values())
        warned = "; ".join(f"{w['field'] or '*'}: {w['type']}" for w in item["warnings"])
        writer.writerow(
            [number, item["request_id"], item["prediction"], *[repr(p) for p in probs], warned, ""]
        )
    return buf.getvalue().encode("utf-8")
