"""``apprentice monitor``: drift, data quality and performance against the reference profile.

Exit code 0 when all is fine, 1 on an alert, 2 on an error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from apprentice.cli._common import (
    DaskOpt,
    DbUrlOpt,
    JsonOpt,
    ModelArg,
    PolicyOpt,
    QuietOpt,
    emit_json,
    err_console,
    one_model,
    out_console,
)


def load_model(ref: str) -> Any:
    """A bundle directory, or a registered model (``NAME``, ``NAME@ALIAS``, ``NAME/VERSION``)."""
    from apprentice.bundle import load_bundle
    from apprentice.storage import is_url

    if is_url(ref) or Path(ref).is_dir():  # a folder, or a bundle in object storage
        return load_bundle(ref)
    from apprentice.track import resolve_model

    return resolve_model(ref).load()


def monitor_command(
    model_arg: ModelArg = None,
    model_opt: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="A bundle directory or a registered model (NAME[@ALIAS])."
        ),
    ] = None,
    current: Annotated[
        str | None,
        typer.Option(
            "--current", help="Current rows (any file apprentice reads, or an s3:// URL)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Use the prediction log of the last period (e.g. 7d, 12h)."),
    ] = None,
    db_url: DbUrlOpt = None,
    policy_file: PolicyOpt = None,
    time_column: Annotated[
        str | None,
        typer.Option("--time-column", help="A timestamp column: performance per time window."),
    ] = None,
    window: Annotated[str, typer.Option("--window", help="Window length, e.g. 1D, 1h.")] = "1D",
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write the monitoring page here.")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="POST the JSON result here on alert.")
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(
            "--export",
            help="With --since: also write the logged rows checked (request fields, "
            "__logged_at, __latency_ms, the label when fed back) to this CSV or .parquet "
            "file, or an s3:// URL.",
        ),
    ] = None,
    retrain_on_alert: Annotated[
        bool,
        typer.Option(
            "--retrain-on-alert",
            help="On an alert, run apprentice retrain on the labelled current rows (--current) "
            "or on the logged rows that got feedback (--since).",
        ),
    ] = False,
    dask: DaskOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Compare current data with the model's reference: exit 0 fine, 1 alert, 2 error."""
    from apprentice.errors import ApprenticeError, ConfigError

    payload_export: dict[str, object] = {}
    try:
        model = one_model(model_arg, model_opt, "monitor")
        from apprentice.monitor import check, load_policy
        from apprentice.monitor.alert import post_webhook

        if (current is None) == (since is None):
            raise ConfigError("pass exactly one of --current FILE or --since PERIOD")
        if export is not None and since is None:
            raise ConfigError("--export writes the prediction log's rows: use it with --since")
        if export is not None:
            from apprentice.storage import check_writable

            check_writable(export)  # a missing bucket is refused before any work
        policy = load_policy(policy_file)
        bundle = load_model(model)
        if current is not None:
            result = _check_file(bundle, current, policy, time_column, window, dask)
        else:
            from apprentice.monitor.log import read_log

            assert since is not None
            raw = read_log(db_url, since, bundle)
            if export is not None:
                _export_log(raw, export)
                payload_export = {"export": export, "rows": len(raw)}
            time_column = time_column or "__logged_at"
            result = check(bundle, raw, policy=policy, time_column=time_column, window=window)
        payload = result.to_dict()
        payload["model"] = model
        if export is not None:
            payload["export"] = payload_export
        hook = webhook or policy.alert.webhook
        if result.alerts and hook:
            failed = post_webhook(hook, payload)
            payload["webhook"] = {"url_set": True, "delivered": failed is None, "error": failed}
        if html_out is not None:
            from apprentice.monitor.dashboard import monitor_html

            html_out.parent.mkdir(parents=True, exist_ok=True)
            html_out.write_text(monitor_html(payload), encoding="utf-8")
        if result.alerts and retrain_on_alert:
            payload["retrain"] = _retrain(model, current, db_url, quiet=quiet or json_out)
    except ApprenticeError as exc:
        err_console.print(f"error: {exc.message}")
        raise typer.Exit(2) from None
    except Exception as exc:  # exit 2 on any failure: 1 means an alert, never a crash
        err_console.print(f"error: monitoring failed ({type(exc).__name__}: {exc})")
        raise typer.Exit(2) from None
    if json_out:
        emit_json(payload)
    elif not quiet:
        _print(payload)
    raise typer.Exit(1 if result.alerts else 0)


