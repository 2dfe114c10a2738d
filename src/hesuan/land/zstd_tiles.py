"""Zstandard-compressed GeoTIFF tiles of look-up rasters, encoded once per class map.

Every output raster of the carbon model is ``lut[slot]``: a per-pixel look-up of one small
class map (baseline slots, alternate slots, or value classes of their pairs). A general-purpose
compressor re-discovers the same repetitions in each raster that shares a class map. This module
instead parses the class map of a tile once into Zstandard *sequences* (RFC 8878 §3.1.1.3)
whose matches copy whole pixels — from the left neighbour (offset 4 bytes) or the pixel
above (offset 4 × tile width) — where the class is the same, and whose literals are the
remaining pixels. Such a parse is valid for *any* look-up table, because a pixel copied from
a pixel of the same class gets the same value whatever the value is. The sequences section
is therefore encoded once per class map and tile (a :class:`TileTemplate`); each raster
then only fills in its literal pixels (raw literals, RFC 8878 §3.1.1.3.1) — a look-up of a
few per cent of the pixels and a copy.

Encoding choices (all within RFC 8878, decoded by any Zstandard decoder, e.g. libtiff's):

- one frame per tile (Single_Segment, Frame_Content_Size = tile bytes, no checksum), blocks
  of at most 128 KiB decoded (``BLOCK_PX`` pixels); a block that would not shrink is stored
  as a Raw_Block;
- literals: Raw_Literals_Block; sequences: FSE_Compressed_Mode for literal lengths, offsets
  and match lengths with tables in which every used code has probability "less than 1"
  (§4.1.1): each code then owns exactly one state, every state transition reads
  Accuracy_Log bits, and the FSE bitstream reduces to fixed-width fields that can be packed
  with array operations;
- offsets are always explicit (Offset_Value = offset + 3), never repeat codes.

The result is bit-for-bit the raster that ``lut[slot]`` gives (checked in the tests by
decoding with libzstd through GDAL and through pyarrow).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: [pixels] decoded size of a block: 128 KiB of float32, the format's block maximum.
BLOCK_PX = 32768
_MAGIC = b"\x28\xb5\x2f\xfd"

# RFC 8878 §3.1.1.3.2.1: baselines and extra bits of the literal- and match-length codes.
_LL_BASE = np.array([*range(16), 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024,
                     2048, 4096, 8192, 16384, 32768, 65536])
_LL_BITS = np.array([0] * 16 + [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                15, 16])
_ML_BASE = np.array([*range(3, 35), 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515,
                     1027, 2051, 4099, 8195, 16387, 32771, 65539])
_ML_BITS = np.array([0] * 32 + [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14,
                                15, 16])

#: Codes given a probability "less than 1" (one state each); 32 per table (Accuracy_Log 5).
#: Literal and match lengths here are whole pixels (multiples of 4 bytes); these sets cover
#: every such length up to a block (the other codes get probability 0).
_LL_CODES = [*range(14), 16, 18, 20, 21, *range(22, 36)]
_ML_CODES = [0, 1, 2, 3, 4, 5, 6, 9, 13, 17, 21, 25, 29, 32, 34, *range(36, 53)]
_OF_CODES = list(range(32))
_ACC_LOG = 5


def _state_of(codes: list[int], n_symbols: int) -> NDArray[np.int64]:
    """[state] of each code: "less than 1" symbols take cells from the table's end (§4.1.1)."""
    state = np.full(n_symbols, -1, dtype=np.int64)
    for rank, code in enumerate(codes):
        state[code] = (1 << _ACC_LOG) - 1 - rank
    return state


