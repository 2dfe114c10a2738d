"""The ``hesuan`` command: parse arguments, call the Python API, print.

Every sub-command lives in its own module of this package and only calls the public Python
API of the layer it drives; expected failures (:class:`hesuan.errors.HesuanError`) are
printed as one clear message with exit status 2, never as a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from hesuan import __version__
from hesuan.cli import demo, factors, land, registry, transport
from hesuan.cli._console import err_console
from hesuan.errors import HesuanError

app = typer.Typer(
    name="hesuan",
    help=(
        "hesuan (核算): open, standards-based carbon and natural-capital accounting.\n\n"
        "Transport emissions per ISO 14083, land carbon and sinks, a carbon-credit registry,\n"
        "all resting on one library of cited, versioned emission factors.\n\n"
        "Start with:  hesuan demo   (runs everything on bundled example data)"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hesuan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True,
        help="Print hesuan's version and exit.",
    ),
) -> None:
    """hesuan (核算): open, standards-based carbon and natural-capital accounting."""


app.add_typer(factors.app, name="factors")
app.add_typer(transport.app, name="transport")
app.add_typer(land.app, name="land")
app.add_typer(registry.app, name="registry")
app.command("demo")(demo.demo)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``hesuan`` command (and ``python -m hesuan``)."""
    try:
        result = app(args=list(argv) if argv is not None else None,
                     prog_name="hesuan", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HesuanError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, markup=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)