def _check_file(
    bundle: Any,
    current: str,
    policy: Any,
    time_column: str | None,
    window: str,
    dask: str | None,
) -> Any:
    """The file chunk by chunk in this process (memory bounded by the chunk), or partition
    by partition on a Dask cluster."""
    from apprentice.scale import resolve_address
    from apprentice.storage import local_input

    address = resolve_address(dask)
    with local_input(current) as local:  # a storage URL: a local copy, removed afterwards
        if address is None:
            from apprentice.monitor.partial import check_chunks, iter_chunks

            return check_chunks(
                bundle,
                iter_chunks(str(local)),
                policy=policy,
                time_column=time_column,
                window=window,
            )
        from apprentice.scale import connect, monitor_partitioned

        with connect(address) as client:
            return monitor_partitioned(
                bundle,
                Path(local),
                client=client,
                policy=policy,
                time_column=time_column,
                window=window,
            )


def _retrain(model: str, current: str | None, db_url: str | None, *, quiet: bool) -> dict[str, Any]:
    """The labelled current file, or (with --since) the log's rows that got feedback."""
    from apprentice.workflows.retrain import retrain

    say = None if quiet else err_console.print
    if current is not None:
        return retrain(model, data=current, progress=say).to_dict()
    return retrain(model, from_feedback=True, db_url=db_url, progress=say).to_dict()


def _print(payload: dict[str, Any]) -> None:
    status = payload["status"]
    colour = "red" if status == "alert" else "green"
    out_console.print(f"[bold {colour}]{status}[/]: {payload['rows']:,} rows checked")
    for alert in payload["alerts"]:
        out_console.print(f"  [red]![/] {alert['check']}: {alert['message']}")
    drifted = [c for c in payload["drift"]["columns"] if c["drifted"]]
    out_console.print(
        f"drift score {payload['drift']['score']:.3f}; drifted columns: "
        + (", ".join(c["column"] for c in drifted) or "none")
    )
    est = payload.get("estimated_performance")
    if est:
        low, high = est["accuracy_interval"]
        out_console.print(
            f"estimated accuracy without labels (CBPE): {est['accuracy']:.3f} "
            f"[{low:.3f}, {high:.3f}], reference {_fmt3(est.get('reference_accuracy'))}; "
            "assumes the calibration still holds (no concept drift)"
        )
    perf = payload.get("performance")
    if perf:
        for line in _performance_lines(perf):
            out_console.print(line, markup=False, highlight=False)
    sys.stdout.flush()


def _performance_lines(perf: dict[str, Any]) -> list[str]:
    """The whole batch's performance test, then each window that fired (or that none did)."""
    metric = perf["metric"]
    windows = perf["windows"]
    whole = perf.get("overall") or windows[0]

    def said(w: dict[str, Any]) -> str:
        text = f"{w[metric]:.3f} [{w['low']:.3f}, {w['high']:.3f}]"
        if w.get("association") is not None:
            text += f", rank correlation with the labels {w['association']:.3f}"
        if w.get("p_value") is not None:
            text += f", p = {w['p_value']:.2g}"
        if w.get("fired"):
            text += f": worse ({', '.join(w['fired'])})"
        elif w.get("level") is not None:
            text += f": not worse at level {w['level']:.2g}"
        return text

    of = f" (holdout of {perf['reference_rows']:,} rows)" if perf.get("reference_rows") else ""
    lines = [
        f"{metric} with labels, all {whole['rows']:,} labelled rows: {said(whole)}; "
        f"reference {_fmt3(perf['reference'])}{of}"
    ]
    if len(windows) > 1:
        fired = [w for w in windows if w.get("alert")]
        lines += [f"  window {w['window']} ({w['rows']:,} rows): {said(w)}" for w in fired]
        if not fired:
            lines.append(f"  none of the {len(windows)} windows is worse than the reference")
    return lines


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor_command)


def _export_log(raw: Any, export: str) -> None:
    """The logged rows (as the server protected them) to CSV or Parquet, local or a URL;
    the file appears only once complete. Request fields are text (as sent), the time and
    latency keep their types in Parquet."""
    from apprentice.read import write_csv
    from apprentice.storage import local_output

    frame = raw.copy()
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = (
                frame[name]
                .map(lambda v: v if v is None or isinstance(v, str) else str(v))
                .astype("str")
            )
    with local_output(export) as local:
        if str(export).lower().endswith(".parquet"):
            frame.to_parquet(local, index=False)
        else:
            write_csv(frame.astype("str").where(frame.notna(), None), local)


def _fmt3(value: Any) -> str:
    """A metric as printed beside its three-decimal estimate (``n/a`` when absent)."""
    return f"{value:.3f}" if isinstance(value, int | float) else "n/a"
