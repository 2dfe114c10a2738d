"""The ``hesuan`` command as a user meets it: version, help, factors, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hesuan import __version__
from hesuan.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_python_dash_m_and_version() -> None:
    done = subprocess.run([sys.executable, "-m", "hesuan", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"hesuan {__version__}"


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["factors", "list"], ["factors", "show"], ["factors", "search"],
                 ["factors", "validate"], ["demo"]):
        code, out, _ = run(capsys, *argv, "--help")
        assert code == 0 and "Example" in out, argv


def test_factors_list_json_names_licences(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "list", "--json")
    assert code == 0
    datasets = json.loads(out)
    assert {"desnz_ghg", "ipcc_gwp100"} <= {d["id"] for d in datasets}
    assert all(d["licence"] and d["attribution"] for d in datasets)


def test_factors_show_dataset_prints_licence_and_attribution(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "show", "ipcc_gwp100@AR6", "--json")
    info = json.loads(out)
    assert code == 0 and info["version"] == "AR6" and info["licence"] and info["factors"] > 0


def test_factors_show_one_factor(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "search", "N2O", "--dataset", "ipcc_gwp100@AR6",
                       "--json")
    (hit, *_) = json.loads(out)
    code, out, _ = run(capsys, "factors", "show", f"ipcc_gwp100@AR6:{hit['id']}", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["factor"]["id"] == hit["id"]
    assert shown["dataset"]["attribution"]


def test_validate_reports_problems_without_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "dataset.toml").write_text('id = "bad"\nversion = "1"\n', encoding="utf-8")
    code, _, err = run(capsys, "factors", "validate", str(folder))
    assert code == 2
    assert "field 'licence'" in err and "Traceback" not in err


def test_unknown_factor_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "factors", "show", "ipcc_gwp100@AR6:no.such.gas")
    assert code == 2 and "no factor 'no.such.gas'" in err


def test_demo_writes_the_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path))
    assert code == 0
    catalogue = json.loads((tmp_path / "standards_catalogue.json").read_text())
    assert len(catalogue) >= 4
    assert str(tmp_path.resolve()) in out.replace("\n", "")


def test_factors_methodologies_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "methodologies", "--help")
    assert code == 0 and "Example" in out


def test_factors_methodologies_lists_and_shows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "factors", "methodologies", "--json")
    assert code == 0
    records = json.loads(out)
    assert {"VM0047@1.1", "CCER-14-001@V01", "hesuan-land-carbon-stock-change@1"} <= {
        f"{r['id']}@{r['version']}" for r in records}
    assert all(r["url"] and r["text_licence"] and r["status"] for r in records)
    code, out, _ = run(capsys, "factors", "methodologies", "ccer-14-001-v01", "--json")
    shown = json.loads(out)
    assert code == 0 and (shown["id"], shown["version"]) == ("CCER-14-001", "V01")
    assert shown["valid_from"] == "2023-10-24"   # MEE: in force from 24 October 2023


def test_unknown_methodology_is_a_clear_error_with_near_ones(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "factors", "methodologies", "VM0048@1.0")
    message = " ".join(err.split())          # the console wraps long lines
    assert code == 2 and "did you mean VM0047" in message and "Traceback" not in err


def test_validate_a_methodology_catalogue(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    shipped = Path(__file__).parents[1] / "src/hesuan/standards/data/methodologies/2026-11"
    code, out, _ = run(capsys, "factors", "validate", str(shipped))
    assert code == 0 and "methodologies@2026-11" in out
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "dataset.toml").write_text((shipped / "dataset.toml").read_text("utf-8"),
                                         encoding="utf-8")
    table = (shipped / "methodologies.csv").read_text("utf-8").splitlines()
    table[2] = table[2].replace(",removals,", ",sinks,", 1)
    (folder / "methodologies.csv").write_text("\n".join(table) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "factors", "validate", str(folder))
    assert code == 2 and "line 3" in err and "field 'quantifies'" in err
