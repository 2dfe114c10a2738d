"""Other registries' public exports.

The issuances they record, read from a CAD Trust JSON export or a CSV serial list, for the
double-issuance check across registries.

A foreign issuance is one block another registry issued: the registry, the project's
external id (CAD Trust ``originProjectId``, else ``projectId``), the vintage and the block's
first and last serial as that registry writes them. Issuing here for a project whose
``external_project_id`` and vintage match one is refused
(``issuance_must_not_duplicate_foreign_issuance``). Pure: parsing and checks, no I/O.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.registry.domain.codes import RegistryRejection, Rejection

SERIAL_LIST_SPEC = TableSpec(
    "foreign_serial_list",
    (
        ColumnSpec("registry", "str", "Registry that issued the block (e.g. Verra, GS).",
                   required=True),
        ColumnSpec("project_id", "str", "The project's id, as other registries know it.",
                   required=True),
        ColumnSpec("vintage", "int", "Vintage year of the block.", required=True,
                   minimum=1900, maximum=9999),
        ColumnSpec("block_start", "str", "First serial of the block.", required=True),
        ColumnSpec("block_end", "str", "Last serial of the block.", required=True),
    ),
    key=("registry", "project_id", "vintage", "block_start"),
    description="A serial list of another registry's issued blocks.",
)
"""The CSV serial list ``hesuan registry import-foreign`` reads."""


@dataclass(frozen=True)
class ForeignIssuance:
    """One block another registry issued."""

    registry: str
    external_project_id: str
    vintage: int
    block_start: str
    block_end: str

    def as_dict(self) -> dict[str, Any]:
        """Return the issuance as JSON-ready data."""
        return asdict(self)


def _text(value: Any, where: str, name: str, limit: int = 120) -> str:
    text = "" if value is None else str(value).strip()
    if not text or len(text) > limit or "\x00" in text:
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"{where}: {name} must be a text of 1–{limit} characters")
    return text


def _vintage(value: Any, where: str) -> int:
    try:
        year = int(str(value).strip())
    except ValueError:
        year = 0
    if not 1900 <= year <= 9999:
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"{where}: vintage {value!r} must be a year such as 2024")
    return year


def record(registry: Any, project: Any, vintage: Any, start: Any, end: Any,
           where: str) -> ForeignIssuance:
    """Return a checked :class:`ForeignIssuance` (``where`` names the row for messages)."""
    return ForeignIssuance(_text(registry, where, "registry", 80),
                           _text(project, where, "project id"), _vintage(vintage, where),
                           _text(start, where, "block start"), _text(end, where, "block end"))


def from_cadt(doc: Any, source: str) -> list[ForeignIssuance]:
    """Return the blocks of a CAD Trust export.

    ``{"projects": [...], "units": [...]}`` (a unit's project: its ``warehouseProjectId``, else
    that of its issuance — the ``issuance`` nested in the unit, or ``issuanceId`` among the
    export's ``issuances`` or the projects' — ; the project's ``registryOfOrigin`` or
    ``currentRegistry`` and ``originProjectId`` or ``projectId`` name registry and project;
    ``vintageYear``; ``unitBlockStart``/``unitBlockEnd``, else the two ends of
    ``serialNumberBlock``).
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list) \
            or not isinstance(doc.get("projects"), list):
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"{source}: a CAD Trust export is a JSON object with "
                                "'projects' and 'units' lists")
    projects: dict[str, dict[str, Any]] = {}
    issued_for: dict[str, str] = {}  # issuance id → warehouseProjectId
    for i, p in enumerate(doc["projects"]):
        if not isinstance(p, dict) or "warehouseProjectId" not in p:
            raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                    f"{source}: projects[{i}] has no warehouseProjectId")
        projects[str(p["warehouseProjectId"])] = p
        nested = p.get("issuances")
        for iss in nested if isinstance(nested, list) else []:
            if isinstance(iss, dict) and "id" in iss:
                issued_for[str(iss["id"])] = str(p["warehouseProjectId"])
    top = doc.get("issuances")
    for iss in top if isinstance(top, list) else []:
        if isinstance(iss, dict) and "id" in iss and "warehouseProjectId" in iss:
            issued_for[str(iss["id"])] = str(iss["warehouseProjectId"])
    out = []
    for i, u in enumerate(doc["units"]):
        where = f"{source}: units[{i}]"
        if not isinstance(u, dict):
            raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                    f"{where} is not an object")
        # CAD Trust links a unit to its project through its issuance (issuanceId, or the
        # issuance record the API nests in the unit); hesuan's export also names it
        nested_issuance = u.get("issuance")
        key = u.get("warehouseProjectId") or (
            nested_issuance.get("warehouseProjectId") if isinstance(nested_issuance, dict)
            else None) or issued_for.get(str(u.get("issuanceId", "")))
        p = projects.get(str(key or ""))
        if p is None:
            raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                    f"{where}: neither its warehouseProjectId nor its "
                                    "issuance names a project of the export")
        start, end = u.get("unitBlockStart"), u.get("unitBlockEnd")
        if start is None or end is None:
            block = str(u.get("serialNumberBlock", ""))
            start, _, end = block.rpartition("-") if block.count("-") == 1 else ("", "", "")
            start = start or None
        out.append(record(p.get("registryOfOrigin") or p.get("currentRegistry"),
                          p.get("originProjectId") or p.get("projectId"),
                          u.get("vintageYear"), start, end, where))
    return out


