"""The CLI (local database mode) and the demo."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hesuan.cli.registry import app, run_demo


def test_demo_writes_balances_blocks_and_statement(tmp_path: Path) -> None:
    paths = run_demo(tmp_path)
    assert paths[0] == tmp_path / "registry_demo.json" and paths[0].exists()
    out = json.loads(paths[0].read_text())
    # 1000 issued: 20 % buffer, 5 % share of proceeds, 2 % overall mitigation (rounded up),
    # 300 transferred to the buyer, 120 retired (the worked example of docs/registry.md)
    assert out["balances"]["Registry buffer account"] == 200
    assert out["balances"]["Registry levy account"] == 50
    assert out["balances"]["Registry cancellation account"] == 20
    assert out["balances"]["Mau Forest restoration proceeds"] == 430
    assert out["balances"]["Acme Airlines holding"] == 180
    assert out["balances"]["Registry retirement account"] == 120
    retired = out["serial_blocks"]["Registry retirement account"][0]
    assert retired.startswith("HSN-KE-1-2024-611-730-")
    assert "Acme Airlines passengers 2024" in out["retirement_statement"]
    # issued from a quantification report of AR-ACM0003@02.0 (the bundled example plots)
    report = json.loads((tmp_path / "registry" / "quantification.json").read_text("utf-8"))
    assert report["methodology_key"] == "AR-ACM0003@02.0"
    assert out["report"]["quantification_report_sha256"] == report["report_sha256"]
    assert out["audit"]["ok"] is True
    assert not list(tmp_path.glob("*.tmp"))


def test_cli_local_flow_and_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "r.db")
    r = runner.invoke(app, ["init", "--db", db])
    assert r.exit_code == 0, r.output
    admin = json.loads(r.stdout[r.stdout.index("{"):r.stdout.rindex("}") + 1])["token"]
    r = runner.invoke(app, ["party", "Trust", "--role", "proponent", "--country", "KE",
                            "--db", db, "--token", admin, "--key", "p1"])
    assert r.exit_code == 0 and '"role": "proponent"' in r.stdout
    r = runner.invoke(app, ["transfer", "--from", "1", "--to", "2", "--quantity", "3",
                            "--db", db, "--token", admin])
    assert r.exit_code != 0
    assert "retired_or_cancelled_units_must_not_move" in str(r.exception)
    r = runner.invoke(app, ["transfer", "--from", "1", "--to", "2", "--quantity", "3",
                            "--db", db, "--token", "bad"])
    assert "token_must_be_valid" in str(r.exception)
    r = runner.invoke(app, ["project-status", "9", "validated", "--db", db, "--token", admin])
    assert "project_must_exist" in str(r.exception)
    r = runner.invoke(app, ["verify", "--db", db])
    assert r.exit_code == 0 and '"ok": true' in r.stdout
    r = runner.invoke(app, ["show", "serial", "HSN-KE-1-2024-1-2-00", "--db", db])
    assert "serial_must_be_well_formed" in str(r.exception)
