"""The ``hesuan`` command: parse arguments, call the Python API, print.

Every sub-command lives in its own module of this package and only calls the public Python
API of the layer it drives; expected failures (:class:`hesuan.errors.HesuanError`) are
printed as one clear message with exit status 2, never as a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from hesuan import __version__
from hesuan.cli import attest, demo, factors, land, quantify, registry, transport
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
app.command("serve")(registry.serve)
app.command("demo")(demo.demo)
app.command("quantify", help=quantify._HELP)(quantify.quantify)
app.add_typer(attest.app, name="attest")
app.command("verify-attestation")(attest.verify_attestation)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``hesuan`` command (and ``python -m hesuan``).

    Typer handles usage errors, ``--help`` and exit codes (standalone mode); an expected
    failure of hesuan itself (:class:`HesuanError`) is printed as one message, exit status 2.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="hesuan")
    except HesuanError as exc:
        err_console.print("[bold red]error:[/bold red] ", end="")
        err_console.print(str(exc), markup=False, highlight=False)
        sys.exit(2)
