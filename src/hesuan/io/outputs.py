"""All outputs of a run are published together, or none.

:class:`OutputSet` checks every output path *before* any work starts (not a folder, not below
a regular file, its folder exists or can be made and takes a file, its extension is the
format written), hands out a temporary name beside each final name, and on success moves all
of them into place together (replaced files are kept aside until the last one is in place,
then dropped; any failure puts the earlier files back). If the run fails — an exception inside
the ``with`` block — every temporary file is removed and nothing is published.

A *run directory* (``directory=``) also gets a manifest, ``hesuan-manifest.json``: each file
with its SHA-256 and size, hesuan's version, the command and the time. A run into a folder
that holds an earlier run's manifest is refused unless ``overwrite=True``, which replaces the
whole earlier set — files of the earlier run that this run does not write are removed, so the
folder never mixes two runs. A file already in the folder that no manifest lists is not
replaced without ``overwrite=True`` either; other files are left alone.

Example
-------
>>> from hesuan.io.outputs import OutputSet
>>> with OutputSet("transport run") as outs:                    # doctest: +SKIP
...     legs = outs.add(args.out, "parquet", label="--out")     # checked now, before work
...     summary = outs.add(args.summary, "json", label="--summary")
...     frame = compute()                                       # the work
...     frame.write_parquet(legs.tmp)                           # write to the temporary name
...     write_json(summary.tmp, result)
... # leaving the block publishes both; an exception publishes neither

>>> with OutputSet("land carbon", directory=out_dir, overwrite=args.overwrite) as outs:
...     stock = outs.file("carbon_stock.tif", "geotiff")        # doctest: +SKIP
...     ...
... # out_dir/hesuan-manifest.json lists carbon_stock.tif with its SHA-256
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from hesuan.errors import HesuanError, OutputPathError

MANIFEST_NAME = "hesuan-manifest.json"
MANIFEST_FORMAT = "hesuan-manifest/1"

FORMATS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "csv": (".csv",),
    "json": (".json",),
    "html": (".html", ".htm"),
    "geotiff": (".tif", ".tiff"),
    "gpkg": (".gpkg",),
    "xlsx": (".xlsx",),
    "png": (".png",),
    "svg": (".svg",),
    "pdf": (".pdf",),
    "markdown": (".md",),
    "text": (".txt",),
    "sqlite": (".db", ".sqlite", ".sqlite3"),
}
"""Each output format and the file-name endings that may carry it."""


@dataclass(frozen=True)
class PlannedOutput:
    """One output of the run: write to ``tmp``; it is published as ``path``."""

    path: Path
    tmp: Path
    format: str
    label: str = ""
    optional: bool = False

    def __fspath__(self) -> str:
        return str(self.tmp)


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a run directory's manifest (``path`` relative to the directory)."""

    path: str
    sha256: str
    bytes: int
    format: str


