"""The pure kernel of the carbon model: land-cover codes in, class maps and counts out.

:func:`process_block` knows nothing of files or codecs. For one window it returns

- the pixel counts per (zone, baseline class, alternate class), from which every total,
  interval and regional figure is computed exactly (:mod:`hesuan.land.accounts`);
- the **class maps** of the window: the class slot of every pixel in the baseline (``bas``)
  and alternate (``alt``) map, and the *value class* of every (baseline, alternate) pair
  (``pair``).

Every output raster is a look-up of one class map (:meth:`Tables.raster_luts`):
``raster = lut[class map]``. The output sinks (:mod:`hesuan.land.outputs`) own every
format; they write each class map once and let GDAL derive the look-up rasters from it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.errors import InputError
from hesuan.land.raster import ClassLookup, GridInfo
from hesuan.land.spec import NODATA_F32, POOLS

#: The class maps a window can produce.
MAPS = ("bas", "alt", "pair")


def map_dtype(n_values: int) -> type[np.unsignedinteger]:
    """Return the smallest unsigned integer type holding ``0 … n_values − 1``."""
    if n_values <= 1 << 8:
        return np.uint8
    if n_values <= 1 << 16:
        return np.uint16
    return np.uint32


@dataclass(frozen=True)
class Tables:
    """Everything the kernel needs besides the codes: look-ups and per-slot values.

    ``pool_lut`` [t C/ha] has shape ``(4, K+2)``: slot ``K`` (nodata) holds the output
    nodata, slot ``K+1`` (absent code) 0 — an absent code stops the run anyway.
    ``pair_class`` maps the pair slot ``s_bas × (K+2) + s_alt`` to a value class: pairs with
    bit-identical change and NPV share a class (e.g. every unchanged pixel), so the pair
    map has few classes; ``change_by_class`` [t C/ha] and ``npv_by_class`` [currency/ha]
    are the look-ups by value class (output nodata where either slot is nodata).
    """

    lookup: ClassLookup
    pool_lut: NDArray[np.float32]
    total_lut: NDArray[np.float32]
    n_zones: int
    pair_class: NDArray[np.intp] | None = None
    change_by_class: NDArray[np.float32] | None = None
    npv_by_class: NDArray[np.float32] | None = None

    @property
    def n_slots(self) -> int:
        """[-] class slots of one map: the K classes, nodata and absent."""
        return self.lookup.n_classes + 2

    @property
    def has_alt(self) -> bool:
        """Return whether an alternate land-cover map is given."""
        return self.pair_class is not None

    def n_values(self, tag: str) -> int:
        """[-] number of values of class map ``tag``."""
        if tag == "pair":
            assert self.change_by_class is not None
            return int(self.change_by_class.size)
        return self.n_slots

    def raster_luts(self) -> dict[str, tuple[str, NDArray[np.float32]]]:
        """Each output raster as (class map, look-up): ``raster = lut[class map]``.

        Look-ups hold [t C/ha] (``npv_alt``: [currency/ha]).
        """
        out: dict[str, tuple[str, NDArray[np.float32]]] = {}
        for tag in ("bas", "alt") if self.has_alt else ("bas",):
            for p, pool in enumerate(POOLS):
                out[f"{pool}_{tag}"] = (tag, self.pool_lut[p])
            out[f"c_storage_{tag}"] = (tag, self.total_lut)
        if self.change_by_class is not None:
            out["c_change_bas_alt"] = ("pair", self.change_by_class)
            if self.npv_by_class is not None:
                out["npv_alt"] = ("pair", self.npv_by_class)
        return out


def make_tables(lookup: ClassLookup, density_t_c_per_ha: NDArray[np.float64],
                has_alt: bool, npv_per_t_c: float | None, n_zones: int) -> Tables:
    """Build the per-slot look-ups from the class densities [t C/ha] (shape ``(K, 4)``).

    Pools are summed in float64 before one rounding to float32 (InVEST sums float32
    rasters); the change is ``D_alt − D_bas`` [t C/ha] and the NPV density the change ×
    the valuation constant [currency/t C] (:func:`hesuan.land.equations.npv`).
    """
    from hesuan.land.equations import npv

    k = lookup.n_classes
    pool = np.zeros((len(POOLS), k + 2), dtype=np.float64)
    pool[:, :k] = density_t_c_per_ha.T
    pool[:, k] = NODATA_F32
    total = np.zeros(k + 2)
    total[:k] = density_t_c_per_ha.sum(axis=1)
    total[k] = NODATA_F32
    pair_class = change_by_class = npv_by_class = None
    if has_alt:
        d = total[:k]
        pair = np.full((k + 2, k + 2), NODATA_F32)
        pair[:k, :k] = d[None, :] - d[:, None]  # c_change = alternate − baseline
        change = pair.ravel().astype(np.float32)
        bits = [change.view(np.uint32)]
        if npv_per_t_c is not None:
            value = np.full((k + 2, k + 2), NODATA_F32)
            value[:k, :k] = npv(pair[:k, :k], npv_per_t_c)
            bits.append(value.ravel().astype(np.float32).view(np.uint32))
        keys, inverse = np.unique(np.stack(bits, axis=1), axis=0, return_inverse=True)
        pair_class = inverse.reshape(-1).astype(np.intp)
        change_by_class = np.ascontiguousarray(keys[:, 0]).view(np.float32)
        if npv_per_t_c is not None:
            npv_by_class = np.ascontiguousarray(keys[:, 1]).view(np.float32)
    return Tables(lookup, pool.astype(np.float32), total.astype(np.float32), n_zones,
                  pair_class, change_by_class, npv_by_class)


@dataclass
class BlockResult:
    """Output of the kernel for one window.

    ``counts`` [pixels] has shape ``(Z+1, K+2, K+2)`` (last axis 1 without an alternate
    map); ``class_maps`` maps ``bas``/``alt``/``pair`` to the window's class map (unsigned
    integers, :func:`map_dtype` of :meth:`Tables.n_values`).
    """

    window: Window
    counts: NDArray[np.int64]
    class_maps: dict[str, NDArray[np.unsignedinteger]] = field(default_factory=dict)


class Scratch:
    """Reusable buffers for the kernel's arrays (one set per block in flight).

    Fresh arrays of several MB cost page faults on every block (glibc returns them to the
    system); reusing a fixed set cuts the kernel's CPU time and fixes its memory.
    """

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self._buffers: dict[str, NDArray[np.generic]] = {}

    def get(self, name: str, shape: tuple[int, int], dtype: type[np.generic]
            ) -> NDArray[np.generic]:
        """Return a buffer of ``shape`` and ``dtype`` named ``name`` (contents undefined)."""
        size = shape[0] * shape[1]
        buf = self._buffers.get(name)
        if buf is None or buf.dtype != np.dtype(dtype) or buf.size < size:
            buf = np.empty(max(size, self.max_pixels), dtype=dtype)
            self._buffers[name] = buf
        return buf[:size].reshape(shape)


class AbsentCodes(Exception):
    """A map holds codes the pools table lacks; :func:`absent_codes_error` names the file."""

    def __init__(self, which: str, codes: list[int], window: Window) -> None:
        super().__init__(which, codes, window)
        self.which, self.codes, self.window = which, codes, window

    def __reduce__(self) -> tuple[type[AbsentCodes], tuple[str, list[int], Window]]:
        return (self.__class__, (self.which, self.codes, self.window))


def process_block(base: NDArray[np.integer], alt: NDArray[np.integer] | None,
                  zones: NDArray[np.integer] | None, tables: Tables, window: Window,
                  maps: Collection[str] = (), scratch: Scratch | None = None) -> BlockResult:
    """Run the kernel on one window: pixel counts and class maps.

    Parameters
    ----------
    base, alt : [LULC code] 2-D arrays of the window (``alt`` None without an alternate map)
    zones : [-] zone number of each pixel (0 = outside every region), or None
    tables : the look-ups of :func:`make_tables`
    window : where the arrays are in the map (for messages)
    maps : the class maps wanted (``bas``, ``alt``, ``pair``)
    scratch : reusable buffers (the class maps are fresh arrays either way)

    Returns
    -------
    BlockResult

    Raises
    ------
    AbsentCodes
        A code of a map is not in the pools table.
    """
    lk = tables.lookup
    n = tables.n_slots
    shape = base.shape

    def buf(name: str, dtype: type[np.generic]) -> NDArray[np.generic] | None:
        return None if scratch is None else scratch.get(name, shape, dtype)

    if (zones is None and lk.index.size == 256 and base.dtype.itemsize == 1
            and (alt is None or alt.dtype.itemsize == 1)):
        return _process_bytes(base, alt, tables, window, maps)
    sb = lk.slots(base, buf("slots_bas", np.intp))  # type: ignore[arg-type]
    sa = lk.slots(alt, buf("slots_alt", np.intp)) if alt is not None else None  # type: ignore[arg-type]
    # The absent-code slot is the largest, so a max() finds it without a mask.
    for which, codes, slots in (("baseline", base, sb), ("alternate", alt, sa)):
        if slots is not None and codes is not None and slots.max() == lk.unknown_slot:
            values = codes[slots == lk.unknown_slot]
            raise AbsentCodes(which, np.unique(values)[:50].tolist(), window)
    out: dict[str, NDArray[np.unsignedinteger]] = {}
    for tag, slots in (("bas", sb), ("alt", sa)):
        if tag in maps and slots is not None:
            out[tag] = slots.astype(map_dtype(n))
    key: NDArray[np.intp]
    if sa is not None:
        pair_buf = buf("pair", np.intp)
        pair = np.multiply(sb, n, out=pair_buf) if pair_buf is not None else sb * n
        pair += sa
        if "pair" in maps and tables.pair_class is not None:
            out["pair"] = np.take(tables.pair_class, pair, mode="clip").astype(
                map_dtype(tables.n_values("pair")))
        per_zone, key = n * n, pair
    else:
        per_zone, key = n, sb
    if zones is not None:
        key = key + zones.astype(np.intp) * per_zone
    counts = np.bincount(key.ravel(), minlength=(tables.n_zones + 1) * per_zone)
    c_shape = (tables.n_zones + 1, n, n if sa is not None else 1)
    return BlockResult(window, counts.reshape(c_shape).astype(np.int64), out)


def _process_bytes(base: NDArray[np.integer], alt: NDArray[np.integer] | None,
                   tables: Tables, window: Window, maps: Collection[str]) -> BlockResult:
    """:func:`process_block` for one-byte land-cover codes without zones.

    Pixel counts per (baseline code, alternate code) — one ``bincount`` of
    ``code_bas × 256 + code_alt`` — are mapped to class slots afterwards (65 536 entries
    instead of every pixel), and the class maps are 256-entry look-ups of the codes. Same
    results as the general path (tests/land/test_kernel.py).
    """
    lk = tables.lookup
    n = tables.n_slots
    index = lk.index
    b8 = np.ascontiguousarray(base).view(np.uint8)
    a8 = np.ascontiguousarray(alt).view(np.uint8) if alt is not None else None
    if a8 is None:
        per_code = np.bincount(b8.ravel(), minlength=256)
        present = [("baseline", base, per_code)]
        slot_key = index
    else:
        key = b8.astype(np.uint16)
        np.left_shift(key, 8, out=key)
        np.bitwise_or(key, a8, out=key)
        per_code = np.bincount(key.ravel(), minlength=65536)
        pc = per_code.reshape(256, 256)
        assert alt is not None
        present = [("baseline", base, pc.sum(axis=1)), ("alternate", alt, pc.sum(axis=0))]
        slot_key = (index[:, None] * n + index[None, :]).ravel()
    for which, codes, count in present:
        absent = np.flatnonzero((count > 0) & (index == lk.unknown_slot))
        if absent.size:
            values = np.unique(codes[np.isin(codes.view(np.uint8), absent)])
            raise AbsentCodes(which, values[:50].tolist(), window)
    counts = np.bincount(slot_key, weights=per_code, minlength=n * (n if a8 is not None else 1))
    out: dict[str, NDArray[np.unsignedinteger]] = {}
    dt = map_dtype(n)
    for tag, codes8 in (("bas", b8), ("alt", a8)):
        if tag in maps and codes8 is not None:
            out[tag] = np.take(index.astype(dt), codes8)
    if "pair" in maps and a8 is not None and tables.pair_class is not None:
        by_codes = tables.pair_class[slot_key].astype(map_dtype(tables.n_values("pair")))
        out["pair"] = np.take(by_codes, key)
    c_shape = (1, n, n if a8 is not None else 1)
    return BlockResult(window, counts.reshape(c_shape).astype(np.int64), out)


def absent_codes_error(exc: AbsentCodes, base: GridInfo, alt: GridInfo | None,
                       pools_path: str) -> InputError:
    """Return the user-facing error for LULC codes that the pools table lacks."""
    grid = base if exc.which == "baseline" or alt is None else alt
    w = exc.window
    return InputError.single(
        f"land-cover code(s) {', '.join(str(c) for c in exc.codes)} (first seen in rows "
        f"{w.row_off}–{w.row_off + w.height - 1}) are not in the pools table {pools_path}",
        file=grid.path, field="lucode",
        expected="every code of the map listed in the pools table's lucode column, "
                 "or set as the raster's nodata value")
