"""One output folder per run: staged, checked before work, published whole, never mixed.

A run writes every output under a hidden staging folder inside the output folder and
publishes them together at the end (each file renamed into place, then the manifest
``hesuan-manifest.json`` listing them). Before any work the folder is checked: it must be
a folder (not a file, not below a file) that can be written, and it must not hold another
run's outputs — those listed in its manifest, or files with this run's output names —
unless ``overwrite`` is given, in which case the earlier run's whole set is replaced (its
files that this run does not write are deleted, never any file it did not list). A failed
run leaves the folder as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from hesuan.errors import InputError

MANIFEST = "hesuan-manifest.json"


def _previous_files(out: Path) -> list[str]:
    path = out / MANIFEST
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return [MANIFEST]
    return [str(f) for f in files if isinstance(f, str) and "/" not in f and f != ".."]


class OutputFolder:
    """The output folder of one run (see the module docstring).

    Parameters
    ----------
    out : the folder (created when missing)
    command : what writes it (recorded in the manifest)
    names : file names this run will publish (checked against earlier runs)
    overwrite : replace an earlier run's outputs instead of refusing
    field : the option naming the folder, for messages
    """

    def __init__(self, out: str | Path, command: str, names: Iterable[str],
                 overwrite: bool = False, field: str = "--out") -> None:
        self.out = Path(out)
        self.command = command
        self.overwrite = overwrite
        self.field = field
        if self.out.exists() and not self.out.is_dir():
            raise InputError.single("is a file, not a folder", file=str(self.out), field=field,
                                    expected="a folder for the outputs (it is created)")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.staging = self.out / f".hesuan-staging-{uuid.uuid4().hex[:12]}"
            self.staging.mkdir()
        except (FileExistsError, NotADirectoryError):
            raise InputError.single("lies below a file", file=str(self.out), field=field,
                                    expected="a folder path whose parents are folders"
                                    ) from None
        except OSError as exc:
            raise InputError.single(f"cannot be written ({exc.strerror})", file=str(self.out),
                                    field=field, expected="a writable folder") from None
        self.previous = _previous_files(self.out)
        clash = sorted({*self.previous, *names} & {p.name for p in self.out.iterdir()}
                       - {self.staging.name})
        if clash and not overwrite:
            self.abort()
            shown = ", ".join(clash[:6]) + (" …" if len(clash) > 6 else "")
            raise InputError.single(
                f"holds the outputs of an earlier run ({shown})", file=str(self.out),
                field=field, expected="an empty or new folder, or --overwrite to replace "
                "the earlier run's whole set of outputs")

    def path(self, name: str) -> Path:
        """The staged path of output file ``name``."""
        return self.staging / name

    def publish(self, staged: Mapping[str, Path]) -> dict[str, Path]:
        """Rename every staged file into the folder; write the manifest; return final paths.

        ``staged`` maps output ids to staged paths (files directly in the staging folder).
        """
        names = {p.name for p in staged.values()}
        for old in self.previous:
            if old not in names and old != MANIFEST:
                (self.out / old).unlink(missing_ok=True)
        final: dict[str, Path] = {}
        for key, path in staged.items():
            target = self.out / path.name
            os.replace(path, target)
            final[key] = target
        manifest = {"command": self.command, "files": sorted(names)}
        tmp = self.staging / MANIFEST
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.out / MANIFEST)
        shutil.rmtree(self.staging, ignore_errors=True)
        return final

    def abort(self) -> None:
        """Delete everything staged."""
        shutil.rmtree(self.staging, ignore_errors=True)


def check_output_file(path: str | Path, suffix: str, field: str = "--out") -> Path:
    """Check, before any work, that ``path`` can receive an output file of type ``suffix``.

    Refused: a wrong extension (e.g. Parquet bytes in ``r.csv``), an existing folder, a
    path below a file, a folder that cannot be written (tested by creating a file there:
    permission bits do not stop root, a read-only file system does).
    """
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise InputError.single(f"has the extension {p.suffix or '(none)'!r}", file=str(p),
                                field=field, expected=f"a {suffix} file name")
    if p.is_dir():
        raise InputError.single("is a folder", file=str(p), field=field,
                                expected=f"a {suffix} file name")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        probe = p.parent / f".hesuan-probe-{uuid.uuid4().hex[:12]}"
        probe.write_bytes(b"")
        probe.unlink()
    except (FileExistsError, NotADirectoryError):
        raise InputError.single("lies below a file", file=str(p), field=field,
                                expected="a path whose parents are folders") from None
    except OSError as exc:
        raise InputError.single(f"cannot be written ({exc.strerror})", file=str(p),
                                field=field, expected="a file in a writable folder") from None
    return p


def publish_files(staged: Mapping[Path, Path]) -> list[Path]:
    """Rename each staged file (same folder as its target) onto its target; return targets.

    All files were fully written before the first rename, so a failed run publishes none.
    """
    for tmp, target in staged.items():
        os.replace(tmp, target)
    return list(staged.values())
