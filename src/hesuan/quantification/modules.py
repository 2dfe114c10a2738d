"""The methodology modules hesuan has, found by the catalogue's id and version.

Importing this module imports :mod:`hesuan.quantification.methodologies`, whose modules each
register their :class:`~hesuan.quantification.spec.MethodologySpec`; the specs themselves
import only :mod:`hesuan.quantification.spec`, so the registry has no import circle.
"""

from __future__ import annotations

from hesuan.errors import InputError, MethodologyNotFoundError
from hesuan.quantification import methodologies  # noqa: F401  (registers the modules)
from hesuan.quantification.spec import REGISTRY, MethodologySpec
from hesuan.standards.methodologies import load_methodologies, normalise_id, normalise_version


def registered() -> list[MethodologySpec]:
    """Every registered methodology module."""
    return sorted(REGISTRY.values(), key=lambda s: s.key)


def get_methodology(methodology_id: str, version: str, *, file: str | None = None
                    ) -> MethodologySpec:
    """Return the module for a catalogued methodology id and version.

    Ids and versions are compared as the catalogue compares them, aliases resolved through the
    catalogue.

    Raises
    ------
    InputError
        when the catalogue does not list it, or hesuan has no module for it.
    """
    try:
        record = load_methodologies().resolve(methodology_id, version)
    except MethodologyNotFoundError as exc:
        raise InputError.single(str(exc), file=file, field="project.methodology_version",
                                expected="a methodology version of the catalogue "
                                "(`hesuan factors methodologies`)") from None
    spec = REGISTRY.get((normalise_id(record.id), normalise_version(record.version)))
    if spec is None:
        known = ", ".join(s.key for s in REGISTRY.values())
        raise InputError.single(
            f"hesuan has no quantification module for {record.key}", file=file,
            field="project.methodology", expected=f"one of {known}")
    return spec
