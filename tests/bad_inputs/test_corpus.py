"""Run the bad-input corpus (``cases/*.toml``, see ``harness.py``): every case answers with
its expected exit status and message, no case ends in a traceback, and a refused run writes
no file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .harness import (
    EXAMPLES,
    Case,
    changed,
    fill,
    format_traceback,
    load_cases,
    make_files,
    run_hesuan,
    snapshot,
)

ALL = load_cases()


def _setup_registry(tmp: Path, capture) -> dict[str, str]:  # type: ignore[no-untyped-def]
    outcome = run_hesuan(["registry", "init", "--db", str(tmp / "reg.db"), "--json"], capture)
    assert outcome.exit == 0, outcome.output
    text = outcome.output
    token = json.loads(text[text.index("{"):text.rindex("}") + 1])["token"]
    return {"admin_token": token, "db": str(tmp / "reg.db")}


SETUPS = {"registry": _setup_registry}


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_case(case: Case, tmp_path: Path, read_only_dir: Path,
              capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("HESUAN_REGISTRY_DB", raising=False)
    monkeypatch.delenv("HESUAN_TOKEN", raising=False)

    def capture() -> tuple[str, str]:
        got = capsys.readouterr()
        return got.out, got.err

    places = {"tmp": str(tmp_path), "ro": str(read_only_dir), "examples": str(EXAMPLES)}
    if case.setup:
        places |= SETUPS[case.setup](tmp_path, capture)
    make_files(case, tmp_path, places)
    before = snapshot(tmp_path, read_only_dir)
    outcome = run_hesuan([fill(a, places) for a in case.command], capture)
    if outcome.error is not None:
        pytest.fail(f"traceback:\n{format_traceback(outcome.error)}")
    assert "Traceback (most recent call last)" not in outcome.output
    assert outcome.exit == case.exit, outcome.output
    for fragment in case.expect:
        assert fill(fragment, places) in outcome.output, outcome.output
    for fragment in case.absent:
        assert fill(fragment, places) not in outcome.output, outcome.output
    if case.no_output:
        assert changed(before, snapshot(tmp_path, read_only_dir), case.ignore) == []


def test_corpus_counts() -> None:
    """The corpus covers every command class it claims (a case file per area)."""
    sources = {c.source for c in ALL}
    assert {"factors.toml", "registry.toml"} <= sources
    assert len(ALL) >= 30
