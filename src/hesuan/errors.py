"""One exception hierarchy for hesuan.

Every expected failure is a named subclass of :class:`HesuanError` whose one-line docstring
states the rule that was broken. Errors about user input say *where* (file, row, field) and
*what was expected*, so that the CLI can print them without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class HesuanError(Exception):
    """Base class of every error hesuan raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected.

    ``row`` is 1-based and counts data rows as a spreadsheet shows them (the header is row 1,
    the first data row is row 2) when ``line_numbers_include_header`` was used by the reader;
    readers state their convention in their docstrings.
    """

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        text = ": ".join([", ".join(where), self.message]) if where else self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text


@dataclass
class InputError(HesuanError):
    """An input file or value breaks the rules of its declared format."""

    problems: Sequence[Problem] = field(default_factory=tuple)
    summary: str = "invalid input"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.problems) == 1 and self.summary == str(self.problems[0]):
            return self.summary
        shown = list(self.problems)[:20]
        lines = [self.summary] + [f"  - {p}" for p in shown]
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            lines.append(f"  … and {hidden} more")
        return "\n".join(lines)

    @classmethod
    def single(
        cls,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> InputError:
        """Return an error with exactly one problem."""
        problem = Problem(
            message, None if file is None else str(file), row, field, expected
        )
        return cls(problems=(problem,), summary=str(problem))

    def __reduce__(self):  # keep picklable across Dask workers
        return (self.__class__, (tuple(self.problems), self.summary))


class DatasetError(InputError):
    """A factor dataset is malformed: missing file, column, licence, or a bad record."""


class FactorNotFoundError(HesuanError, KeyError):
    """No factor has the requested dataset, version and id."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else "factor not found"


class MethodologyNotFoundError(HesuanError, LookupError):
    """No methodology of the catalogue has the requested id and version.

    ``near`` lists the closest ``ID@VERSION`` keys of the catalogue (possibly empty).
    """

    def __init__(self, message: str, near: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.near = near

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type, tuple[str, tuple[str, ...]]]:  # picklable (Dask)
        return (self.__class__, (self.message, self.near))


class UnitError(InputError):
    """A unit expression does not parse, or has the wrong dimension."""


class OutputPathError(InputError):
    """An output path cannot take the output.

    A folder, below a file, not writable, its extension is not the format written, or its folder
    holds another run's outputs.
    """


class NonFiniteError(HesuanError, ValueError):
    """A number about to be written is not finite (NaN or infinity).

    ``path`` names the key path of the value, e.g. ``totals.wtw_kg_co2e``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # picklable (Dask)
        return (self.__class__, (self.message, self.path))
