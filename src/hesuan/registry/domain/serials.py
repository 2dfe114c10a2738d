"""Serial numbers and serial blocks.

Every unit the registry issues has one integer serial, unique across the whole registry (a
single counter runs across projects and vintages). Units are held in **blocks**: inclusive
ranges ``[serial_start, serial_end]`` with ``serial_count = serial_end − serial_start + 1`` —
as Verra, Gold Standard and UNDP's National Carbon Registry do. When part of a block moves,
the block splits exactly: the sender keeps the head, the recipient gets the tail (UNDP's
rule, ``…-1-2000-2023`` stays, ``…-2001-3000-2023`` moves).

hesuan's public block identifier
--------------------------------
``<registry>-<host country>-<project>-<vintage>-<start>-<end>-<check>``, e.g.
``HSN-KE-12-2024-1001-2000-55``:

=============  =====================================================================
registry       2–8 capital letters/digits naming the registry (``HSN`` by default)
host country   ISO 3166-1 alpha-2 code of the host country
project        the registry's project number (decimal, no leading zeros)
vintage        calendar year of the mitigation (4 digits)
start, end     first and last serial of the block (decimal, start ≤ end)
check          two ISO/IEC 7064 MOD 97-10 check digits over all preceding characters
=============  =====================================================================

The check digits are computed as for IBAN (ISO 13616-1, which uses ISO/IEC 7064 MOD 97-10):
drop the hyphens, replace each letter by two digits (A = 10 … Z = 35), append ``00``, take
the remainder modulo 97 and subtract it from 98. A string is valid when the digits with the
check appended are ≡ 1 (mod 97). MOD 97-10 detects every single-character substitution and
every transposition of adjacent characters (ISO/IEC 7064:2003, clause 7.1).

References
----------
ISO/IEC 7064:2003, Information technology — Security techniques — Check character systems,
clause 7 (MOD 97-10). ISO 13616-1:2020, Financial services — IBAN, clause 7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hesuan.registry.domain.codes import RegistryRejection, Rejection

SERIAL_MAX = 2**62  # one counter for the whole registry; fits int8 with room to spare


@dataclass(frozen=True, order=True)
class Block:
    """An inclusive range of serials ``[serial_start, serial_end]``."""

    serial_start: int
    serial_end: int

    def __post_init__(self) -> None:
        assert 1 <= self.serial_start <= self.serial_end <= SERIAL_MAX, self

    @property
    def serial_count(self) -> int:
        """Number of units in the block."""
        return self.serial_end - self.serial_start + 1

    def contains(self, other: Block) -> bool:
        """Return True when ``other`` lies wholly inside this block."""
        return self.serial_start <= other.serial_start and other.serial_end <= self.serial_end

    def overlaps(self, other: Block) -> bool:
        """Return True when the two ranges share at least one serial."""
        return self.serial_start <= other.serial_end and other.serial_start <= self.serial_end


def split_tail(block: Block, serial_count: int) -> tuple[Block | None, Block]:
    """Split off the last ``serial_count`` units: ``(head kept by the sender or None, tail)``."""
    assert 1 <= serial_count <= block.serial_count
    if serial_count == block.serial_count:
        return None, block
    tail = Block(block.serial_end - serial_count + 1, block.serial_end)
    head = Block(block.serial_start, tail.serial_start - 1)
    assert head.serial_count + tail.serial_count == block.serial_count
    return head, tail


def carve(block: Block, part: Block) -> tuple[list[Block], Block]:
    """Cut ``part`` out of ``block``: ``(pieces that stay, part)``; up to two pieces stay."""
    assert block.contains(part)
    stay = []
    if part.serial_start > block.serial_start:
        stay.append(Block(block.serial_start, part.serial_start - 1))
    if part.serial_end < block.serial_end:
        stay.append(Block(part.serial_end + 1, block.serial_end))
    assert sum(b.serial_count for b in stay) + part.serial_count == block.serial_count
    return stay, part


# ---------------------------------------------------------------------------------------
# ISO/IEC 7064 MOD 97-10


def _digits(text: str) -> str:
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(ch)
        elif "A" <= ch <= "Z":
            out.append(str(ord(ch) - ord("A") + 10))
        elif ch == "-":
            continue
        else:
            raise ValueError(f"character {ch!r} not allowed")
    return "".join(out)


def mod97_check(text: str) -> str:
    """Two ISO/IEC 7064 MOD 97-10 check digits for ``text`` (capital letters, digits, '-')."""
    return f"{98 - int(_digits(text) + '00') % 97:02d}"


def mod97_valid(text_with_check: str) -> bool:
    """Return True when the last two characters are the correct MOD 97-10 check of the rest."""
    return int(_digits(text_with_check) or "0") % 97 == 1


@dataclass(frozen=True)
class BlockSerial:
    """The parts of hesuan's public block identifier."""

    registry: str
    host_country: str
    project_id: int
    vintage: int
    serial_start: int
    serial_end: int

    @property
    def block(self) -> Block:
        """Return the serial range of this identifier."""
        return Block(self.serial_start, self.serial_end)