def format_of(path: str | Path, allowed: Sequence[str]) -> str | None:
    """Return the format among ``allowed`` whose endings match ``path``'s name, or ``None``."""
    name = Path(path).name.lower()
    for fmt in allowed:
        for ending in FORMATS.get(fmt, (f".{fmt}",)):
            if name.endswith(ending) and len(name) > len(ending):
                return fmt
    return None


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Return the SHA-256 of a file's bytes, read in chunks [hex]."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """Return the manifest of a run directory, or ``None`` when it has none.

    An unreadable manifest is treated as absent: its files are not known.
    """
    path = Path(directory) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def describe_os_error(exc: OSError) -> str:
    """Return a few words for an OS error (``read-only file system``, ``permission denied`` …)."""
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def check_folder(path: str | Path, label: str = "") -> Path:
    """Make sure ``path`` is (or can be made) a folder that takes files; make it.

    For commands whose outputs are written by several steps into one folder (e.g.
    ``hesuan demo``), checked before the first step.

    Raises
    ------
    OutputPathError
        When it is a file, below a file, or on a read-only or full file system.
    """
    folder = Path(path)
    shown = f"{label} {path}" if label else str(path)
    if folder.exists() and not folder.is_dir():
        raise OutputPathError.single("is a file, not a folder", file=shown,
                                     expected="a folder for the outputs")
    probe = OutputSet("check")
    probe._prepare_parent(folder, shown)
    probe._probe(folder / "probe.tmp", shown)
    return folder


class OutputSet:
    """The outputs of one run, checked first and published together (see the module doc).

    Parameters
    ----------
    command : str
        The command that makes the outputs, for the manifest (e.g. ``"land carbon"``).
    directory : str or Path, optional
        A run directory: checked now, gets ``hesuan-manifest.json``; :meth:`file` names
        outputs inside it.
    overwrite : bool
        Replace an earlier run's outputs in ``directory`` (the whole set).
    provenance : mapping, optional
        Embedded in the manifest (e.g. ``Provenance.as_dict()``).
    """

    def __init__(self, command: str, *, directory: str | Path | None = None,
                 overwrite: bool = False, provenance: dict[str, Any] | None = None,
                 label: str = "") -> None:
        self.command = command
        self.overwrite = overwrite
        self.provenance = provenance
        self._outputs: list[PlannedOutput] = []
        self._made_dirs: list[Path] = []
        self._old_files: list[Path] = []
        self._done = False
        self.published: tuple[Path, ...] = ()
        self.directory: Path | None = None
        if directory is not None:
            self.directory = Path(directory)
            self._check_directory(self.directory, label or str(directory))

    # -- declaring outputs ------------------------------------------------------------

    def add(self, path: str | Path, format: str | Sequence[str], *, label: str = "",
            optional: bool = False) -> PlannedOutput:
        """Declare an output and check its path now; write it to the returned ``.tmp``.

        ``format`` is the format written, or several (the returned ``.format`` says which
        one the name asks for, e.g. ``("parquet", "csv")``). ``label`` names the option in
        messages (``"--out"``). An ``optional`` output may be left unwritten.

        Raises
        ------
        OutputPathError
            Naming the path and what is wrong with it.
        """
        if self._done:
            raise HesuanError("this OutputSet was already published or discarded")
        final = Path(path)
        shown = f"{label} {path}" if label else str(path)
        allowed = (format,) if isinstance(format, str) else tuple(format)
        fmt = format_of(final, allowed)
        if fmt is None:
            endings = " or ".join(e for f in allowed for e in FORMATS.get(f, (f".{f}",)))
            raise OutputPathError.single(
                f"the name does not end in {endings}, the format written "
                f"({' or '.join(allowed)})", file=shown, expected=f"a file name ending {endings}")
        if final.is_dir():
            raise OutputPathError.single("is a folder", file=shown,
                                         expected="a file path, e.g. " +
                                         str(final / f"out{FORMATS.get(fmt, ('.'+fmt,))[0]}"))
        if any(o.path.resolve() == final.resolve() for o in self._outputs):
            raise OutputPathError.single("named twice as an output", file=shown,
                                         expected="a different file for each output")
        self._prepare_parent(final.parent, shown)
        in_run = self._in_run(final)
        if in_run and final.exists() and not self.overwrite and \
                final.resolve() not in {p.resolve() for p in self._old_files}:
            raise OutputPathError.single(
                "already exists and no hesuan manifest lists it", file=shown,
                expected="--overwrite to replace it, or another folder")
        tmp = self._probe(final, shown)
        planned = PlannedOutput(final, tmp, fmt, label, optional)
        self._outputs.append(planned)
        return planned

    def file(self, name: str | Path, format: str | Sequence[str], *,
             optional: bool = False) -> PlannedOutput:
        """Declare an output named ``name`` inside the run directory."""
        if self.directory is None:
            raise HesuanError("OutputSet.file needs a run directory (directory=)")
        return self.add(self.directory / name, format, optional=optional)

    @property
    def outputs(self) -> tuple[PlannedOutput, ...]:
        """Return the outputs planned so far, in the order they were added."""
        return tuple(self._outputs)

    # -- checks ---------------------------------------------------------------------------

    def _check_directory(self, directory: Path, shown: str) -> None:
        if directory.exists() and not directory.is_dir():
            raise OutputPathError.single("is a file, not a folder", file=shown,
                                         expected="a folder for the run's outputs")
        self._prepare_parent(directory, shown)
        probe = self._probe(directory / "probe.tmp", shown)
        del probe
        manifest = read_manifest(directory)
        if manifest is not None:
            if not self.overwrite:
                raise OutputPathError.single(
                    f"holds the outputs of an earlier run ({MANIFEST_NAME}: "
                    f"{manifest.get('command', '?')}, {manifest.get('created_utc', '?')})",
                    file=shown,
                    expected="--overwrite to replace that run's files, or another folder")
            for entry in manifest["files"]:
                rel = entry.get("path") if isinstance(entry, dict) else None
                if isinstance(rel, str) and not Path(rel).is_absolute() and ".." not in \
                        Path(rel).parts:
                    self._old_files.append(directory / rel)

    def _prepare_parent(self, parent: Path, shown: str) -> None:
        """Make ``parent`` (and its missing ancestors), refusing a path below a file."""
        parent = parent if str(parent) else Path(".")
        missing: list[Path] = []
        probe = parent
        while not probe.exists():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            raise OutputPathError.single(f"is below {probe}, which is a file, not a folder",
                                         file=shown, expected="a path inside a folder")
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputPathError.single(
                    f"its folder {folder} cannot be made ({describe_os_error(exc)})",
                    file=shown, expected="a writable location") from None
            self._made_dirs.append(folder)

    def _probe(self, final: Path, shown: str) -> Path:
        """Return a free temporary name beside ``final`` (same file system, same ending).

        A file is made there and removed first, to prove the folder takes files.
        """
        folder = final.parent if str(final.parent) else Path(".")
        suffix = "".join(final.suffixes[-1:])
        stem = final.name[: len(final.name) - len(suffix)] if suffix else final.name
        for _ in range(100):
            tmp = folder / f".{stem}.hesuan-tmp-{secrets.token_hex(4)}{suffix}"
            try:
                fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            except OSError as exc:
                self._remove_made_dirs()
                raise OutputPathError.single(
                    f"cannot write in {folder} ({describe_os_error(exc)})", file=shown,
                    expected="a writable location") from None
            os.close(fd)
            os.unlink(tmp)
            return tmp
        raise OutputPathError.single(f"no free temporary name in {folder}", file=shown)

    def _in_run(self, final: Path) -> bool:
        if self.directory is None:
            return False
        try:
            final.resolve().relative_to(self.directory.resolve())
        except ValueError:
            return False
        return True

    # -- publishing -------------------------------------------------------------------

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.publish()
        else:
            self.discard()

    def discard(self) -> None:
        """Remove every temporary file (and the folders this set made); publish nothing."""
        for o in self._outputs:
            with contextlib.suppress(FileNotFoundError):
                o.tmp.unlink()
        self._remove_made_dirs()
        self._done = True

    def _remove_made_dirs(self) -> None:
        for folder in sorted(self._made_dirs, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        self._made_dirs = []

    def publish(self) -> tuple[Path, ...]:
        """Move every output into place together (and write the run's manifest).

        Raises
        ------
        HesuanError
            If an output that is not optional was not written; nothing is published then.
        """
        if self._done:
            return self.published
        outputs = self._written_outputs()
        targets = {o.path.resolve() for o in outputs}
        aside: list[tuple[Path, Path]] = []   # (backup, original)
        placed: list[Path] = []
        try:
            if self.directory is not None:
                self._set_aside_stale(targets, aside)
            for o in outputs:
                if o.path.exists() or o.path.is_symlink():
                    aside.append((self._set_aside(o.path), o.path))
                os.replace(o.tmp, o.path)
                placed.append(o.path)
            if self.directory is not None:
                self._write_manifest([o for o in outputs if self._in_run(o.path)])
        except BaseException as exc:
            self._roll_back(placed, aside)
            if isinstance(exc, OSError):
                raise OutputPathError.single(
                    f"outputs could not be published ({describe_os_error(exc)}); nothing "
                    "was changed", file=str(exc.filename or self.directory or "")) from None
            raise
        for backup, _ in aside:
            with contextlib.suppress(OSError):
                backup.unlink()
        self._done = True
        self._made_dirs = []
        self.published = tuple(placed)
        return self.published

    def _written_outputs(self) -> list[PlannedOutput]:
        """Return the outputs whose temporary file was written, checked before publishing.

        Raises
        ------
        HesuanError
            If an output that is not optional was not written, or an output's path became a
            folder; the set is discarded first.
        """
        unwritten = [o for o in self._outputs if not o.tmp.exists() and not o.optional]
        if unwritten:
            self.discard()
            raise HesuanError("outputs not written (nothing was published): "
                              + ", ".join(str(o.path) for o in unwritten))
        outputs = [o for o in self._outputs if o.tmp.exists()]
        for o in outputs:
            if o.path.is_dir():
                self.discard()
                raise OutputPathError.single("became a folder during the run (nothing was "
                                             "published)", file=str(o.path),
                                             expected="a file path")
        return outputs

    def _set_aside_stale(self, targets: set[Path], aside: list[tuple[Path, Path]]) -> None:
        """Set aside the run directory's manifest and its old files this run does not rewrite.

        Each (backup, original) pair is appended to ``aside`` as soon as it is made, so that a
        failure part-way can put back what was moved.
        """
        assert self.directory is not None
        manifest = self.directory / MANIFEST_NAME
        stale = [manifest] + [p for p in self._old_files if p.resolve() not in targets]
        for old in stale:
            if old.is_file() or old.is_symlink():
                aside.append((self._set_aside(old), old))

    def _roll_back(self, placed: list[Path], aside: list[tuple[Path, Path]]) -> None:
        """Remove the files ``placed``, put back the files set ``aside``, and discard the set."""
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        for backup, original in reversed(aside):
            with contextlib.suppress(OSError):
                os.replace(backup, original)
        self.discard()

    @staticmethod
    def _set_aside(path: Path) -> Path:
        backup = path.with_name(f".{path.name}.hesuan-old-{secrets.token_hex(4)}")
        os.replace(path, backup)
        return backup

    def _write_manifest(self, outputs: list[PlannedOutput]) -> None:
        assert self.directory is not None
        root = self.directory.resolve()
        entries = [ManifestEntry(o.path.resolve().relative_to(root).as_posix(),
                                 sha256_file(o.path), o.path.stat().st_size, o.format)
                   for o in outputs]
        from hesuan import __version__

        body: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "hesuan_version": __version__,
            "command": self.command,
            "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0)
            .isoformat().replace("+00:00", "Z"),
            "files": [e.__dict__ for e in entries],
        }
        if self.provenance is not None:
            body["provenance"] = self.provenance
        target = self.directory / MANIFEST_NAME
        tmp = target.with_name(f".{MANIFEST_NAME}.hesuan-tmp-{secrets.token_hex(4)}")
        tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                       encoding="utf-8")
        os.replace(tmp, target)