def _ncount_description(codes: list[int]) -> bytes:
    """FSE_Compressed_Mode table description (RFC 8878 §4.1.1) of a distribution in which
    ``codes`` have probability −1 ("less than 1") and every other symbol below the last 0."""
    assert len(codes) == 1 << _ACC_LOG
    probs = [-1 if s in set(codes) else 0 for s in range(max(codes) + 1)]
    acc, nbits_total = _ACC_LOG - 5, 4
    remaining = (1 << _ACC_LOG) + 1
    threshold = 1 << _ACC_LOG
    nbits = _ACC_LOG + 1
    s = 0
    while remaining > 1:
        value = probs[s] + 1
        hi = (2 * threshold - 1) - remaining
        if value < hi:
            acc |= value << nbits_total
            nbits_total += nbits - 1
        else:
            acc |= (value + hi if value >= threshold else value) << nbits_total
            nbits_total += nbits
        remaining -= abs(probs[s])
        s += 1
        if probs[s - 1] == 0:  # repeat flags: how many more zeros follow
            run = 0
            while probs[s + run] == 0:
                run += 1
            s += run
            while run >= 3:
                acc |= 3 << nbits_total
                nbits_total += 2
                run -= 3
            acc |= run << nbits_total
            nbits_total += 2
        while remaining < threshold:
            nbits -= 1
            threshold >>= 1
    return acc.to_bytes((nbits_total + 7) // 8, "little")


_LL_STATE = _state_of(_LL_CODES, 36)
_ML_STATE = _state_of(_ML_CODES, 53)
_OF_STATE = _state_of(_OF_CODES, 32)
_OF_STATE_U = _OF_STATE.astype(np.uint64)
# Symbol compression modes byte (FSE_Compressed_Mode ×3) and the three table descriptions.
_TABLES = bytes([0b10101000]) + (_ncount_description(_LL_CODES) + _ncount_description(_OF_CODES)
                                 + _ncount_description(_ML_CODES))


def _code_by_pixels(base: NDArray[np.int64], allowed: list[int], start_px: int
                    ) -> NDArray[np.int64]:
    """Code of a length of ``k`` whole pixels (4k bytes) for k = 0 … BLOCK_PX."""
    nbytes = 4 * np.arange(BLOCK_PX + 1)
    code = np.searchsorted(base, nbytes, side="right") - 1
    code[: start_px] = 0
    ok = np.isin(code[start_px:], allowed)
    assert ok.all(), "a length code outside the table"
    return code


_LL_CODE_PX = _code_by_pixels(_LL_BASE, _LL_CODES, 0)
_ML_CODE_PX = _code_by_pixels(_ML_BASE, _ML_CODES, 1)
# Per length in pixels: FSE state, number of extra bits and their value (uint64, packed).
_LL_STATE_PX = _LL_STATE[_LL_CODE_PX].astype(np.uint64)
_LL_BITS_PX = _LL_BITS[_LL_CODE_PX].astype(np.uint64)
_LL_EXTRA_PX = (4 * np.arange(BLOCK_PX + 1) - _LL_BASE[_LL_CODE_PX]).astype(np.uint64)
_ML_STATE_PX = _ML_STATE[_ML_CODE_PX].astype(np.uint64)
_ML_BITS_PX = _ML_BITS[_ML_CODE_PX].astype(np.uint64)
_ML_EXTRA_PX = (4 * np.arange(BLOCK_PX + 1) - _ML_BASE[_ML_CODE_PX]).astype(np.uint64)


def _offset_fields(offset_bytes: int) -> tuple[int, int]:
    """Offset code and extra bits of an explicit offset (Offset_Value = offset + 3)."""
    value = offset_bytes + 3
    code = value.bit_length() - 1
    return code, value - (1 << code)


_OFC_LEFT, _OFE_LEFT = (np.uint64(v) for v in _offset_fields(4))


def _nseq_header(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    if n < 0x7F00:
        return bytes([(n >> 8) + 0x80, n & 0xFF])
    return bytes([255]) + (n - 0x7F00).to_bytes(2, "little")


def _block_header(last: bool, btype: int, size: int) -> bytes:
    return (int(last) | (btype << 1) | (size << 3)).to_bytes(3, "little")


def _raw_literals_header(size: int) -> bytes:
    return bytes([(3 << 2) | ((size & 0xF) << 4), (size >> 4) & 0xFF, (size >> 12) & 0xFF])


@dataclass(frozen=True)
class TileTemplate:
    """A compressed tile with holes for its literal pixels.

    ``frame`` holds every byte that does not depend on the look-up table; for each
    ``(dst, src, n)`` of ``segments``, ``n`` float32 values ``lut[literal_slots[src:src+n]]``
    go to bytes ``dst … dst + 4n`` of the frame.
    """

    frame: NDArray[np.uint8]
    literal_slots: NDArray[np.intp]
    segments: tuple[tuple[int, int, int], ...]

    def render(self, lut: NDArray[np.float32]) -> bytes:
        """The compressed tile of the raster ``lut[slot]`` (one look-up per literal pixel)."""
        # Little-endian float32, as the TIFF file (TileFile forces ENDIANNESS=LITTLE).
        values = np.take(lut.astype("<f4", copy=False), self.literal_slots,
                         mode="clip").view(np.uint8)
        out = self.frame.copy()
        for dst, src, n in self.segments:
            out[dst: dst + 4 * n] = values[4 * src: 4 * (src + n)]
        return out.tobytes()


def encode_template(slots: NDArray) -> TileTemplate:
    """Parse a square tile of class slots (any integer dtype, shape ``(T, T)``) once."""
    t = slots.shape[1]
    f = np.ascontiguousarray(slots).reshape(-1)
    n = f.size
    n_blocks = -(-n // BLOCK_PX)
    # Mode of each pixel: 2 = same class as the pixel above, 1 = as the left one (and not
    # the first of its row), 0 = a literal.
    eq = np.empty(n, dtype=bool)
    eq[0] = False
    np.equal(f[1:], f[:-1], out=eq[1:])
    eq[::t] = False
    mode = eq.view(np.int8)
    up = np.equal(f[t:], f[:-t]).view(np.int8)
    np.left_shift(up, 1, out=up)
    np.maximum(mode[t:], up, out=mode[t:])
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(mode[1:], mode[:-1], out=change[1:])
    change[::BLOCK_PX] = True
    starts = np.flatnonzero(change)
    lengths = np.diff(starts, append=n)
    smode = mode[starts]
    sblock = starts // BLOCK_PX
    # Literal pixels, from the literal stretches (in order).
    li = np.flatnonzero(smode == 0)
    lit_len = lengths[li]
    lit_cum = np.cumsum(lit_len)
    lit = np.arange(int(lit_cum[-1]) if li.size else 0, dtype=np.int64)
    if li.size:
        lit += np.repeat(starts[li] - (lit_cum - lit_len), lit_len)
    lit_per_block = np.bincount(sblock[li], weights=lit_len, minlength=n_blocks).astype(np.int64)
    # Sequences: each match stretch, with the literal stretch just before it (same block).
    mi = np.flatnonzero(smode)
    prev = mi - 1
    prev_lit = (smode[prev] == 0) & (sblock[prev] == sblock[mi]) & (mi > 0)
    ll_px = lengths[prev] * prev_lit
    ml_px = lengths[mi]
    sb = sblock[mi]
    nseq_per_block = np.bincount(sb, minlength=n_blocks)
    up_seq = smode[mi] == 2
    ofc_up, ofe_up = _offset_fields(4 * t)
    first = np.empty(mi.size, dtype=bool)
    first[:1] = True
    np.not_equal(sb[1:], sb[:-1], out=first[1:])
    # Fields of a sequence in the decoder's reading order (RFC 8878 §3.1.1.3.2.1): states
    # (the block's first sequence: LL, OF, ML; later ones: the update LL, ML, OF), then the
    # extra bits of the offset, the match length and the literal length. Read backwards, so
    # the first field read holds the highest bits: pack them into one integer per sequence.
    ofs = np.where(up_seq, _OF_STATE_U[ofc_up], _OF_STATE_U[int(_OFC_LEFT)])
    mls = _ML_STATE_PX[ml_px]
    states = (_LL_STATE_PX[ll_px] << np.uint64(10)) | np.where(
        first, (ofs << np.uint64(5)) | mls, (mls << np.uint64(5)) | ofs)
    of_bits = np.where(up_seq, np.uint64(ofc_up), _OFC_LEFT)
    code = (states << of_bits) | np.where(up_seq, np.uint64(ofe_up), _OFE_LEFT)
    ml_bits = _ML_BITS_PX[ml_px]
    code = (code << ml_bits) | _ML_EXTRA_PX[ml_px]
    ll_bits = _LL_BITS_PX[ll_px]
    code = (code << ll_bits) | _LL_EXTRA_PX[ll_px]
    width = (of_bits + ml_bits + ll_bits + np.uint64(3 * _ACC_LOG)).astype(np.int64)
    bits_per_block = np.bincount(sb, weights=width, minlength=n_blocks).astype(np.int64)
    # Lay out the frame block by block (a block that would not shrink is stored raw).
    parts: list[tuple[int, bytes]] = []
    segments: list[tuple[int, int, int]] = []
    lit_parts: list[NDArray] = []
    stream_at = np.zeros(n_blocks, dtype=np.int64)  # byte offset of each bitstream
    stream_len = np.zeros(n_blocks, dtype=np.int64)
    pos = 0
    parts.append((pos, _MAGIC + bytes([0xA0]) + (4 * n).to_bytes(4, "little")))
    pos += 9
    n_lit_total = 0
    lit_start = 0
    for b in range(n_blocks):
        px0, px1 = b * BLOCK_PX, min(n, (b + 1) * BLOCK_PX)
        nl, ns = int(lit_per_block[b]), int(nseq_per_block[b])
        seq_head = _nseq_header(ns) + (_TABLES if ns else b"")
        nbytes_bits = int(bits_per_block[b]) // 8 + 1 if ns else 0
        size = 3 + 4 * nl + len(seq_head) + nbytes_bits
        raw = 4 * (px1 - px0)
        last = b == n_blocks - 1
        if size < raw:
            parts.append((pos, _block_header(last, 2, size) + _raw_literals_header(4 * nl)))
            pos += 6
            segments.append((pos, n_lit_total, nl))
            lit_parts.append(lit[lit_start: lit_start + nl])
            n_lit_total += nl
            pos += 4 * nl
            parts.append((pos, seq_head))
            pos += len(seq_head)
            stream_at[b], stream_len[b] = pos, nbytes_bits
            pos += nbytes_bits
        else:
            parts.append((pos, _block_header(last, 0, raw)))
            pos += 3
            segments.append((pos, n_lit_total, px1 - px0))
            lit_parts.append(np.arange(px0, px1))
            n_lit_total += px1 - px0
            pos += raw
        lit_start += nl
    frame = np.zeros(pos, dtype=np.uint8)
    for at, data in parts:
        frame[at: at + len(data)] = np.frombuffer(data, dtype=np.uint8)
    if stream_len.any():
        _pack_streams(frame, code, width, sb, bits_per_block, stream_at, stream_len)
    literal_slots = np.concatenate(lit_parts) if lit_parts else np.zeros(0, np.intp)
    return TileTemplate(frame, f[literal_slots].astype(np.intp), tuple(segments))


def _pack_streams(frame: NDArray[np.uint8], code: NDArray[np.uint64], width: NDArray[np.int64],
                  sb: NDArray[np.int64], bits_per_block: NDArray[np.int64],
                  stream_at: NDArray[np.int64], stream_len: NDArray[np.int64]) -> None:
    """Write the sequences' bitstreams (one per compressed block) into ``frame``.

    The encoder writes forward what the decoder reads backward (RFC 8878 §4.1): a block's
    first sequence takes its highest bits, followed by a 1-bit end marker and zero padding to
    a byte. The streams are packed into 64-bit words (the fields never overlap, so adding
    is OR-ing), then copied into place.
    """
    at = np.cumsum(stream_len) - stream_len  # byte offset of each stream in the packing
    read_before = np.cumsum(bits_per_block) - bits_per_block
    # Bit position of sequence i of block b: 8·at_b + B_b − (bits read before it) − w_i,
    # where the bits read before it are cumsum(w)_i − w_i − read_before_b.
    top = 8 * at + bits_per_block + read_before
    bit = top[sb] - np.cumsum(width)
    keep = stream_len[sb] > 0
    if not keep.all():
        bit, code = bit[keep], code[keep]
    words = np.zeros(int(stream_len.sum()) // 8 + 2, dtype=np.uint64)
    shift = (bit & 63).astype(np.uint64)
    index = bit >> 6
    np.add.at(words, index, code << shift)
    np.add.at(words, index + 1, (code >> np.uint64(1)) >> (np.uint64(63) - shift))
    packed = words.view(np.uint8)
    for b in np.flatnonzero(stream_len):
        marker = 8 * at[b] + bits_per_block[b]
        packed[marker >> 3] |= np.uint8(1 << (marker & 7))
        frame[stream_at[b]: stream_at[b] + stream_len[b]] = packed[at[b]: at[b] + stream_len[b]]


# --- TIFF container -------------------------------------------------------------------

_TILE_OFFSETS, _TILE_BYTE_COUNTS, _COMPRESSION = 324, 325, 259
_TYPE_SIZE = {3: 2, 4: 4, 16: 8}


class TileFile:
    """A tiled, ZSTD-compressed GeoTIFF whose tiles are written here, not by GDAL.

    GDAL creates the file (header, georeferencing, nodata, tags) with ``SPARSE_OK`` and no
    tile; :meth:`write_tile` appends compressed tiles; :meth:`close` writes the tile offset
    and byte-count arrays (TIFF 6.0 §15, tags 324/325; BigTIFF: LONG8) at the end of the
    file and points the directory entries at them. Readers see an ordinary GeoTIFF.
    """

    def __init__(self, path: Path | str, profile: dict[str, Any], tags: dict[str, str]) -> None:
        import rasterio

        prof = dict(profile)
        prof.update(compress="zstd", sparse_ok=True, tiled=True, endianness="LITTLE")
        prof.pop("zstd_level", None)
        with rasterio.open(path, "w", **prof) as ds:
            if tags:
                ds.update_tags(1, **tags)
            self.tiles_across = -(-ds.width // ds.block_shapes[0][1])
            self.tile_shape = ds.block_shapes[0]
            n_tiles = self.tiles_across * -(-ds.height // ds.block_shapes[0][0])
        self.path = str(path)
        self._f = open(path, "r+b")  # noqa: SIM115 - open until close()/abort()
        self._entries = self._read_directory()
        self.offsets = np.zeros(n_tiles, dtype=np.uint64)
        self.counts = np.zeros(n_tiles, dtype=np.uint64)
        self._f.seek(0, 2)
        self._end = self._f.tell()

    def _read_directory(self) -> dict[int, tuple[int, int, int]]:
        """{tag: (entry position, type, count)} of the first IFD (little-endian files)."""
        f = self._f
        head = f.read(16)
        if head[:2] != b"II":
            raise RuntimeError(f"{self.path}: not a little-endian TIFF")
        self.big = int.from_bytes(head[2:4], "little") == 43
        at = int.from_bytes(head[8:16] if self.big else head[4:8], "little")
        f.seek(at)
        n = int.from_bytes(f.read(8 if self.big else 2), "little")
        size = 20 if self.big else 12
        raw = f.read(n * size)
        start = at + (8 if self.big else 2)
        entries = {}
        for i in range(n):
            e = raw[i * size: (i + 1) * size]
            tag, typ = int.from_bytes(e[0:2], "little"), int.from_bytes(e[2:4], "little")
            count = int.from_bytes(e[4:12] if self.big else e[4:8], "little")
            entries[tag] = (start + i * size, typ, count)
        if _TILE_OFFSETS not in entries or _TILE_BYTE_COUNTS not in entries:
            raise RuntimeError(f"{self.path}: no tile offsets")
        return entries

    def write_tile(self, index: int, data: bytes) -> None:
        self._f.seek(self._end)
        self._f.write(data)
        self.offsets[index] = self._end
        self.counts[index] = len(data)
        self._end += len(data)

    def close(self) -> None:
        if not self.counts.all():
            raise RuntimeError(f"{self.path}: {int((self.counts == 0).sum())} tiles not written")
        if not self.big and self._end + 16 * self.offsets.size >= 1 << 32:
            raise RuntimeError(f"{self.path}: more than 4 GB in a classic TIFF")
        typ, dtype, slot = (16, "<u8", 8) if self.big else (4, "<u4", 4)
        for tag, values in ((_TILE_OFFSETS, self.offsets), (_TILE_BYTE_COUNTS, self.counts)):
            pos, _old_type, count = self._entries[tag]
            if count != values.size:
                raise RuntimeError(f"{self.path}: tag {tag} holds {count} values, "
                                   f"expected {values.size}")
            data = values.astype(dtype).tobytes()
            if len(data) <= slot:
                value = data.ljust(slot, b"\0")
            else:
                self._f.seek(self._end)
                self._f.write(data)
                value = self._end.to_bytes(slot, "little")
                self._end += len(data)
            self._f.seek(pos + 2)
            self._f.write(typ.to_bytes(2, "little"))
            self._f.seek(pos + (12 if self.big else 8))
            self._f.write(value)
        self._f.close()

    def abort(self) -> None:
        self._f.close()