_OURS = re.compile(
    r"^(?P<registry>[A-Z][A-Z0-9]{1,7})-(?P<country>[A-Z]{2})-(?P<project>[1-9][0-9]{0,17})-"
    r"(?P<vintage>[0-9]{4})-(?P<start>[1-9][0-9]{0,18})-(?P<end>[1-9][0-9]{0,18})-"
    r"(?P<check>[0-9]{2})$"
)


def format_serial(s: BlockSerial) -> str:
    """Return hesuan's public identifier of a block, with its check digits.

    See the module docstring.
    """
    body = (f"{s.registry}-{s.host_country}-{s.project_id}-{s.vintage:04d}-"
            f"{s.serial_start}-{s.serial_end}")
    if not _OURS.match(body + "-00"):
        raise ValueError(f"cannot format {s}")
    return f"{body}-{mod97_check(body)}"


def parse_serial(text: str) -> BlockSerial:
    """Parse hesuan's block identifier; rejects a bad shape, a bad check or start > end."""
    m = _OURS.match(text.strip())
    if not m:
        raise RegistryRejection(
            Rejection.serial_must_be_well_formed,
            f"'{text}' is not a hesuan serial "
            "(expected REGISTRY-CC-PROJECT-VINTAGE-START-END-CHECK, e.g. HSN-KE-12-2024-1-10-xx)",
        )
    if not mod97_valid(text.strip()):
        raise RegistryRejection(Rejection.serial_must_be_well_formed,
                                f"'{text}': check digits do not match (ISO/IEC 7064 MOD 97-10)")
    start, end = int(m["start"]), int(m["end"])
    if start > end or end > SERIAL_MAX:
        raise RegistryRejection(Rejection.serial_must_be_well_formed,
                                f"'{text}': block start {start} must not exceed end {end}")
    return BlockSerial(m["registry"], m["country"], int(m["project"]), int(m["vintage"]),
                       start, end)


# ---------------------------------------------------------------------------------------
# Other registries' public formats (for checking imported blocks for overlap)


@dataclass(frozen=True)
class ForeignBlock:
    """A block of another registry's units, parsed from its public serial.

    ``numbering`` names the range of serials within which start/end are unique: two blocks
    can overlap only if their ``numbering`` is equal.
    """

    program: str
    numbering: tuple[str, ...]
    host_country: str
    project: str
    vintage: str
    serial_start: int
    serial_end: int
    raw: str

    @property
    def serial_count(self) -> int:
        """Return the number of serials in the block."""
        return self.serial_end - self.serial_start + 1

    def _checked(self) -> ForeignBlock:
        if self.serial_start > self.serial_end:
            raise RegistryRejection(
                Rejection.serial_must_be_well_formed,
                f"'{self.raw}': block start {self.serial_start} exceeds end {self.serial_end}",
            )
        return self

    def overlaps(self, other: ForeignBlock) -> bool:
        """Return True when both blocks are in the same numbering and share a serial."""
        return (self.numbering == other.numbering
                and self.serial_start <= other.serial_end
                and other.serial_start <= self.serial_end)