def check_not_ours(records: list[ForeignIssuance], registry_code: str) -> None:
    """Refuse records of this registry itself (its own issuances are not foreign)."""
    for r in records:
        if r.registry.upper() == registry_code.upper():
            raise RegistryRejection(Rejection.foreign_registry_must_not_be_this_registry,
                                    f"{r.registry} is this registry; import other "
                                    "registries' exports only")


@dataclass(frozen=True)
class ForeignItmos:
    """A block of ITMOs acquired from another Party's registry, as that registry names it.

    The elements of its unique identifiers (decision 6/CMA.4, annex I, para. 5: cooperative
    approach, originating Party ITMO registry, first transferring Party, first and last
    serial, vintage), what its authorisation says (ID, date, purposes, the 6/CMA.4
    template's sector), the Party it came from and the day it arrived.
    """

    registry_id: str
    approach_id: str
    first_transferring_party: str
    first_id: int
    last_id: int
    vintage: int
    authorization_id: str
    authorised_on: str
    purposes: str
    sector: str
    transferring_party: str
    acquired_on: str

    @property
    def quantity(self) -> int:
        """Return the number of ITMOs in the block (1 t CO2e each)."""
        return self.last_id - self.first_id + 1

    def numbering(self) -> tuple[str, str, str, int]:
        """Return what serials are unique within: registry, approach, first Party, vintage."""
        return (self.registry_id, self.approach_id, self.first_transferring_party,
                self.vintage)

    def as_dict(self) -> dict[str, Any]:
        """Return the block as JSON-ready data."""
        return asdict(self)

    def checked(self, where: str) -> ForeignItmos:
        """Return the block if every field is of its form (``where`` names it in messages).

        Raises
        ------
        RegistryRejection
            ``foreign_export_must_be_readable``, naming the field and the form expected.
        """
        from hesuan.registry.domain import aef

        def need(ok: bool, name: str, expected: str) -> None:
            if not ok:
                raise RegistryRejection(
                    Rejection.foreign_export_must_be_readable,
                    f"{where}, field '{name}': {getattr(self, name)!r} (expected {expected})")

        need(re.fullmatch(aef.REGISTRY_CODE_PATTERN, self.registry_id) is not None,
             "registry_id", "a Party ITMO registry ID such as KEN01")
        need(re.fullmatch(aef.APPROACH_ID_PATTERN, self.approach_id) is not None,
             "approach_id", "a cooperative approach ID: CA and four digits, e.g. CA0001")
        for name in ("first_transferring_party", "transferring_party"):
            need(_is_country(getattr(self, name)), name,
                 "an ISO 3166-1 alpha-2 code in capitals, e.g. CH")
        need(1 <= self.first_id <= 10**15, "first_id", "a serial from 1 to 10^15")
        need(self.first_id <= self.last_id <= 10**15, "last_id",
             f"a serial from first_id {self.first_id} to 10^15")
        need(1900 <= self.vintage <= 9999, "vintage", "a year such as 2023")
        need(0 < len(self.authorization_id.strip()) <= 200 and "\x00" not in
             self.authorization_id, "authorization_id", "1-200 characters")
        for name in ("authorised_on", "acquired_on"):
            need(_is_day(getattr(self, name)), name, "a date YYYY-MM-DD")
        need(self.purposes in ("NDC", "OIMP", "NDC and OIMP"), "purposes",
             "NDC, OIMP or NDC and OIMP")
        need(self.sector in aef.SECTORS, "sector", f"one of {', '.join(aef.SECTORS)}")
        return self


