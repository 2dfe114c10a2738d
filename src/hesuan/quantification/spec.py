"""How a methodology module declares itself.

A methodology module (``hesuan.quantification.methodologies.<name>``) declares one
:class:`MethodologySpec` — its catalogue id and version, the inputs it reads, every parameter
with unit, default and the dataset record the default comes from, its applicability
conditions — and registers it with :func:`register`.
:func:`hesuan.quantification.modules.get_methodology` finds a module by the catalogue's id
and version; a third methodology is one more module and one more catalogue record, nothing
else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hesuan.standards.methodologies import normalise_id, normalise_version

if TYPE_CHECKING:
    from hesuan.quantification.project import Project


@dataclass(frozen=True)
class InputSpec:
    """An input the methodology reads: its role, format and columns (name → meaning)."""

    role: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    required: bool = True


@dataclass(frozen=True)
class ParameterSpec:
    """A parameter: name, unit, default record and the clause it belongs to.

    The default record is ``dataset@version:id``, or ``None`` where the project must give it.
    """

    name: str
    unit: str
    default: str | None
    clause: str
    description: str


@dataclass(frozen=True)
class Condition:
    """An applicability condition.

    Its name (the refusal's name), the clause, the project fact it reads (``[applicability]`` key)
    and the test on that fact.
    """

    name: str
    clause: str
    fact: str
    expected: str
    test: Callable[[object], bool]
    verified: bool


@dataclass(frozen=True)
class BaselineSource:
    """A source of baseline removals the methodology permits besides the project's own value.

    Its name (the ``[baseline]`` key of the project file), the clause permitting it, and
    whether that clause was read in the methodology's text.
    """

    name: str
    clause: str
    verified: bool


@dataclass(frozen=True)
class MethodologySpec:
    """What a methodology module declares."""

    id: str
    version: str
    title: str
    tools: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    parameters: tuple[ParameterSpec, ...]
    conditions: tuple[Condition, ...]
    uncertainty_rule: str
    run: Callable[[Project], list]   # → list[QuantificationReport]
    #: Baseline sources besides the project's stated value (none: a named refusal).
    baseline_sources: tuple[BaselineSource, ...] = ()

    @property
    def key(self) -> str:
        """Return the methodology's ``id@version``."""
        return f"{self.id}@{self.version}"


#: Every registered methodology module, by (normalised id, normalised version).
REGISTRY: dict[tuple[str, str], MethodologySpec] = {}


def register(spec: MethodologySpec) -> MethodologySpec:
    """Add a methodology module's spec to the registry (at import of the module)."""
    REGISTRY[(normalise_id(spec.id), normalise_version(spec.version))] = spec
    return spec
