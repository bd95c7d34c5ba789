"""``apprentice serve [MODEL]``: the prediction API of a bundle or a registered model."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console


def serve_command(
    model: Annotated[
        str | None,
        typer.Argument(
            help="A bundle directory, a registry name (alias 'champion') or models:/NAME@ALIAS."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; non-loopback needs an API key.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url",
            help="Prediction log database (default: SQLite in the workspace), e.g. "
            "postgresql+psycopg://user@host/db.",
        ),
    ] = None,
    api_key_env: Annotated[
        str,
        typer.Option("--api-key-env", help="Environment variable holding the API key."),
    ] = "APPRENTICE_API_KEY",
    unknown_fields: Annotated[
        str,
        typer.Option("--unknown-fields", help="'reject' unknown request fields (422) or 'ignore'."),
    ] = "reject",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse (422) any record with a contract warning: missing fields, unreadable "
            "values, unseen categories, values out of the training range.",
        ),
    ] = False,
    max_body_mb: Annotated[
        float, typer.Option("--max-body-mb", help="Largest request body (413 above).")
    ] = 10.0,
    grace: Annotated[
        float,
        typer.Option("--grace", help="Seconds running requests get to finish on SIGTERM."),
    ] = 30.0,
    follow_interval: Annotated[
        float,
        typer.Option(
            "--follow-interval",
            help="Serving a registry name or NAME@ALIAS: seconds between registry checks; "
            "when the alias moves the server loads, verifies and swaps to the new version "
            "(0: never).",
        ),
    ] = 5.0,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Print one line per request (no bodies).")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Also run the watch loop of this registered model in the server (as "
            "apprentice watch does); the server swaps to what it promotes.",
        ),
    ] = False,
    watch_every: Annotated[
        str, typer.Option("--watch-every", help="--watch: time between scheduled checks.")
    ] = "15m",
    watch_min_feedback: Annotated[
        int,
        typer.Option("--watch-min-feedback", help="--watch: new labels that trigger a check."),
    ] = 200,
    watch_poll: Annotated[
        str, typer.Option("--watch-poll", help="--watch: time between looks at the labels.")
    ] = "30s",
    watch_retrain_budget: Annotated[
        float | None,
        typer.Option(
            "--watch-retrain-budget",
            help="--watch: seconds a retrain may take (default: the champion's time budget, "
            "else 3 x its training time, at least 60).",
        ),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Serve MODEL as an HTTP API (POST /predict, /predict/batch, /feedback; GET /docs)."""
    from contextlib import nullcontext

    from apprentice.config import get_settings
    from apprentice.serve.log import _redact, default_url
    from apprentice.serve.run import serve

    settings = get_settings()
    log_url = db_url or settings.database_url or default_url(settings.workspace)
    loop: AbstractContextManager[object] = nullcontext()
    if watch:
        loop = _watch_loop(
            model, log_url, every=watch_every, min_feedback=watch_min_feedback,
            poll=watch_poll, follow_interval=follow_interval, quiet=quiet or json_out,
            retrain_budget=watch_retrain_budget,
        )  # fmt: skip

    def ready(address: str) -> None:
        if json_out:  # one document on stdout when the server is up, for scripts that start it
            emit_json(
                {
                    "address": address,
                    "docs": f"{address}/docs",
                    "workers": workers,
                    "prediction_log": _redact(log_url),
                }
            )
        elif not quiet:
            err_console.print(
                f"serving on [bold]{address}[/] ({workers} worker(s)); docs at {address}/docs; "
                f"prediction log: {_redact(log_url)}; stop with Ctrl+C or SIGTERM"
            )

    with loop:
        serve(
            model,
            host=host,
            port=port,
            workers=workers,
            database_url=db_url,
            api_key_env=api_key_env,
            unknown_fields=unknown_fields,
            strict=strict,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            grace_period=grace,
            access_log=access_log,
            log_level="warning" if quiet or json_out or not access_log else "info",
            settings=settings,
            on_ready=ready,
            follow_interval=follow_interval,
        )


def _watch_loop(
    model: str | None,
    log_url: str,
    *,
    every: str,
    min_feedback: int,
    poll: str,
    follow_interval: float,
    quiet: bool,
    retrain_budget: float | None = None,
) -> AbstractContextManager[object]:
    """``serve --watch``: the watch loop on a thread of the server process, its lock taken now
    (a model that cannot be watched, or a loop already running, stops the server starting)."""
    from apprentice.cli.watch import parse_duration
    from apprentice.errors import ConfigError
    from apprentice.workflows.watch import Cycle, WatchOptions, background_watch

    if model is None:
        raise ConfigError("--watch needs a registered model NAME to serve and watch")
    if follow_interval <= 0:
        raise ConfigError(
            "--watch promotes new versions, and a server with --follow-interval 0 never swaps "
            "to them: give --follow-interval a number of seconds"
        )

    def say(cycle: Cycle) -> None:
        if not quiet:
            err_console.print(f"watch: {cycle.line()}", soft_wrap=True, markup=False)

    options = WatchOptions(
        every=parse_duration(every, option="--watch-every"),
        min_feedback=min_feedback,
        poll=parse_duration(poll, option="--watch-poll"),
        retrain_budget=retrain_budget,
        db_url=log_url,
    )
    return background_watch(model, options, say=say)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
