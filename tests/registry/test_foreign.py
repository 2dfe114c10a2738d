"""Import of another registry's public export and the double-issuance check across
registries, on SQLite and PostgreSQL.

The CAD Trust document below follows the field names of the CAD Trust data model
(``Chia-Network/cadt``: ``src/models/projects/projects.modeltypes.cjs``,
``src/models/units/units.modeltypes.cjs`` and its ``units.stub.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text, update

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.foreign import from_cadt

from .conftest import World, assert_sound, attestation, fresh_summary

CADT_DOC = {
    "projects": [{"warehouseProjectId": "9b1c-project", "currentRegistry": "Verra",
                  "registryOfOrigin": "Verra", "projectId": "c.934", "originProjectId": "VCS-1234",
                  "projectName": "Mau Forest (as listed by Verra)"}],
    "units": [{"warehouseUnitId": "5c96-unit", "warehouseProjectId": "9b1c-project",
               "vintageYear": 2024, "serialNumberBlock": "ABC1000-ABC1010",
               "unitStatus": "Held", "correspondingAdjustmentDeclaration": "Committed",
               "correspondingAdjustmentStatus": "Not Started"}],
}


def _project(w: World, external: str | None) -> int:
    proj = w.reg.create_project(w.proponent, w.key(), name="Second forest",
                                methodology_id="CCER-14-001", methodology_version="V01",
                                host_country="KE", host_region="Nakuru", sector="AFOLU",
                                crediting_start="2020-01-01", crediting_end="2039-12-31",
                                buffer_pct="0", external_project_id=external)
    pid = proj["project_id"]
    w.reg.transition_project(w.verifier, w.key(), project_id=pid, status="validated")
    w.reg.transition_project(w.admin, w.key(), project_id=pid, status="registered")
    rep = w.reg.submit_report(w.proponent, w.key(), project_id=pid, period_start="2023-01-01",
                              period_end="2024-12-31", reported_quantity=500,
                              quantification=(text := fresh_summary()))
    w.reg.verify_report(w.verifier, w.key(), report_id=rep["report_id"],
                        verified_quantity=400, attestation=attestation(text, 400))
    return int(rep["report_id"])


def test_our_cadt_export_is_read_back_as_foreign(world: World) -> None:
    """This registry's own CAD Trust export, read as another registry's: the blocks of a
    project with an external id are recorded under that id and its vintage."""
    from hesuan.registry.service import exports

    w = world
    report_id = _project(w, "VCS-9")
    w.reg.issue(w.admin, w.key(), report_id=report_id, quantity=10, vintage=2023)
    with w.reg.read() as s, s.begin():
        doc = exports.cadt_records(s, registry_link="https://a.example").as_dict()
    got = from_cadt(doc, "ours.json")
    assert sum(1 for r in got if r.external_project_id == "VCS-9" and r.vintage == 2023) >= 1
    assert {r.registry for r in got} == {"HSN"}


def test_cadt_units_linked_through_their_issuance() -> None:
    """As CAD Trust itself links them: a unit names its issuance (``issuanceId``, or the
    ``issuance`` record its API nests), and the issuance names the project."""
    project = {**CADT_DOC["projects"][0],
               "issuances": [{"id": "iss-1", "warehouseProjectId": "9b1c-project"}]}
    unit = {k: v for k, v in CADT_DOC["units"][0].items() if k != "warehouseProjectId"}
    for u in ({**unit, "issuanceId": "iss-1"},
              {**unit, "issuance": {"id": "x", "warehouseProjectId": "9b1c-project"}}):
        [r] = from_cadt({"projects": [project], "units": [u]}, "cadt.json")
        assert (r.registry, r.external_project_id, r.vintage) == ("Verra", "VCS-1234", 2024)
    with pytest.raises(RegistryRejection, match="names a project"):
        from_cadt({"projects": [project], "units": [{**unit, "issuanceId": "nope"}]}, "c")


def test_cadt_export_parsed() -> None:
    [r] = from_cadt(CADT_DOC, "verra.json")
    assert (r.registry, r.external_project_id, r.vintage, r.block_start, r.block_end) == \
        ("Verra", "VCS-1234", 2024, "ABC1000", "ABC1010")
    with pytest.raises(RegistryRejection) as e:
        from_cadt({"units": []}, "x.json")
    assert e.value.code is Rejection.foreign_export_must_be_readable


def test_double_issuance_across_registries_refused(world: World) -> None:
    w = world
    report_id = _project(w, "VCS-1234")
    records = [r.as_dict() for r in from_cadt(CADT_DOC, "verra.json")]
    out = w.reg.record_foreign_issuances(w.admin, w.key(), source="verra.json", records=records)
    assert out["recorded"] == 1
    again = w.reg.record_foreign_issuances(w.admin, w.key(), source="verra.json",
                                           records=records)
    assert again == {"recorded": 0, "already_recorded": 1, "event_seq": None}
    with pytest.raises(RegistryRejection) as e:
        w.reg.issue(w.admin, w.key(), report_id=report_id, quantity=10, vintage=2024)
    assert e.value.code is Rejection.issuance_must_not_duplicate_foreign_issuance
    # another vintage of the same project, and projects without that external id, issue
    assert w.reg.issue(w.admin, w.key(), report_id=report_id, quantity=10,
                       vintage=2023)["quantity"] == 10
    other = _project(w, "GS-77")
    assert w.reg.issue(w.admin, w.key(), report_id=other, quantity=5,
                       vintage=2024)["quantity"] == 5
    # only the administrator records, and never this registry's own blocks
    with pytest.raises(RegistryRejection) as e:
        w.reg.record_foreign_issuances(w.holder, w.key(), source="x", records=records)
    assert e.value.code is Rejection.role_must_permit_operation
    with pytest.raises(RegistryRejection) as e:
        w.reg.record_foreign_issuances(w.admin, w.key(), source="x",
                                       records=[{**records[0], "registry": "HSN"}])
    assert e.value.code is Rejection.foreign_registry_must_not_be_this_registry
    with pytest.raises(RegistryRejection) as e:
        w.reg.record_foreign_issuances(w.admin, w.key(), source="x",
                                       records=[{**records[0], "vintage": "twenty"}])
    assert e.value.code is Rejection.foreign_export_must_be_readable
    assert_sound(w.reg)


def test_foreign_rows_are_covered_by_verify(world: World) -> None:
    w = world
    w.reg.record_foreign_issuances(w.admin, w.key(), source="verra.json",
                                   records=[r.as_dict() for r in from_cadt(CADT_DOC, "v")])
    assert_sound(w.reg)
    with w.reg.engine.begin() as conn:  # a direct edit: the foreign block moved to 2023
        conn.execute(update(t.foreign_issuances).values(vintage=2023))
    report = w.reg.verify(full=True)
    assert not report["ok"]
    assert any("foreign_issuances" in p for p in report["problems"])
    with w.reg.engine.begin() as conn:  # and a deleted one
        conn.execute(text("DELETE FROM foreign_issuances"))
    assert not w.reg.verify(full=True)["ok"]


def test_cli_import_foreign(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hesuan.cli.registry import app
    from hesuan.registry.engine import Registry

    from .conftest import build_world

    db = tmp_path / "r.db"
    reg = Registry.open(f"sqlite:///{db}")
    try:
        w = build_world(reg)
        report_id = _project(w, "VCS-1234")
    finally:
        reg.close()
    (tmp_path / "verra.json").write_text(json.dumps(CADT_DOC))
    (tmp_path / "gs.csv").write_text("registry,project_id,vintage,block_start,block_end\n"
                                     "GS,VCS-1234,2023,GS-1,GS-50\n")
    runner = CliRunner()
    for name in ("verra.json", "gs.csv"):
        r = runner.invoke(app, ["import-foreign", str(tmp_path / name), "--db", str(db),
                                "--token", w.tokens["admin"], "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["recorded"] == 1
    (tmp_path / "bad.csv").write_text("registry,project_id,vintage,block_start,block_end\n"
                                      "GS,VCS-1234,twenty,GS-1,GS-50\n")
    r = runner.invoke(app, ["import-foreign", str(tmp_path / "bad.csv"), "--db", str(db),
                            "--token", w.tokens["admin"]])
    assert r.exit_code != 0 and "vintage" in str(r.exception)
    reg = Registry.open(f"sqlite:///{db}")
    try:
        for vintage in (2023, 2024):
            with pytest.raises(RegistryRejection) as e:
                reg.issue(reg.authenticate(w.tokens["admin"]), "k" + str(vintage),
                          report_id=report_id, quantity=10, vintage=vintage)
            assert e.value.code is Rejection.issuance_must_not_duplicate_foreign_issuance
        assert_sound(reg)
    finally:
        reg.close()


def test_import_racing_issuance_never_lets_a_duplicate_through(world: World) -> None:
    """Issuances of 10 units race an import of the same project/vintage from another
    registry: every issuance that succeeds was journaled before the import."""
    import threading

    w = world
    report_id = _project(w, "VCS-1234")
    records = [r.as_dict() for r in from_cadt(CADT_DOC, "verra.json")]
    issued: list[int] = []
    refused: list[Rejection] = []
    imported: list[int] = []
    start = threading.Barrier(9)

    def issue() -> None:
        start.wait()
        for _ in range(3):
            try:
                issued.append(w.reg.issue(w.admin, w.key(), report_id=report_id, quantity=10,
                                          vintage=2024)["event_seq"])
            except RegistryRejection as exc:
                refused.append(exc.code)

    def record() -> None:
        start.wait()
        imported.append(w.reg.record_foreign_issuances(
            w.admin, w.key(), source="verra.json", records=records)["event_seq"])

    threads = [threading.Thread(target=issue) for _ in range(8)] + \
        [threading.Thread(target=record)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    [cut] = imported
    assert len(issued) + len(refused) == 24
    assert all(seq < cut for seq in issued)
    assert set(refused) <= {Rejection.issuance_must_not_duplicate_foreign_issuance}
    assert_sound(w.reg)


def test_round_trip_between_two_registries(world: World, backend: str, tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    """Registry A publishes its CAD Trust export over REST (GET /exports/cadt); registry B,
    on the same backend, imports it and then refuses to issue for A's project and vintage
    (the double-issuance check across registries), while other vintages still issue."""
    import httpx

    from hesuan.registry.api import create_app
    from hesuan.registry.api.inprocess import InProcessTransport
    from hesuan.registry.engine import Registry

    from .conftest import build_world, registry_url

    a = world
    a_report = _project(a, "VCS-5501")
    a.reg.issue(a.admin, a.key(), report_id=a_report, quantity=40, vintage=2024)
    with httpx.Client(transport=InProcessTransport(create_app(a.reg)),
                      base_url="https://registry-a.example") as client:
        r = client.get("/exports/cadt")
    assert r.status_code == 200, r.text
    published = json.loads(r.content)  # what a second registry downloads
    (tmp_path / "b").mkdir()
    b_reg = Registry.open(registry_url(backend, tmp_path / "b", request), pool_size=5)
    try:
        b = build_world(b_reg, registry_code="KEN")
        records = [x.as_dict() for x in from_cadt(published, "registry-a-cadt.json")]
        assert {x["registry"] for x in records} == {"HSN"}
        out = b.reg.record_foreign_issuances(b.admin, b.key(), source="registry-a-cadt.json",
                                             records=records)
        assert out["recorded"] == len(records)
        b_report = _project(b, "VCS-5501")
        with pytest.raises(RegistryRejection) as e:
            b.reg.issue(b.admin, b.key(), report_id=b_report, quantity=10, vintage=2024)
        assert e.value.code is Rejection.issuance_must_not_duplicate_foreign_issuance
        assert "HSN" in str(e.value) and "VCS-5501" in str(e.value)
        assert b.reg.issue(b.admin, b.key(), report_id=b_report, quantity=10,
                           vintage=2023)["quantity"] == 10
        assert_sound(b.reg)
    finally:
        b_reg.close()
