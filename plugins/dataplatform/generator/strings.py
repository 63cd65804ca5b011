"""Vectorised string building on Arrow arrays (no Python loop per row)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

StrPart = pa.Array | str


def fixed_width(chars: np.ndarray) -> pa.Array:
    """Wrap an (n, width) uint8 matrix of ASCII bytes as a string array without copying rows."""
    n, width = chars.shape
    data = pa.py_buffer(np.ascontiguousarray(chars).reshape(-1))
    if n * width < 2**31:
        offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), data)
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data)


def uuid4_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 16-byte values with the UUID version 4 and RFC 4122 variant bits set."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def uuid_strings(raw: np.ndarray) -> pa.Array:
    """Format (n, 16) bytes as canonical lowercase 8-4-4-4-12 UUID strings."""
    n = raw.shape[0]
    hexed = np.frombuffer(np.ascontiguousarray(raw).tobytes().hex().encode(), dtype=np.uint8)
    hexed = hexed.reshape(n, 32)
    out = np.empty((n, 36), dtype=np.uint8)
    out[:, [8, 13, 18, 23]] = ord("-")
    out[:, 0:8] = hexed[:, 0:8]
    out[:, 9:13] = hexed[:, 8:12]
    out[:, 14:18] = hexed[:, 12:16]
    out[:, 19:23] = hexed[:, 16:20]
    out[:, 24:36] = hexed[:, 20:32]
    return fixed_width(out)


def join(*parts: StrPart) -> pa.Array:
    """Concatenate string arrays and literals row-wise; a null in any part gives null."""
    return pc.binary_join_element_wise(*parts, "")


def pick(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """values[index] as a string array (None entries become nulls)."""
    return pa.array(list(values), type=pa.string()).take(pa.array(index))


def int_strings(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def zero_padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(int_strings(values), width, "0")


def json_int_or_null(values: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """JSON literal of each integer, or `null` where null_mask (default: value < 0) is set."""
    if null_mask is None:
        null_mask = values < 0
    return pc.if_else(pa.array(null_mask), "null", int_strings(np.where(null_mask, 0, values)))


_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def json_text(text: pa.Array) -> pa.Array:
    """JSON string literal (quoted, escaped) of each value, or `null` for a null value.

    Generated text rarely needs escaping, so only the rows that do go through json.dumps.
    """
    quoted = join('"', text, '"')
    needs = pc.fill_null(pc.match_substring_regex(text, _NEEDS_ESCAPE), False)
    rows = np.flatnonzero(needs.to_numpy(zero_copy_only=False))
    if len(rows):
        escaped = pa.array(
            [
                json.dumps(value, ensure_ascii=False)
                for value in text.take(pa.array(rows)).to_pylist()
            ],
            pa.string(),
        )
        index = np.arange(len(text))
        index[rows] = len(text) + np.arange(len(rows))
        quoted = pa.concat_arrays([quoted.cast(pa.string()), escaped]).take(pa.array(index))
    return pc.fill_null(quoted, "null")


def decimal_strings(cents: np.ndarray) -> pa.Array:
    """Cents as a decimal number with exactly two fraction digits ("12.05")."""
    cents = np.asarray(cents, dtype=np.int64)
    return join(int_strings(cents // 100), ".", zero_padded(cents % 100, 2))


def build_by_code(
    codes: np.ndarray, n_codes: int, build: Callable[[int, np.ndarray], pa.Array]
) -> pa.Array:
    """A per-row switch: row i is built by build(codes[i], rows having that code).

    Each builder only runs on its own rows, so k alternatives cost one pass, not k.
    """
    codes = np.asarray(codes, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_codes + 1))
    pieces = [
        build(code, order[bounds[code] : bounds[code + 1]]).cast(pa.string())
        for code in range(n_codes)
    ]
    position = np.empty(len(codes), dtype=np.int64)
    position[order] = np.arange(len(codes))
    return pa.concat_arrays(pieces).take(pa.array(position))


def fill_template(template: str, digits: np.ndarray) -> pa.Array:
    """Fixed-width strings from a template whose '#' are replaced by digits[:, 0], [:, 1], ...

    digits is an (n, k) array of values 0-9 with k >= the number of '#' in template.
    """
    n = len(digits)
    out = np.empty((n, len(template)), dtype=np.uint8)
    slot = 0
    for column, char in enumerate(template):
        if char == "#":
            out[:, column] = digits[:, slot] + ord("0")
            slot += 1
        else:
            out[:, column] = ord(char)
    return fixed_width(out)


def lower(text: pa.Array) -> pa.Array:
    return pc.utf8_lower(text)


def as_bytes(lines: pa.Array) -> memoryview:
    """The concatenated UTF-8 payload of a string array, without copying it."""
    arr = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if arr.null_count:
        raise ValueError("cannot serialise null lines")
    offsets_buf, data_buf = arr.buffers()[1], arr.buffers()[2]
    width = 8 if pa.types.is_large_string(arr.type) else 4
    dtype = np.int64 if width == 8 else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=dtype, count=len(arr) + 1, offset=arr.offset * width)
    if data_buf is None:
        return memoryview(b"")
    return memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])]
