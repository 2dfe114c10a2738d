"""``hesuan quantify``, ``hesuan attest``, ``hesuan verify-attestation`` and
``hesuan registry trace`` as a user meets them: JSON output, exact re-runs, one clear message
(exit 2) on any error and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hesuan.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    # the console wraps long lines at the terminal width: undo it for the assertions
    return code, captured.out, captured.err.replace("\n", "")


def test_help_teaches_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["quantify"], ["attest"], ["attest", "sign"], ["verify-attestation"],
                 ["registry", "trace"], ["registry", "accredit"]):
        code, out, _ = run(capsys, *argv, "--help")
        assert code == 0 and "Example" in out, argv


def test_quantify_json_then_check(example: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q"
    code, stdout, _ = run(capsys, "quantify", str(example), "--out", str(out), "--json")
    assert code == 0
    result = json.loads(stdout)
    assert result["methodology"] == "CCER-14-001@V01" and len(result["periods"]) == 2
    report = out / "quantification_2025-12-31.json"
    assert report.is_file() and report.with_suffix(".html").is_file()
    html = report.with_suffix(".html").read_text(encoding="utf-8")
    assert json.loads(report.read_text())["report_sha256"] in html
    code, stdout, _ = run(capsys, "quantify", "--check", str(report), "--project",
                          str(example), "--json")
    assert code == 0 and json.loads(stdout)["ok"] is True
    # one byte of an input changed → exit 2, one message
    plots = example.parent / "plots_2025.csv"
    plots.write_bytes(plots.read_bytes().replace(b"400", b"401", 1))
    code, _, err = run(capsys, "quantify", "--check", str(report), "--project", str(example))
    assert code == 2 and "has changed" in err and "Traceback" not in err


def test_bad_input_exit_2_and_nothing_written(example: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    trees = example.parent / "trees_2025.csv"
    trees.write_text(trees.read_text().replace("A01,1,conifer_demo,", "A01,1,,", 1))
    out = tmp_path / "q"
    code, _, err = run(capsys, "quantify", str(example), "--out", str(out))
    assert code == 2 and "trees_2025.csv, line 2, field 'species': empty" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_attest_and_verify_offline(example: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q"
    assert run(capsys, "quantify", str(example), "--out", str(out), "--no-html")[0] == 0
    report = out / "quantification_2025-12-31.json"
    key = tmp_path / "v.key"
    code, stdout, _ = run(capsys, "attest", "keygen", "--out", str(key), "--json")
    pub = json.loads(stdout)["public_key"]
    att = tmp_path / "att.json"
    assert run(capsys, "attest", "sign", str(report), "--key", str(key), "--verifier", "V",
               "--out", str(att))[0] == 0
    code, stdout, _ = run(capsys, "verify-attestation", str(att), "--report", str(report),
                          "--public-key", pub, "--json")
    assert code == 0 and json.loads(stdout)["ok"]
    doc = json.loads(att.read_text())
    doc["verified_units"] -= 1
    att.write_text(json.dumps(doc))
    code, _, err = run(capsys, "verify-attestation", str(att))
    assert code == 2 and "does not verify" in err


def test_demo_chain_and_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hesuan.cli.quantify import run_demo

    paths = run_demo(tmp_path)
    capsys.readouterr()        # the demo's own printing
    chain = json.loads((tmp_path / "quantification/chain.json").read_text())
    assert chain["audit_ok"] and chain["issued_units"] == sum(
        v["units"] for v in json.loads(
            (tmp_path / "quantification/quantification_2025-12-31.json").read_text())[
            "vintages"])
    db = next(p for p in paths if p.name == "registry.db")
    code, stdout, _ = run(capsys, "registry", "trace", chain["retired_serial"], "--db",
                          str(db), "--json")
    assert code == 0
    tr = json.loads(stdout)
    assert tr["unit"]["status"] == "retired"
    assert tr["unit"]["retirement"]["beneficiary"] == "Acme Airlines passengers 2025"
    assert tr["attestation"]["signature_verifies"] is True
    vintage = tr["issuance"]["vintage"]
    units = {v["year"]: v["units"] for v in json.loads(
        (tmp_path / "quantification/quantification_2025-12-31.json").read_text())["vintages"]}
    assert tr["trail"][0]["value"] == units[vintage]
    files = tr["trail"][-1]["inputs"]
    assert {f["path"] for f in files} >= {"trees_2025.csv", "plots_2025.csv", "project.toml"}
    code, stdout, _ = run(capsys, "registry", "trace", chain["retired_serial"], "--db",
                          str(db))
    assert code == 0 and "AR-TOOL14 v04.2 §8.3" in stdout


@pytest.mark.skipif(not any(__import__("shutil").which(b) for b in ("chromium",
                                                                    "chromium-browser",
                                                                    "google-chrome")),
                    reason="no Chromium to print PDF")
def test_pdf_report(example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q"
    code, _, err = run(capsys, "quantify", str(example), "--out", str(out), "--pdf")
    assert code == 0, err
    pdf = out / "quantification_2025-12-31.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_reports_published_as_one_run_with_a_manifest(example: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The reports are one run (io.outputs.OutputSet): a manifest lists them with their
    SHA-256; a second run into the folder is refused, or replaces the whole set with
    --overwrite (the HTML of the first run does not stay beside --no-html reports)."""
    from hesuan.io.outputs import read_manifest, sha256_file

    out = tmp_path / "q"
    code, _, err = run(capsys, "quantify", str(example), "--out", str(out))
    assert code == 0, err
    manifest = read_manifest(out)
    assert manifest is not None and manifest["command"] == "quantify"
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(listed) == {p.name for p in out.iterdir() if p.name != "hesuan-manifest.json"}
    assert listed["quantification_2025-12-31.json"] == sha256_file(
        out / "quantification_2025-12-31.json")
    code, _, err = run(capsys, "quantify", str(example), "--out", str(out), "--no-html")
    assert code == 2 and "earlier run" in err and "--overwrite" in err
    code, _, err = run(capsys, "quantify", str(example), "--out", str(out), "--no-html",
                       "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "hesuan-manifest.json", "quantification_2022-12-31.json",
        "quantification_2025-12-31.json"]
