"""``apprentice predict BUNDLE FILE -o OUT.csv``: batch predictions from raw rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from apprentice.cli._common import DaskOpt, JsonOpt, QuietOpt, emit_json, err_console
from apprentice.errors import ApprenticeError, BundleError, InputError


def predict_command(
    bundle: Annotated[
        str,
        typer.Argument(
            help="The model: a bundle directory, a run (folder, id or MLflow run id), or a "
            "registered model (NAME, NAME/VERSION, NAME@ALIAS, models:/...).",
            metavar="MODEL",
        ),
    ],
    file: Annotated[str, typer.Argument(help="Rows to predict (any format apprentice reads).")],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="CSV to write: prediction, proba_<class> (a path or s3://, gs://, az:// URL).",
        ),
    ],
    keep: Annotated[
        list[str] | None,
        typer.Option("--keep", help="Copy this input column into the output (e.g. an id)."),
    ] = None,
    allow_missing: Annotated[
        bool,
        typer.Option(
            "--allow-missing-columns",
            help="Predict even when FILE lacks columns the model uses (they are treated as "
            "missing in every row) or has columns the training file did not (ignored).",
        ),
    ] = False,
    dask: DaskOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Predict every row of FILE with a verified bundle; rows keep their order.

    FILE must have the columns the model uses, under the names of the training file:
    a missing or unknown column is an error (nothing is written) unless
    --allow-missing-columns is given.
    """
    import warnings

    from apprentice.bundle import InputWarning
    from apprentice.read import read, write_csv
    from apprentice.storage import check_writable, local_output

    check_writable(output)  # a missing bucket fails before any work
    model, shown = load_model(bundle)
    from apprentice.scale import resolve_address

    address = resolve_address(dask)
    if address is not None:
        _predict_on_cluster(
            model, shown, file, output, address, keep, allow_missing, json_out, quiet
        )
        return
    result = read(file)
    table = result.table
    check = _check_columns(model, table.columns, file, keep, allow_missing)
    affected = len(table) if check.missing else 0
    with warnings.catch_warnings():  # the values not read are reported below, once
        warnings.simplefilter("ignore", InputWarning)
        predictions = model.predict_frame(table, allow_missing_columns=allow_missing)
    for name in reversed(keep or []):
        predictions.insert(0, name, table[name].to_numpy())
    text = predictions.astype(object).where(predictions.notna(), None)
    text = text.map(lambda v: v if v is None or isinstance(v, str) else _fmt(v))
    with local_output(output) as local:  # a URL: uploaded once the file is complete
        write_csv(text.astype("str"), local)
    summary = {
        "bundle": shown,
        "rows": len(predictions),
        "quarantined": int(result.rows_quarantined),
        "output": str(output),
        "columns": list(predictions.columns),
        "missing_columns": list(check.missing),
        "unknown_columns": list(check.unknown),
        "rows_with_missing_columns": affected,
    }
    report = _value_report(model, table)
    unread, far = _unread_values(report), _far_values(report)
    summary["values_not_read"] = unread
    summary["values_far_outside_training_range"] = far
    if (check.missing or check.unknown) and not quiet:
        err_console.print(f"[yellow]warning:[/] {_affected(check, affected)}", soft_wrap=True)
    if unread and not quiet:
        err_console.print(f"[yellow]warning:[/] {_unread_line(unread, len(table))}", soft_wrap=True)
    if far and not quiet:
        err_console.print(f"[yellow]warning:[/] {_far_line(far, len(table))}", soft_wrap=True)
    if json_out:
        emit_json(summary)
        return
    if not quiet:
        err_console.print(f"{len(predictions):,} prediction(s) written to {output}")
        if result.rows_quarantined:
            err_console.print(
                f"[yellow]warning:[/] {result.rows_quarantined:,} malformed row(s) were "
                "quarantined by the reader and have no prediction"
            )


def load_model(ref: str) -> tuple[Any, str]:
    """The bundle ``ref`` names and how to show it: a bundle folder, or anything that
    ``apprentice compare`` resolves (a run folder, run id or MLflow run id; a registered
    ``NAME``, ``NAME/VERSION``, ``NAME@ALIAS`` or ``models:/...``)."""
    from apprentice.bundle import load_bundle
    from apprentice.config import get_settings
    from apprentice.storage import is_url
    from apprentice.workflows.compare import resolve
    from apprentice.workflows.run import RECORD, RunNotFoundError

    text = ref.strip()
    if is_url(text):  # a bundle folder in object storage (downloaded, then verified)
        return load_bundle(text), text
    path = Path(text).expanduser()
    if path.is_dir() and not (path / RECORD).is_file():
        return load_bundle(path), text
    try:
        contender = resolve(text, settings=get_settings())
    except RunNotFoundError as exc:
        raise BundleError(
            f"no bundle folder at {text}, and {exc.message}; pass the folder apprentice "
            "train --out wrote, a run id, or a registered model (NAME, NAME@ALIAS, NAME/VERSION)"
        ) from None
    return contender.bundle, contender.label


def _affected(check: Any, rows: int) -> str:
    parts = []
    if check.missing:
        parts.append(
            f"{rows:,} row(s) were predicted without "
            + ", ".join(f"'{c}'" for c in check.missing)
            + " (treated as missing)"
        )
    if check.unknown:
        parts.append(
            f"{len(check.unknown)} unknown column(s) were ignored: "
            + ", ".join(f"'{c}'" for c in check.unknown)
        )
    return "; ".join(parts)


