"""The Rich consoles of the CLI: results to stdout, messages and progress to stderr."""

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