def _is_country(code: str) -> bool:
    import pycountry

    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def _is_day(text: str) -> bool:
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def check_itmos_do_not_overlap(new: list[ForeignItmos], recorded: list[ForeignItmos],
                               where: Callable[[int], str] = lambda i: f"records[{i}]"
                               ) -> None:
    """Refuse a block whose ITMOs are already recorded (or listed twice).

    ``where(i)`` names block ``i`` of ``new`` in messages.

    Raises
    ------
    RegistryRejection
        ``foreign_itmos_must_not_overlap_recorded_ones``, naming both blocks.
    """
    seen = sorted([*((b, None) for b in recorded), *((b, i) for i, b in enumerate(new))],
                  key=lambda x: (x[0].numbering(), x[0].first_id))
    for (a, ia), (b, ib) in itertools.pairwise(seen):
        if a.numbering() != b.numbering() or b.first_id > a.last_id:
            continue
        (this, i), (other, j) = ((b, ib), (a, ia)) if ib is not None else ((a, ia), (b, ib))
        if i is None:
            continue  # two recorded blocks: refused (or reported) when the later came
        raise RegistryRejection(
            Rejection.foreign_itmos_must_not_overlap_recorded_ones,
            f"{where(i)}, fields 'first_id'-'last_id': ITMOs {this.first_id}-{this.last_id} "
            f"of {this.approach_id}/{this.registry_id}/{this.first_transferring_party}/"
            f"{this.vintage} overlap {other.first_id}-{other.last_id}, already "
            f"{'recorded' if j is None else f'listed at {where(j)}'} "
            "(expected ITMOs not yet recorded)")


def check_itmo_registry_id(value: str, *, current: str | None,
                           imported_from: Iterable[str]) -> str:
    """Return ``value`` if it may become this registry's Party ITMO registry ID.

    The ID is the registry part of the unique identifier of every ITMO this registry
    reports (decision 6/CMA.4, annex I, para. 5(b)): set once (``current`` is the one
    set, if any), of the form ``KEN01`` (:data:`~.aef.REGISTRY_CODE_PATTERN`), and not the
    registry of ITMOs already imported here (``imported_from``: those would then be this
    registry's own ITMOs, counted twice).

    Raises
    ------
    RegistryRejection
        ``itmo_registry_id_must_be_set_once``, ``itmo_registry_id_must_be_well_formed``
        or ``foreign_registry_must_not_be_this_registry``.
    """
    from hesuan.registry.domain import aef

    if current is not None:
        raise RegistryRejection(Rejection.itmo_registry_id_must_be_set_once,
                                f"itmo_registry_id: already set to {current} (it is part of "
                                "every ITMO identifier this registry has reported)")
    if re.fullmatch(aef.REGISTRY_CODE_PATTERN, value) is None:
        raise RegistryRejection(Rejection.itmo_registry_id_must_be_well_formed,
                                f"itmo_registry_id: {value!r} (expected the Party ITMO "
                                "registry ID: capitals and digits, 2-8, e.g. KEN01)")
    if value.upper() in {r.upper() for r in imported_from}:
        raise RegistryRejection(Rejection.foreign_registry_must_not_be_this_registry,
                                f"itmo_registry_id: ITMOs of {value} were imported here from "
                                "another Party's registry (expected this registry's own ID)")
    return value