def _unread_values(report: Any) -> dict[str, dict[str, Any]]:
    """Per column, the cells the recipe could not use (unreadable values, new missing-value
    markers, unseen categories): counts and a few examples, for the warning and --json."""
    if report is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for column, info in report.columns.items():
        counts = {
            k: int(info.get(k, 0)) for k in ("unparseable", "new_markers", "unseen_categories")
        }
        examples = [e["raw"] for e in info.get("examples", []) if not e.get("far")]
        if any(counts.values()):
            out[column] = {**counts, "examples": examples[:3]}
    return out


def _value_report(model: Any, table: Any) -> Any:
    """The bundle's value report, with the numeric training ranges of its reference profile
    (a bundle without a profile: no range check)."""
    if not hasattr(model, "value_report"):
        return None
    ranges: dict[str, tuple[float, float]] = {}
    try:
        from apprentice.monitor.profile import load_profile

        features = load_profile(model).get("features", {})
    except (ApprenticeError, OSError, ValueError):  # no profile: the check is skipped
        features = {}
    for name, ref in features.items():
        if (
            ref.get("kind") == "numeric"
            and ref.get("min") is not None
            and ref.get("max") is not None
        ):
            ranges[str(name)] = (float(ref["min"]), float(ref["max"]))
    return model.value_report(table, ranges) if ranges else model.value_report(table)


def _far_values(report: Any) -> dict[str, dict[str, Any]]:
    """Per numeric column, the values far outside the training range (count, range, a few
    examples): the model extrapolates there."""
    if report is None:
        return {}
    return {
        column: {
            "count": int(info["far_outside_range"]),
            "range": info["range"],
            "examples": [e["raw"] for e in info.get("examples", []) if e.get("far")][:3],
        }
        for column, info in report.columns.items()
        if info.get("far_outside_range")
    }


def _far_line(far: dict[str, dict[str, Any]], rows: int) -> str:
    parts = [
        f"'{column}' {info['count']:,} of {rows:,} (e.g. "
        + ", ".join(repr(e) for e in info["examples"])
        + f"; training {info['range'][0]:,.6g} to {info['range'][1]:,.6g})"
        for column, info in far.items()
    ]
    return (
        "some values lie far outside the training range, where the model extrapolates: "
        + "; ".join(parts)
        + " (check their units and typos)"
    )


def _unread_line(unread: dict[str, dict[str, Any]], rows: int) -> str:
    parts = []
    for column, info in unread.items():
        n = info["unparseable"] + info["new_markers"] + info["unseen_categories"]
        what = (
            "not readable as in training"
            if info["unparseable"] or info["new_markers"]
            else "categories not seen in training"
        )
        examples = ", ".join(repr(e) for e in info["examples"])
        parts.append(f"'{column}' {n:,} of {rows:,} ({what}; e.g. {examples})")
    return (
        "some values were treated as missing by the model: "
        + "; ".join(parts)
        + " (write them as the training file did)"
    )


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _predict_on_cluster(
    model: Any,
    bundle: str,
    file: str,
    output: str,
    address: str,
    keep: list[str] | None,
    allow_missing: bool,
    json_out: bool,
    quiet: bool,
) -> None:
    """Partition by partition on the Dask workers; the output written in row order. The
    columns are checked against the input contract before any row is predicted."""
    from apprentice.scale import connect, predict_partitioned, read_partitioned
    from apprentice.storage import local_input, local_output

    with connect(address) as client, local_input(file) as local_file:
        assert client is not None  # an address was given
        table = read_partitioned(str(local_file), client=client)
        check = _check_columns(model, table.columns, file, keep, allow_missing)
        with local_output(output) as local:
            summary = predict_partitioned(
                model,
                table.frame,
                local,
                client=client,
                keep=keep,
                allow_missing_columns=allow_missing,
            )
        summary["output"] = output
    summary["bundle"] = bundle
    summary["quarantined"] = int(table.rows_quarantined)
    summary["missing_columns"] = list(check.missing)
    summary["unknown_columns"] = list(check.unknown)
    summary["rows_with_missing_columns"] = summary["rows"] if check.missing else 0
    if (check.missing or check.unknown) and not quiet:
        err_console.print(
            f"[yellow]warning:[/] {_affected(check, summary['rows_with_missing_columns'])}",
            soft_wrap=True,
        )
    if json_out:
        emit_json(summary)
    elif not quiet:
        err_console.print(
            f"{summary['rows']:,} prediction(s) written to {output} "
            f"({summary['partitions']} partition(s) on {address})"
        )
        if summary["quarantined"]:
            err_console.print(
                f"[yellow]warning:[/] {summary['quarantined']:,} malformed row(s) were "
                "quarantined by the reader and have no prediction"
            )


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_command)


def _check_columns(
    model: Any, columns: Any, file: str | Path, keep: list[str] | None, allow_missing: bool
) -> Any:
    """The file's columns against the bundle's input contract (both paths, before any row is
    predicted): a missing or unknown column is an error unless ``--allow-missing-columns``."""
    from apprentice.errors import ConfigError

    for name in keep or []:
        if name not in columns:
            raise ConfigError(f"--keep column '{name}' is not in {file}; nothing was written")
    check = model.check_columns(columns, ignore=keep or [])
    if not check.ok and not allow_missing:
        raise InputError(
            f"{file} {check.describe()}. Rename the columns as in the training file, or pass "
            "--allow-missing-columns to predict anyway (missing columns count as missing "
            "values, unknown ones are ignored); nothing was written"
        )
    return check
