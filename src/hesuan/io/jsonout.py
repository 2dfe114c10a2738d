"""Strict JSON: every output is valid JSON, and a non-finite number is an error, not ``NaN``.

:func:`dumps` converts the usual result types (dataclasses, pydantic models, mappings,
sequences, paths, dates, decimals, NumPy scalars and arrays, enums) to JSON and refuses
``NaN`` and infinities with a :class:`~hesuan.errors.NonFiniteError` naming the key path of
the value (``totals.wtw_kg_co2e``, ``legs[3].mass_t``). :func:`loads` refuses them on the way
in too (Python's ``json`` module accepts a bare ``NaN`` by default).

Example
-------
>>> from hesuan.io.jsonout import dumps
>>> dumps({"totals": {"wtw_kg_co2e": 12.5}}, indent=None)
'{"totals": {"wtw_kg_co2e": 12.5}}'
>>> dumps({"totals": {"wtw_kg_co2e": float("nan")}})
Traceback (most recent call last):
...
hesuan.errors.NonFiniteError: not a finite number at totals.wtw_kg_co2e: nan
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

from hesuan.errors import InputError, NonFiniteError


def to_jsonable(obj: Any, path: str = "") -> Any:
    """``obj`` as plain JSON types (dict, list, str, int, float, bool, None).

    Decimals become numbers when they are whole or exactly representable, else strings
    (the registry's amounts stay exact); dates and times become ISO 8601 text.

    Raises
    ------
    NonFiniteError
        At the first NaN or infinity, naming its key path.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    number = _number(obj, path)
    if number is not _NOT_HANDLED:
        return number
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, path)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(_dataclass_items(obj), path)
    dump = getattr(obj, "model_dump", None)  # pydantic models
    if callable(dump) and not isinstance(obj, type):
        return to_jsonable(dump(mode="python"), path)
    if isinstance(obj, Mapping):
        return _mapping(obj, path)
    if isinstance(obj, list | tuple | set | frozenset):
        seq = sorted(obj, key=str) if isinstance(obj, set | frozenset) else obj
        return [to_jsonable(v, f"{path}[{i}]") for i, v in enumerate(seq)]
    return _array_like(obj, path)


_NOT_HANDLED = object()
"""What :func:`_number` returns for a value that is not a number it converts."""


def _number(obj: Any, path: str) -> Any:
    """Return an int, float or Decimal as a JSON number (or a Decimal's exact text).

    Returns :data:`_NOT_HANDLED` for anything else (an int enum member is left to its
    ``value``).

    Raises
    ------
    NonFiniteError
        For a NaN or an infinity, naming its key path.
    """
    if isinstance(obj, int) and not isinstance(obj, enum.Enum):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise NonFiniteError(f"not a finite number at {path or '(top level)'}: {obj}",
                                 path)
        return float(obj)
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise NonFiniteError(f"not a finite number at {path or '(top level)'}: {obj}",
                                 path)
        return int(obj) if obj == obj.to_integral_value() else str(obj)
    return _NOT_HANDLED


def _dataclass_items(obj: Any) -> Any:
    """Return a dataclass instance's ``as_dict()``, else its public fields by name."""
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
            if not f.name.startswith("_")}


def _mapping(obj: Mapping[Any, Any], path: str) -> dict[str, Any]:
    """Return a mapping as a JSON object: keys as text, values converted under ``path.key``."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = key if isinstance(key, str) else str(to_jsonable(key, path))
        out[name] = to_jsonable(value, f"{path}.{name}" if path else name)
    return out


def _array_like(obj: Any, path: str) -> Any:
    """Convert an object with ``tolist()`` (NumPy, Polars, Arrow) or ``item()`` (a scalar).

    Raises
    ------
    TypeError
        For any other type, naming its key path.
    """
    tolist = getattr(obj, "tolist", None)  # NumPy scalars and arrays, Polars/Arrow series
    if callable(tolist):
        return to_jsonable(tolist(), path)
    item = getattr(obj, "item", None)
    if callable(item):
        return to_jsonable(item(), path)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON at {path or '(top level)'}")


def dumps(obj: Any, *, indent: int | None = 2, ensure_ascii: bool = False,
          sort_keys: bool = False) -> str:
    """Strict JSON text of ``obj`` (see :func:`to_jsonable`); never ``NaN``/``Infinity``."""
    return json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=ensure_ascii,
                      sort_keys=sort_keys, allow_nan=False)


def write_json(path: str | Path, obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as strict JSON (UTF-8, final newline) to ``path``.

    The text is made before the file is opened, so a non-finite number leaves no file.
    Give it an :class:`~hesuan.io.outputs.PlannedOutput`'s ``.tmp`` to publish atomically.
    """
    text = dumps(obj, indent=indent) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes, *, file: str | None = None) -> Any:
    """Parse strict JSON.

    ``NaN``, ``Infinity`` and malformed text are an :class:`~hesuan.errors.InputError` naming
    ``file`` and the line.
    """
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError.single(f"not valid JSON: {exc.msg} (column {exc.colno})", file=file,
                                row=exc.lineno, expected="strict JSON") from None
    except ValueError as exc:
        raise InputError.single(str(exc), file=file,
                                expected="finite numbers (strict JSON)") from None
    except UnicodeDecodeError:
        raise InputError.single("not UTF-8 text", file=file, expected="UTF-8 JSON") from None
