"""Outputs of a run: checked before work, published together or not at all, run directories
with a manifest that never mix two runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hesuan.errors import OutputPathError
from hesuan.io.outputs import MANIFEST_NAME, OutputSet, sha256_file


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_all_published_together(tmp_path: Path) -> None:
    with OutputSet("test") as outs:
        a = outs.add(tmp_path / "a.parquet", "parquet")
        b = outs.add(tmp_path / "sub" / "b.json", "json")
        a.tmp.write_bytes(b"A")
        b.tmp.write_text("{}")
        assert _files(tmp_path) == {a.tmp.name, f"sub/{b.tmp.name}"}
    assert _files(tmp_path) == {"a.parquet", "sub/b.json"}


def test_failure_publishes_nothing_and_keeps_the_old_files(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(b"OLD")
    with pytest.raises(RuntimeError), OutputSet("test") as outs:
        a = outs.add(tmp_path / "a.parquet", "parquet")
        outs.add(tmp_path / "new" / "b.json", "json")
        a.tmp.write_bytes(b"NEW")
        raise RuntimeError("the work failed")
    assert _files(tmp_path) == {"a.parquet"}
    assert (tmp_path / "a.parquet").read_bytes() == b"OLD"  # and the made folder is gone


@pytest.mark.parametrize(("name", "fmt", "fragment"), [
    ("r.csv", "parquet", "does not end in .parquet or .pq"),
    ("r", "json", "does not end in .json"),
    ("r.parquet", ("csv", "json"), "does not end in .csv or .json"),
])
def test_extension_must_match_the_format(tmp_path: Path, name: str, fmt: str,
                                         fragment: str) -> None:
    with pytest.raises(OutputPathError, match=fragment):
        OutputSet("t").add(tmp_path / name, fmt, label="--out")
    assert _files(tmp_path) == set()


def test_format_chosen_by_name(tmp_path: Path) -> None:
    outs = OutputSet("t")
    assert outs.add(tmp_path / "x.csv", ("parquet", "csv")).format == "csv"
    assert outs.add(tmp_path / "x.pq", ("parquet", "csv")).format == "parquet"
    with pytest.raises(OutputPathError, match="named twice"):
        outs.add(tmp_path / "x.csv", ("parquet", "csv"))


def test_folder_below_file_and_directory(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputPathError, match=r"is below .*file\.txt, which is a file"):
        OutputSet("t").add(tmp_path / "file.txt" / "deeper" / "o.json", "json")
    (tmp_path / "d.json").mkdir()
    with pytest.raises(OutputPathError, match="is a folder"):
        OutputSet("t").add(tmp_path / "d.json", "json")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        OutputSet("t", directory=tmp_path / "file.txt")


@pytest.fixture
def readonly_dir(tmp_path: Path):
    """A read-only tmpfs (permission bits mean nothing to root)."""
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    yield target
    subprocess.run(["umount", str(target)], check=False)


def test_read_only_location_is_refused_before_work(readonly_dir: Path, tmp_path: Path) -> None:
    outs = OutputSet("t")
    outs.add(tmp_path / "fine.parquet", "parquet")
    with pytest.raises(OutputPathError, match="read-only file system"):
        outs.add(readonly_dir / "s.json", "json", label="--summary")
    with pytest.raises(OutputPathError, match=r"cannot be made \(read-only file system"):
        OutputSet("t").add(readonly_dir / "sub" / "s.json", "json")
    with pytest.raises(OutputPathError, match="read-only"):
        OutputSet("t", directory=readonly_dir)


def test_run_directory_manifest_and_no_mixing(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with OutputSet("land carbon", directory=run) as outs:
        for name in ("a.tif", "b.tif", "summary.json"):
            outs.file(name, ("geotiff", "json")).tmp.write_bytes(name.encode())
    manifest = json.loads((run / MANIFEST_NAME).read_text())
    assert manifest["command"] == "land carbon"
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        n: sha256_file(run / n) for n in ("a.tif", "b.tif", "summary.json")}
    with pytest.raises(OutputPathError, match="holds the outputs of an earlier run"):
        OutputSet("land carbon", directory=run)
    (run / "notes.txt").write_text("mine")
    with OutputSet("land carbon", directory=run, overwrite=True) as outs:
        outs.file("a.tif", "geotiff").tmp.write_bytes(b"new")
    assert _files(run) == {"a.tif", MANIFEST_NAME, "notes.txt"}  # b.tif, summary.json gone
    assert (run / "a.tif").read_bytes() == b"new"


def test_run_directory_refuses_to_replace_unlisted_files(tmp_path: Path) -> None:
    (tmp_path / "a.tif").write_bytes(b"someone's")
    with pytest.raises(OutputPathError, match="no hesuan manifest lists it"):
        OutputSet("t", directory=tmp_path).file("a.tif", "geotiff")


def test_unwritten_output_publishes_nothing(tmp_path: Path) -> None:
    from hesuan.errors import HesuanError

    with pytest.raises(HesuanError, match="outputs not written"), OutputSet("t") as outs:
        outs.add(tmp_path / "a.json", "json").tmp.write_text("{}")
        outs.add(tmp_path / "b.json", "json")
    assert _files(tmp_path) == set()


def test_a_failed_publish_puts_the_old_files_back(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """If moving one output into place fails, the outputs already moved are taken back and
    the files they replaced restored: the folder never mixes two runs."""
    import hesuan.io.outputs as outputs_module

    (tmp_path / "a.json").write_text("old a")
    (tmp_path / "b.json").write_text("old b")
    outs = OutputSet("t")
    a = outs.add(tmp_path / "a.json", "json")
    b = outs.add(tmp_path / "b.json", "json")
    a.tmp.write_text("new a")
    b.tmp.write_text("new b")
    real = os.replace

    def failing(src: str | Path, dst: str | Path) -> None:
        if Path(src) == b.tmp:
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(outputs_module.os, "replace", failing)
    with pytest.raises(OutputPathError, match=r"no space left .* nothing was changed"):
        outs.publish()
    monkeypatch.undo()
    assert (tmp_path / "a.json").read_text() == "old a"
    assert (tmp_path / "b.json").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_an_output_that_became_a_folder_is_refused(tmp_path: Path) -> None:
    outs = OutputSet("t")
    a = outs.add(tmp_path / "a.json", "json")
    a.tmp.write_text("{}")
    (tmp_path / "a.json").mkdir()
    with pytest.raises(OutputPathError, match="became a folder"):
        outs.publish()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
