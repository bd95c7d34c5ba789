"""The ``apprentice`` command: a Typer app, one module per command group.

User mistakes (an :class:`~apprentice.errors.ApprenticeError`) print one line on stderr and
exit with the error's code (2), never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperOption

from apprentice._version import __version__
from apprentice.cli import clean as _clean_cmd
from apprentice.cli import compare as _compare_cmd
from apprentice.cli import demo as _demo_cmd
from apprentice.cli import models as _models_cmd
from apprentice.cli import monitor as _monitor_cmd
from apprentice.cli import package as _package_cmd
from apprentice.cli import predict as _predict_cmd
from apprentice.cli import read as _read_cmd
from apprentice.cli import report as _report_cmd
from apprentice.cli import retrain as _retrain_cmd
from apprentice.cli import run as _run_cmd
from apprentice.cli import serve as _serve_cmd
from apprentice.cli import train as _train_cmd
from apprentice.cli import watch as _watch_cmd
from apprentice.errors import ApprenticeError

_display_type = TyperOption.display_type_rich


def _flag_has_no_value(self: TyperOption, ctx: typer.Context) -> str | None:
    """``--json`` takes no value: its help line shows no ``<bool>`` as if it took one."""
    return None if self.is_flag else _display_type(self, ctx)


TyperOption.display_type_rich = _flag_has_no_value  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="apprentice",
    help="The daily job of a junior ML engineer on tabular data, end to end.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"apprentice {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """apprentice: read, clean, guard, train, evaluate, explain, serve, monitor, retrain."""


# the main job first, then the stages in the order of the flow, then the demo
_run_cmd.register(app)
_read_cmd.register(app)
_clean_cmd.register(app)
_train_cmd.register(app)
_predict_cmd.register(app)
_report_cmd.register(app)
_compare_cmd.register(app)
_models_cmd.register(app)
_serve_cmd.register(app)
_package_cmd.register(app)
_monitor_cmd.register(app)
_retrain_cmd.register(app)
_watch_cmd.register(app)
_demo_cmd.register(app)


# Click's error classes, whichever Click typer uses (its own vendored copy in recent versions)
_USAGE_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_EXCEPTION: type[Any] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script. Run as the console script (``argv`` not given), a
    command that asked for it (a budgeted ``train`` or ``run``: its budget counts to the
    process's exit) ends the process without the interpreter's teardown
    (:func:`apprentice.clock.prompt_exit`)."""
    sys.exit(_exit_code(argv) if argv is not None else _console(_exit_code(None)))


def _console(code: int) -> int:
    from apprentice.clock import prompt_exit

    prompt_exit(code)  # returns when no command asked for it
    return code


def _exit_code(argv: list[str] | None) -> int:
    """Run the command; its exit status (user mistakes print one line)."""
    try:
        code = app(args=argv, standalone_mode=False)
    except _USAGE_ERROR as exc:  # a mistyped command line: one line, not a usage box
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "apprentice"
        message = exc.format_message().strip()
        if message:  # empty: no arguments at all, and the help was shown
            print(f"error: {message} (see '{where} --help')", file=sys.stderr)
        return 2
    except _CLICK_EXCEPTION as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return int(exc.exit_code)
    except typer.Abort:
        print("error: interrupted", file=sys.stderr)
        return 130
    except ApprenticeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if code == 130:  # Ctrl-C: typer turns the KeyboardInterrupt into exit code 130, silently
        print("error: interrupted", file=sys.stderr)
    # as in Click's standalone mode, the command always ends in SystemExit (typer.Exit(code)
    # returns its code when not standalone)
    return code if isinstance(code, int) else 0
