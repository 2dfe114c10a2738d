"""Serial blocks and formats.

Expected values come from published examples: the serial formats and the UNDP block split
quoted in tests/registry/SOURCE.md (UNDP National Carbon Registry v1/v2, Verra VCU,
Gold Standard), and the IBAN example of ISO 13616-1 for the ISO/IEC 7064 MOD 97-10 check.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.serials import (
    Block,
    BlockSerial,
    carve,
    find_overlaps,
    format_serial,
    mod97_check,
    mod97_valid,
    parse_foreign_serial,
    parse_serial,
    split_tail,
)

serials = st.builds(
    lambda reg, cc, proj, vintage, start, n: BlockSerial(reg, cc, proj, vintage, start,
                                                         start + n),
    st.from_regex(r"[A-Z][A-Z0-9]{1,7}", fullmatch=True),
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    st.integers(1, 10**12), st.integers(1900, 2200), st.integers(1, 10**15),
    st.integers(0, 10**9),
)


@given(serials)
def test_parse_inverts_format(s: BlockSerial) -> None:
    assert parse_serial(format_serial(s)) == s


@given(serials, st.data())
def test_check_digits_catch_any_single_substitution(s: BlockSerial, data: st.DataObject) -> None:
    # ISO/IEC 7064:2003 clause 7.1: MOD 97-10 detects all single substitution errors.
    text = format_serial(s)
    i = data.draw(st.sampled_from([k for k, ch in enumerate(text) if ch.isdigit()]))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != text[i]]))
    bad = text[:i] + new + text[i + 1:]
    with pytest.raises(RegistryRejection) as exc:
        parse_serial(bad)
    assert exc.value.code is Rejection.serial_must_be_well_formed


def test_mod97_matches_published_iban_example() -> None:
    # ISO 13616-1 example IBAN GB82 WEST 1234 5698 7654 32: check digits 82.
    assert mod97_valid("WEST12345698765432GB82")
    assert mod97_check("WEST12345698765432GB") == "82"
    assert not mod97_valid("WEST12345698765432GB83")


def test_undp_split_head_stays_tail_moves() -> None:
    # UNDP NCR: CA0004-VU-CH-356-1-3000-2023, 1000 transferred → sender keeps 1-2000,
    # recipient gets 2001-3000 (UNDP v2, tests/registry/SOURCE.md).
    head, tail = split_tail(Block(1, 3000), 1000)
    assert head == Block(1, 2000) and tail == Block(2001, 3000)
    assert split_tail(Block(1, 3000), 3000) == (None, Block(1, 3000))
    assert carve(Block(1, 10), Block(4, 6)) == ([Block(1, 3), Block(7, 10)], Block(4, 6))


@pytest.mark.parametrize(("text", "program", "country", "project", "vintage", "start", "end"), [
    ("CA0004-VU-CH-356-1-3000-2023", "undp_ncr", "VU", "356", "2023", 1, 3000),
    ("CA0004-VU-CH-356-3001-5000-2024", "undp_ncr", "VU", "356", "2024", 3001, 5000),
    ("VU-ITMO-11-356-2022-0-27-35", "undp_ncr_v1", "VU", "356", "2022", 27, 35),
    ("9344-82392553-82392562-VCS-VCU-262-VER-BR-14-1686-01012017-31122017-1", "verra", "BR",
     "1686", "2017", 82392553, 82392562),
    ("9344-82392553-82392562-VCU-262-VER-BR-14-1686-01012017-31122017-1", "verra", "BR",
     "1686", "2017", 82392553, 82392562),
    ("GS1-1-KE-GS7495-16-2025-30645-608-30350", "gold_standard", "KE", "GS7495", "2025", 608,
     30350),
])
def test_parse_public_formats(text: str, program: str, country: str, project: str,
                              vintage: str, start: int, end: int) -> None:
    b = parse_foreign_serial(text)
    assert (b.program, b.host_country, b.project, b.vintage, b.serial_start, b.serial_end) == \
        (program, country, project, vintage, start, end)
    assert b.serial_count == end - start + 1


def test_overlap_check_on_imported_blocks() -> None:
    blocks = ["CA0004-VU-CH-356-1-3000-2023", "CA0004-VU-CH-356-3001-5000-2024",
              "CA0004-VU-CH-356-2001-3000-2023",           # overlaps the first
              "CA0004-VU-CH-357-1-3000-2023",              # other project: own numbering
              "GS1-1-KE-GS7495-16-2025-30645-608-30350",
              "GS1-1-KE-GS7495-16-2025-30646-30000-30400"]  # overlaps the GS block
    assert sorted(find_overlaps(blocks)) == sorted([
        ("CA0004-VU-CH-356-1-3000-2023", "CA0004-VU-CH-356-2001-3000-2023"),
        ("GS1-1-KE-GS7495-16-2025-30645-608-30350", "GS1-1-KE-GS7495-16-2025-30646-30000-30400"),
    ])


@pytest.mark.parametrize("text", ["", "HSN-KE-1-2024-10-1-00", "ABC", "HSN-ke-1-2024-1-2-00",
                                  "CA0004-VU-CH-356-3000-1-2023"])
def test_malformed_serials_are_rejected_with_the_text(text: str) -> None:
    with pytest.raises(RegistryRejection) as exc:
        parse_foreign_serial(text)
    assert exc.value.code is Rejection.serial_must_be_well_formed
    assert text in exc.value.message


@given(st.lists(st.tuples(st.integers(1, 200), st.integers(0, 20)), max_size=30))
def test_overlap_sweep_matches_pairwise(ranges: list[tuple[int, int]]) -> None:
    texts = [f"CA0004-VU-CH-356-{a}-{a + n}-2023-" for a, n in ranges]
    texts = [f"{t[:-1]}" for t in texts]
    found = {frozenset(p) for p in find_overlaps(texts) if p[0] != p[1]}
    expected = set()
    for i, (a, n) in enumerate(ranges):
        for j, (b, m) in enumerate(ranges):
            if i < j and a <= b + m and b <= a + n and texts[i] != texts[j]:
                expected.add(frozenset((texts[i], texts[j])))
    assert found == expected
