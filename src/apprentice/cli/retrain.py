"""``apprentice retrain``: a challenger on the champion's data plus new labelled rows, promoted
only when a paired test on the most recent rows shows it is better (or no worse while the
champion drifts)."""

from __future__ import annotations

from typing import Annotated

import typer

from apprentice.cli._common import (
    JsonOpt,
    ModelArg,
    QuietOpt,
    emit_json,
    err_console,
    one_model,
    out_console,
)


def retrain_command(
    model_arg: ModelArg = None,
    model_opt: Annotated[
        str | None,
        typer.Option("--model", "-m", help="A bundle directory or a registered model NAME."),
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help="New labelled rows (any file apprentice reads).")
    ] = None,
    from_feedback: Annotated[
        bool,
        typer.Option("--from-feedback", help="Use the prediction log's rows that got feedback."),
    ] = False,
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="Prediction log database (--from-feedback).")
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="The champion's training data, when not at its source path."),
    ] = None,
    holdout_share: Annotated[
        float, typer.Option("--holdout-share", help="Most recent share of new rows held out.")
    ] = 0.3,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Order the new rows by this column.")
    ] = None,
    time_budget: Annotated[
        float | None, typer.Option("--time-budget", help="Search seconds (default: champion's).")
    ] = None,
    max_trials: Annotated[
        int | None, typer.Option("--max-trials", help="Search trials (default: champion's).")
    ] = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow tracking URI.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a challenger and promote it only on statistical evidence."""
    from apprentice.workflows.retrain import retrain

    model = one_model(model_arg, model_opt, "retrain")

    decision = retrain(
        model,
        data=data,
        from_feedback=from_feedback,
        db_url=db_url,
        base=base,
        holdout_share=holdout_share,
        time_column=time_column,
        time_budget=time_budget,
        max_trials=max_trials,
        seed=seed,
        tracking_uri=tracking_uri,
        progress=None if (quiet or json_out) else err_console.print,
    )
    payload = decision.to_dict()
    if json_out:
        emit_json(payload)
        return
    if quiet:
        return
    g = payload["gate"]
    colour = "green" if decision.promoted else "yellow"
    out_console.print(f"[bold {colour}]{payload['decision']}[/]: {payload['reason']}")
    out_console.print(
        f"{g['metric']}: champion {g['champion']:.4f}, challenger {g['challenger']:.4f} on "
        f"{payload['holdout_rows']:,} recent rows; report {payload['report']}"
    )
    registered = (payload.get("challenger") or {}).get("registered")
    if registered:
        out_console.print(
            f"registered {registered['name']} version {registered['version']} "
            f"(alias {registered['alias']})",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("retrain")(retrain_command)