_VERRA = re.compile(
    r"^(?P<batch>\d+)-(?P<start>\d+)-(?P<end>\d+)-(?:(?P<program>VCS)-)?(?P<unit>VCU)-"
    r"(?P<verifier>\d+)-(?P<registry>[A-Z]+)-(?P<country>[A-Z]{2})-(?P<scope>\d+)-"
    r"(?P<project>\d+)-(?P<vstart>\d{8})-(?P<vend>\d{8})-(?P<flag>\d)$"
)
_GOLD = re.compile(
    r"^(?P<prefix>GS\d+-\d+)-(?P<country>[A-Z]{2})-(?P<project>GS\d+)-(?P<type>\d+)-"
    r"(?P<vintage>\d{4})-(?P<batch>\d+)-(?P<start>\d+)-(?P<end>\d+)$"
)
_UNDP2 = re.compile(
    r"^(?P<approach>[A-Z]{2}\d+)-(?P<country>[A-Z]{2})-(?P<first>[A-Z]{2})-(?P<project>\d+)-"
    r"(?P<start>\d+)-(?P<end>\d+)-(?P<vintage>\d{4})$"
)
_UNDP1 = re.compile(
    r"^(?P<country>[A-Z]{2})-ITMO-(?P<scope>\d+)-(?P<project>\d+)-(?P<vintage>\d{4})-0-"
    r"(?P<start>\d+)-(?P<end>\d+)$"
)


def parse_foreign_serial(text: str) -> ForeignBlock:
    """Parse a Verra VCU, Gold Standard, UNDP NCR (v1 or v2) or hesuan block serial.

    Field layouts as published (see ``docs/registry.md``):

    * Verra VCU: ``batch-start-end-[VCS-]VCU-verifier-registry-country-scope-project-
      vintage_start(DDMMYYYY)-vintage_end-flag``; start/end are taken as unique across the
      Verra registry.
    * Gold Standard: ``GS1-1-country-GSproject-type-vintage-batch-start-end``; numbering per
      project.
    * UNDP NCR v2: ``approach-country-first_transferring_party-project-start-end-vintage``;
      numbering per project across vintages. v1: ``country-ITMO-scope-project-year-0-start-end``.
    """
    t = text.strip()
    if m := _VERRA.match(t):
        return ForeignBlock("verra", ("verra",), m["country"], m["project"], m["vstart"][-4:],
                            int(m["start"]), int(m["end"]), t)._checked()
    if m := _GOLD.match(t):
        return ForeignBlock("gold_standard", ("gold_standard", m["project"]), m["country"],
                            m["project"], m["vintage"], int(m["start"]), int(m["end"]),
                            t)._checked()
    if m := _UNDP2.match(t):
        return ForeignBlock("undp_ncr", ("undp_ncr", m["country"], m["project"]), m["country"],
                            m["project"], m["vintage"], int(m["start"]), int(m["end"]),
                            t)._checked()
    if m := _UNDP1.match(t):
        return ForeignBlock("undp_ncr_v1", ("undp_ncr", m["country"], m["project"]),
                            m["country"], m["project"], m["vintage"], int(m["start"]),
                            int(m["end"]), t)._checked()
    if _OURS.match(t):
        s = parse_serial(t)
        return ForeignBlock("hesuan", ("hesuan", s.registry), s.host_country,
                            str(s.project_id), str(s.vintage), s.serial_start, s.serial_end, t)
    raise RegistryRejection(
        Rejection.serial_must_be_well_formed,
        f"'{text}' matches none of the known serial formats "
        "(Verra VCU, Gold Standard, UNDP NCR v1/v2, hesuan)",
    )


def find_overlaps(serials: list[str], max_count: int = 100_000) -> list[tuple[str, str]]:
    """Pairs of serials (any known format) whose blocks overlap; sorted sweep, O(n log n)."""
    if len(serials) > max_count:
        raise RegistryRejection(Rejection.page_limit_must_lie_in_1_500,
                                f"at most {max_count} serials per overlap check")
    blocks = sorted((parse_foreign_serial(s) for s in serials),
                    key=lambda b: (b.numbering, b.serial_start))
    pairs: list[tuple[str, str]] = []
    active: list[ForeignBlock] = []
    for b in blocks:
        active = [a for a in active if a.numbering == b.numbering
                  and a.serial_end >= b.serial_start]
        pairs.extend((a.raw, b.raw) for a in active)
        active.append(b)
    return pairs
