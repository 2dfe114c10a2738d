"""Pure rules: deductions and rounding, lifecycle, hash chain, Merkle root, replay."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hesuan.registry.domain.codes import RegistryRejection, Rejection, http_status
from hesuan.registry.domain.events import (
    GENESIS_HASH,
    StoredEvent,
    canonical_json,
    chain_hash,
    event_body,
    merkle_root,
    verify_chain,
)
from hesuan.registry.domain.model import (
    ProjectStatus,
    Role,
    Rounding,
    check_transition,
    deductions,
    percentage_of,
)
from hesuan.registry.domain.quantification import read_quantification

D = Decimal


def test_article_6_4_levies_match_undp_test_seed() -> None:
    # SOURCE.md: a UNDP NCR test seed shows 1000 → holding 930 / share of proceeds 50 /
    # overall mitigation 20 (5 % and 2 %).
    d = deductions(1000, buffer_pct=D(0), share_of_proceeds_pct=D(5),
                   overall_mitigation_pct=D(2), rounding=Rounding.up)
    assert (d.forwarded, d.share_of_proceeds, d.overall_mitigation, d.buffer) == (930, 50, 20, 0)


def test_gold_standard_twenty_percent_buffer() -> None:
    # SOURCE.md: Gold Standard land-use projects put 20 % of each issuance into the buffer.
    d = deductions(1000, buffer_pct=D(20), share_of_proceeds_pct=D(0),
                   overall_mitigation_pct=D(0), rounding=Rounding.up)
    assert (d.buffer, d.forwarded) == (200, 800)


@pytest.mark.parametrize(("q", "pct", "rounding", "expected"), [
    (333, "5", Rounding.up, 17), (333, "5", Rounding.down, 16), (333, "5", Rounding.half_up, 17),
    (10, "5", Rounding.half_up, 1), (10, "5", Rounding.down, 0), (10, "5", Rounding.up, 1),
    (1, "2", Rounding.up, 1), (1, "2", Rounding.half_up, 0), (7, "0", Rounding.up, 0),
])
def test_rounding_rules(q: int, pct: str, rounding: Rounding, expected: int) -> None:
    # 333 × 5 % = 16.65; 10 × 5 % = 0.5; 1 × 2 % = 0.02 (exact decimal arithmetic)
    assert percentage_of(q, D(pct), rounding) == expected


@given(st.integers(1, 10**9), st.decimals(0, 40, places=3), st.decimals(0, 10, places=2),
       st.decimals(0, 5, places=2), st.sampled_from(list(Rounding)))
def test_deductions_partition_the_issuance(q: int, b: Decimal, s: Decimal, o: Decimal,
                                           r: Rounding) -> None:
    parts = [percentage_of(q, pct, r) for pct in (b, s, o)]
    if sum(parts) > q:  # possible only when rounding up tiny issuances
        with pytest.raises(RegistryRejection):
            deductions(q, buffer_pct=b, share_of_proceeds_pct=s, overall_mitigation_pct=o,
                       rounding=r)
        return
    d = deductions(q, buffer_pct=b, share_of_proceeds_pct=s, overall_mitigation_pct=o,
                   rounding=r)
    assert [d.buffer, d.share_of_proceeds, d.overall_mitigation] == parts
    assert d.buffer + d.share_of_proceeds + d.overall_mitigation + d.forwarded == q
    assert min(d.buffer, d.share_of_proceeds, d.overall_mitigation, d.forwarded) >= 0
    if r is Rounding.up:  # never under-deducts
        assert d.buffer >= q * b / 100 and d.share_of_proceeds >= q * s / 100


def test_deductions_may_not_exceed_issuance_nor_be_out_of_range() -> None:
    with pytest.raises(RegistryRejection) as exc:
        deductions(3, buffer_pct=D(60), share_of_proceeds_pct=D(30),
                   overall_mitigation_pct=D(20), rounding=Rounding.up)
    assert exc.value.code is Rejection.deductions_must_not_exceed_issuance
    with pytest.raises(RegistryRejection) as exc:
        percentage_of(10, D(101), Rounding.up)
    assert exc.value.code is Rejection.percentage_must_lie_in_0_100
    with pytest.raises(RegistryRejection) as exc:
        deductions(0, buffer_pct=D(0), share_of_proceeds_pct=D(0),
                   overall_mitigation_pct=D(0), rounding=Rounding.up)
    assert exc.value.code is Rejection.quantity_must_be_positive


def test_lifecycle() -> None:
    check_transition(ProjectStatus.listed, ProjectStatus.validated, Role.verifier)
    check_transition(ProjectStatus.suspended, ProjectStatus.registered, Role.admin)
    with pytest.raises(RegistryRejection) as exc:
        check_transition(ProjectStatus.listed, ProjectStatus.registered, Role.admin)
    assert exc.value.code is Rejection.project_transition_must_be_allowed
    assert "validated" in exc.value.message  # names the allowed targets
    with pytest.raises(RegistryRejection) as exc:
        check_transition(ProjectStatus.listed, ProjectStatus.validated, Role.proponent)
    assert exc.value.code is Rejection.role_must_permit_operation
    with pytest.raises(RegistryRejection) as exc:
        check_transition(ProjectStatus.withdrawn, ProjectStatus.registered, Role.admin)
    assert exc.value.code is Rejection.project_transition_must_be_allowed


def test_every_code_has_an_http_status_in_4xx() -> None:
    for code in Rejection:
        assert 400 <= http_status(code) < 500


def _mth(entries: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash, written recursively exactly as the RFC states it."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(entries[:k]) + _mth(entries[k:])).digest()


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=40))
def test_merkle_root_is_rfc6962(leaves: list[bytes]) -> None:
    assert merkle_root(x.hex() for x in leaves) == _mth(leaves).hex()


def _chain(n: int) -> list[StoredEvent]:
    prev, out = GENESIS_HASH, []
    for seq in range(1, n + 1):
        payload = {"i": seq, "name": "ü"}
        body = canonical_json(event_body(seq, "x", "2025-01-01T00:00:00", 1, payload))
        h = chain_hash(prev, body)
        out.append(StoredEvent(seq, "x", "2025-01-01T00:00:00", 1, canonical_json(payload),
                               prev, h))
        prev = h
    return out


def test_chain_detects_edit_delete_reorder_truncate() -> None:
    ev = _chain(6)
    head = (6, ev[-1].hash)
    assert verify_chain(ev, *head) == (None, 6)
    edited = list(ev)
    edited[2] = StoredEvent(3, "x", ev[2].at, 1, ev[2].payload_json.replace("3", "4"),
                            ev[2].prev_hash, ev[2].hash)
    assert verify_chain(edited, *head)[0].seq == 3
    assert verify_chain(ev[:3] + ev[4:], *head)[0].seq == 4
    swapped = [*ev[:2], ev[3], ev[2], *ev[4:]]
    assert verify_chain(swapped, *head)[0].seq == 3
    fault = verify_chain(ev[:5], *head)[0]
    assert fault is not None and "head" in fault.reason


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(TypeError, match=r"\$\.a\[0\]"):
        canonical_json({"a": [1.5]})
    with pytest.raises(TypeError, match=r"\$\.x\.y\[1\]\.z: floats"):
        canonical_json({"x": {"y": [{"z": 1}, {"z": float("nan")}]}, "w": [2]})

    class Price(float):  # a float subclass (numpy's float64 is one)
        pass

    with pytest.raises(TypeError, match=r"\$\.p: floats"):
        canonical_json({"p": Price(2.0)})
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_json({"a": {1: "one"}})
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert canonical_json({"n": [True, None, [1, ("t", 2)]]}) == '{"n":[true,null,[1,["t",2]]]}'


def test_only_quantification_reports_are_read() -> None:
    """The registry reads a monitoring report's quantification only as a quantification
    report of a methodology with a module; anything else gets its named rejection."""
    from hesuan.standards.methodologies import load_methodologies

    catalogue = load_methodologies()
    ccer, vm = catalogue.resolve("CCER-14-001", "V01"), catalogue.resolve("VM0047", "1.1")
    land = '{"factor_dataset": "glec/3.1", "totals": {"co2e_t_total": 12.5}}'
    for text, method, code in (
            (land, vm, Rejection.methodology_must_have_quantification_module),
            (land, None, Rejection.methodology_must_have_quantification_module),
            ("[1]", ccer, Rejection.quantification_must_be_json_object),
            ("{oops", ccer, Rejection.quantification_must_be_json_object),
            (land, ccer, Rejection.quantification_must_match_report_schema),
            ('{"schema_id": "hesuan.quantification-report/1"}', ccer,
             Rejection.quantification_must_match_report_schema)):
        with pytest.raises(RegistryRejection) as exc:
            read_quantification(text, method, "VM0047@1.1")
        assert exc.value.code is code
