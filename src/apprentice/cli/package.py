"""``apprentice package MODEL -o DIR [--build]``: a container build context for serving."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console


def package_command(
    model: Annotated[
        str, typer.Argument(help="A bundle folder, or a registered model (NAME, NAME@ALIAS).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the build context.")],
    build: Annotated[
        bool, typer.Option("--build", help="Build the image with podman or docker.")
    ] = False,
    tag: Annotated[str, typer.Option("--tag", "-t", help="Image name with --build.")] = "",
    base: Annotated[
        str | None,
        typer.Option("--base", help="Image the environment is built on (python3, venv, pip)."),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            "--runtime", help="Image the model runs on: the same Python, pip not needed [--base]."
        ),
    ] = None,
    with_dashboard: Annotated[
        bool,
        typer.Option(
            "--with-dashboard",
            help="Add SciPy and scikit-learn so that /dashboard works (a larger image).",
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-empty output folder.")
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a Containerfile, pinned serving requirements and the verified bundle to DIR."""
    from apprentice.workflows.package import BASE_IMAGE, build_image, package_model

    result = package_model(
        model,
        output,
        base=base or BASE_IMAGE,
        runtime=runtime,
        overwrite=overwrite,
        dashboard=with_dashboard,
    )
    image = None
    if build:
        image = build_image(result.context, tag or f"apprentice-{Path(model).name.lower()}")
    if json_out:
        emit_json(
            {
                "context": str(result.context),
                "manifest_sha256": result.manifest_sha256,
                "image": image,
            }
        )
    elif not quiet:
        typer.echo(str(result.context))
        if image:
            typer.echo(image)
        err_console.print(
            f"build context in {result.context}; run the image with "
            "-e APPRENTICE_API_KEY to listen on all addresses"
        )


def register(app: typer.Typer) -> None:
    app.command("package")(package_command)
