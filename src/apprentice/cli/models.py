"""``apprentice models list | show NAME | promote NAME VERSION``: the model registry."""

from __future__ import annotations

from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console, out_console
from apprentice.cli.run import TrackingUriOpt

models_app = typer.Typer(
    name="models",
    help="The model registry: list models, show one, promote a version.",
    no_args_is_help=True,
)


def _tracker(tracking_uri: str | None):  # type: ignore[no-untyped-def]
    from apprentice.track import Tracker

    tracker = Tracker(tracking_uri)
    tracker.check()
    return tracker


def _aliases(aliases: dict[str, int]) -> str:
    return ", ".join(f"{a} -> v{v}" for a, v in sorted(aliases.items(), key=lambda x: x[1])) or "-"


@models_app.command("list")
def list_command(
    tracking_uri: TrackingUriOpt = None, json_out: JsonOpt = False, quiet: QuietOpt = False
) -> None:
    """Every registered model with its task, target, aliases and latest version."""
    from apprentice.track import list_models

    tracker = _tracker(tracking_uri)
    models = list_models(tracker)
    if json_out:
        emit_json({"tracking_uri": tracker.display_uri, "models": [m.to_dict() for m in models]})
        return
    if quiet:
        return
    if not models:
        err_console.print(
            f"no registered model at {tracker.display_uri} (apprentice run FILE --target T "
            "registers one)",
            markup=False,
        )
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("name", "task", "target", "latest", "aliases", "updated"):
        table.add_column(column)
    for m in models:
        table.add_row(
            m.name,
            m.task or "?",
            m.target or "?",
            f"v{m.latest_version}" if m.latest_version else "-",
            _aliases(m.aliases),
            m.updated_at or "",
        )
    out_console.print(table)


@models_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="The registered model name.")],
    tracking_uri: TrackingUriOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """A registered model's versions, their aliases, scores and runs."""
    from apprentice.track import show_model

    info = show_model(_tracker(tracking_uri), name)
    if json_out:
        emit_json(info.to_dict())
        return
    if quiet:
        return
    out_console.print(
        f"[bold]{info.name}[/]: {info.task or '?'}, predicting '{info.target or '?'}'; "
        f"aliases {_aliases(info.aliases)}",
        highlight=False,
    )
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("version", "aliases", "created", "model", "score", "run"):
        table.add_column(column)
    for v in info.versions:
        metric = v.tags.get("apprentice.metric", "")
        score = v.tags.get("apprentice.score", "")
        table.add_row(
            str(v.version),
            ", ".join(v.aliases) or "-",
            v.created_at or "",
            v.tags.get("apprentice.champion", ""),
            f"{metric} {score}".strip(),
            v.tags.get("apprentice.run_id", "") or (v.run_id or ""),
        )
    out_console.print(table)


@models_app.command("promote")
def promote_command(
    name: Annotated[str, typer.Argument(help="The registered model name.")],
    version: Annotated[str, typer.Argument(help="The version to promote (a number).")],
    alias: Annotated[
        str, typer.Option(help="The alias to point at the version (champion or challenger).")
    ] = "champion",
    tracking_uri: TrackingUriOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Point an alias (default: champion) at a version."""
    from apprentice.track import promote

    done = promote(_tracker(tracking_uri), name, version, alias=alias)
    if json_out:
        emit_json(done.to_dict())
        return
    if quiet:
        return
    before = f" (was v{done.previous})" if done.previous is not None else ""
    cleared = f"; cleared {', '.join(done.cleared)}" if done.cleared else ""
    err_console.print(
        f"{done.name}: {done.alias} -> v{done.version}{before}{cleared}", markup=False
    )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
