"""The ``hesuan`` command: parse arguments, call the Python API, print.

Every sub-command lives in its own module of this package and only calls the public Python
API of the layer it drives; expected failures (:class:`hesuan.errors.HesuanError`) are
printed as one clear message with exit status 2, never as a traceback.

Start-up is kept short: ``hesuan --version`` imports nothing but the version, and the
sub-command modules (with the libraries they need) are imported only when that sub-command
runs or shows its own help — ``hesuan --help`` lists them from :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any

SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "factors": ("hesuan.cli.factors", "app",
                "Browse the standards library: cited, versioned emission factors and "
                "defaults."),
    "transport": ("hesuan.cli.transport", "app",
                  "Transport-chain GHG emissions per ISO 14083:2023 / GLEC Framework v3."),
    "land": ("hesuan.cli.land", "app",
             "Land carbon: storage, sequestration and its value on LULC maps (the InVEST "
             "carbon model, with uncertainty and regional totals)."),
    "registry": ("hesuan.cli.registry", "app",
                 "Carbon-credit registry: projects, monitoring reports, issuance with "
                 "deductions, transfers, retirements, Article 6 records, a verifiable audit "
                 "log."),
    "serve": ("hesuan.cli.registry", "serve",
              "Run the registry's REST API (OpenAPI at /docs and /openapi.json)."),
    "quantify": ("hesuan.cli.quantify", "quantify",
                 "Quantify a sink project under its methodology: one sealed report per "
                 "monitoring period."),
    "attest": ("hesuan.cli.attest", "app",
               "Verifiers' signed attestations of quantification reports (Ed25519)."),
    "verify-attestation": ("hesuan.cli.attest", "verify_attestation",
                           "Check an attestation's Ed25519 signature offline (exit 2 if it "
                           "does not verify)."),
    "demo": ("hesuan.cli.demo", "demo",
             "Run every capability of hesuan on bundled example data and say where outputs "
             "went."),
}
"""``name: (module, attribute, one-line help)``: a Typer app or a command function each; the
one-line help is what ``hesuan --help`` shows without importing the module (a test checks it
is the first line of the command's own help)."""

HELP = (
    "hesuan (核算): open, standards-based carbon and natural-capital accounting.\n\n"
    "Transport emissions per ISO 14083, land carbon and sinks, a carbon-credit registry, "
    "all resting on one library of cited, versioned emission factors.\n\n"
    "Start with:  hesuan demo   (runs everything on bundled example data)\n\n"
    "Every command that prints results takes --json; every command's --help has an example."
)


def load_command(name: str) -> Any:
    """Return the Click command of sub-command ``name`` (imports its module)."""
    import typer
    import typer.main

    module, attribute, _ = SUBCOMMANDS[name]
    target = getattr(import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_command(target)
    else:
        single = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]})
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def build_app() -> Any:
    """Return the root Click group, whose sub-commands are imported on first use."""
    import typer
    import typer.core
    import typer.main

    class LazyGroup(typer.core.TyperGroup):
        """A group that imports a sub-command's module only when it is run.

        While it formats its own help it lists the sub-commands from their one-line help.
        """

        _listing = False

        def list_commands(self, ctx: Any) -> list[str]:
            return list(SUBCOMMANDS)

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name in self.commands:
                return self.commands[cmd_name]
            if cmd_name not in SUBCOMMANDS:
                return None
            if self._listing:
                text = SUBCOMMANDS[cmd_name][2]
                return typer.core.TyperCommand(cmd_name, help=text, short_help=text)
            command = load_command(cmd_name)
            self.commands[cmd_name] = command
            return command

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            if args and args[0] not in SUBCOMMANDS:  # "did you mean" reads self.commands
                self.commands.update({n: typer.core.TyperCommand(n) for n in SUBCOMMANDS
                                      if n not in self.commands})
            return super().resolve_command(ctx, args)

        def format_help(self, ctx: Any, formatter: Any) -> None:
            self._listing = True
            try:
                super().format_help(ctx, formatter)
            finally:
                self._listing = False

    app = typer.Typer(
        name="hesuan", cls=LazyGroup, help=HELP, no_args_is_help=True,
        pretty_exceptions_enable=False, rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", "-V", is_eager=True,
                                     help="Print hesuan's version and exit."),
    ) -> None:
        """hesuan (核算): open, standards-based carbon and natural-capital accounting."""  # noqa: D403 (the program's name is lower-case)
        if version:
            _print_version()
            raise typer.Exit()

    return typer.main.get_command(app)


def _print_version() -> None:
    from hesuan import __version__

    sys.stdout.write(f"hesuan {__version__}\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``hesuan`` command (and ``python -m hesuan``).

    Click handles usage errors, ``--help`` and exit codes (standalone mode); an expected
    failure of hesuan itself (:class:`HesuanError`) is printed as one message, exit status 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("--version", "-V"):
        _print_version()
        return
    from hesuan.errors import HesuanError

    try:
        build_app().main(args=args, prog_name="hesuan")
    except HesuanError as exc:
        from hesuan.cli._console import print_error

        print_error(exc)
        sys.exit(2)
    except BrokenPipeError:  # ``hesuan … | head``: the reader left; say nothing
        sys.stderr.close()
        sys.exit(0)
    finally:
        if argv is None:  # the process is this command, and ends with it
            # The interpreter's collections at exit would walk every object the libraries
            # made (≈ 0.15 CPU s after a land command); freezing them leaves them to the
            # exit itself. Callers in a process of their own (tests) pass argv: not frozen.
            gc.freeze()


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from hesuan.cli import app``: the root group, built on demand
        return build_app()
    raise AttributeError(name)