def check_acquisition(blocks: list[ForeignItmos], *, country: str, ours: Iterable[str],
                      recorded: list[ForeignItmos], first_id: int, today: str,
                      where: Callable[[int], str] = lambda i: f"records[{i}]") -> None:
    """Refuse blocks of ITMOs that may not reach a holder of ``country`` here.

    The rules ``import-itmos`` applies and ``verify`` re-applies to every
    ``foreign_itmos_acquired`` event: every block of its form
    (:meth:`ForeignItmos.checked`); none from one of this registry's own identifiers
    ``ours`` (its registry code and its Party ITMO registry ID: its own ITMOs are already
    counted); none from the holder's own ``country`` (an acquisition is from another
    Party); none acquired after ``today`` (the day it is recorded, ``YYYY-MM-DD``);
    none overlapping a ``recorded`` block or another of the list
    (:func:`check_itmos_do_not_overlap`); and ``first_id`` the next row id (the blocks
    are numbered on from the recorded ones). ``where(i)`` names block ``i`` in messages.

    Raises
    ------
    RegistryRejection
        Named by the rule broken.
    """
    mine = {o.upper() for o in ours if o}
    for i, b in enumerate(blocks):
        b.checked(where(i))
        if b.registry_id.upper() in mine:
            raise RegistryRejection(Rejection.foreign_registry_must_not_be_this_registry,
                                    f"{where(i)}, field 'registry_id': {b.registry_id} is "
                                    "this registry (expected another Party's ITMO "
                                    "registry; its own ITMOs are already counted)")
        if b.transferring_party == country:
            raise RegistryRejection(
                Rejection.foreign_itmos_must_reach_a_holder_of_another_party,
                f"{where(i)}, field 'transferring_party': {b.transferring_party} is the "
                "holder's own country (expected another Party: an acquisition is from "
                "another Party)")
        if b.acquired_on > today:
            raise RegistryRejection(
                Rejection.foreign_itmos_must_not_be_acquired_in_the_future,
                f"{where(i)}, field 'acquired_on': {b.acquired_on} is after the day it is "
                f"recorded, {today} (expected the day the ITMOs arrived, today or earlier)")
    check_itmos_do_not_overlap(blocks, recorded, where)
    if first_id != len(recorded) + 1:
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"the blocks are numbered from {first_id}, expected "
                                f"{len(recorded) + 1} (after the {len(recorded)} recorded)")


ITMO_LIST_SPEC = TableSpec(
    "foreign_itmos",
    (
        ColumnSpec("registry_id", "str", "Party ITMO registry the ITMOs come from (e.g. CHE01).",
                   required=True),
        ColumnSpec("approach_id", "str", "Cooperative approach ID (CANNNN).", required=True),
        ColumnSpec("first_transferring_party", "str", "First transferring Party (alpha-2).",
                   required=True),
        ColumnSpec("first_id", "int", "First serial of the block.", required=True, minimum=1),
        ColumnSpec("last_id", "int", "Last serial of the block.", required=True, minimum=1),
        ColumnSpec("vintage", "int", "Vintage year.", required=True, minimum=1900,
                   maximum=9999),
        ColumnSpec("authorization_id", "str", "Authorization ID.", required=True),
        ColumnSpec("authorised_on", "str", "Date of authorization (YYYY-MM-DD).",
                   required=True),
        ColumnSpec("purposes", "str", "NDC, OIMP or NDC and OIMP.", required=True),
        ColumnSpec("sector", "str", "Energy, IPPU, AFOLU or Waste.", required=True),
        ColumnSpec("transferring_party", "str", "Party the ITMOs came from (alpha-2).",
                   required=True),
        ColumnSpec("acquired_on", "str", "Day they arrived (YYYY-MM-DD).", required=True),
    ),
    key=("registry_id", "approach_id", "first_transferring_party", "vintage", "first_id"),
    description="ITMOs acquired from another Party's registry.",
)
"""The CSV list ``hesuan registry import-itmos`` reads."""
