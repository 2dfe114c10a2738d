"""The provenance record every summary embeds.

:class:`Provenance` says which hesuan made a result, from which input files (name, SHA-256,
size), with which parameters and datasets, and when (UTC). Build it with
:meth:`Provenance.create` at the start of a run and embed ``as_dict()`` in ``summary.json``
(under ``"provenance"``) and in the manifest of the run directory; the HTML reports show it.

Example
-------
>>> from hesuan.io.provenance import Provenance, DatasetUse
>>> prov = Provenance.create(                                      # doctest: +SKIP
...     "transport run", inputs={"legs": "legs.csv"},
...     parameters={"gwp_set": "AR5", "engine": "polars"},
...     datasets=[DatasetUse("glec", "3.1", "CC BY 4.0")])
>>> prov.as_dict()["inputs"][0]["sha256"][:8]                     # doctest: +SKIP
'3f1c9a0b'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hesuan.io.outputs import sha256_file

ParamValue = str | int | float | bool | None


@dataclass(frozen=True)
class InputFile:
    """An input file of a run.

    Its role (``legs``, ``pools``…), path as given, SHA-256 and size [bytes].
    """

    role: str
    name: str
    sha256: str
    bytes: int

    @classmethod
    def of(cls, path: str | Path, role: str = "") -> InputFile:
        """Return the record of the file at ``path``.

        Its role (default: the file's stem), name, SHA-256 and size [bytes].
        """
        p = Path(path)
        return cls(role or p.stem, str(path), sha256_file(p), p.stat().st_size)


@dataclass(frozen=True)
class DatasetUse:
    """A factor dataset a run used: ``id@version`` and its licence."""

    id: str
    version: str
    licence: str = ""

    @property
    def key(self) -> str:
        """Return ``id@version``."""
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Provenance:
    """Who made a result, from what, how and when."""

    hesuan_version: str
    command: str
    run_utc: str
    inputs: tuple[InputFile, ...] = ()
    parameters: dict[str, ParamValue] = field(default_factory=dict)
    datasets: tuple[DatasetUse, ...] = ()

    @classmethod
    def create(
        cls,
        command: str,
        *,
        inputs: Mapping[str, str | Path] | Iterable[str | Path] = (),
        parameters: Mapping[str, ParamValue] | None = None,
        datasets: Iterable[DatasetUse] = (),
        now: dt.datetime | None = None,
    ) -> Provenance:
        """Return the record of a run starting now: hashes every input file.

        ``inputs`` is ``{role: path}`` or a list of paths (roles from the file stems).
        """
        from hesuan import __version__

        items = inputs.items() if isinstance(inputs, Mapping) else \
            ((Path(p).stem, p) for p in inputs)
        when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        return cls(
            hesuan_version=__version__,
            command=command,
            run_utc=when.isoformat().replace("+00:00", "Z"),
            inputs=tuple(InputFile.of(p, role) for role, p in items),
            parameters=dict(parameters or {}),
            datasets=tuple(datasets),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the provenance as JSON-ready data."""
        return {
            "hesuan_version": self.hesuan_version,
            "command": self.command,
            "run_utc": self.run_utc,
            "inputs": [{"role": i.role, "name": i.name, "sha256": i.sha256, "bytes": i.bytes}
                       for i in self.inputs],
            "parameters": dict(self.parameters),
            "datasets": [{"id": d.id, "version": d.version, "licence": d.licence}
                         for d in self.datasets],
        }

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """Return the JSON Schema of :meth:`as_dict` (for the published summary schemas)."""
        from pydantic import TypeAdapter

        schema: dict[str, Any] = TypeAdapter(Provenance).json_schema()
        return schema
