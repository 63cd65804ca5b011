"""Split landing files into chunks of records as Arrow arrays, without a Python loop per line.

A record is the bytes between two ``\\n`` separators. A file that does not end in ``\\n`` has an
unterminated last record (a truncated write). Each value in a chunk keeps its ``\\n`` so that the
values share one buffer with the file's bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024
_NEWLINE = 10
_SCAN_BYTES = 1024 * 1024


class CorruptFile(Exception):
    """The file cannot be read as a whole (e.g. a broken gzip stream)."""


@dataclass(frozen=True)
class LineChunk:
    lines: pa.LargeBinaryArray
    first_line: int  # 1-based line number of lines[0] in the file
    last_unterminated: bool  # lines[-1] is the file's last record and has no "\n"

    def __len__(self) -> int:
        return len(self.lines)


class _HashingReader:
    """Feeds every byte read from the file into a digest, so a file is read once."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data

    def readable(self) -> bool:
        return True


def _line_ends(data: bytes) -> np.ndarray:
    """The offset just past each "\\n" in ``data``. Found a block at a time: a mask of the whole
    chunk would be as large as the chunk, fresh memory to fault in; a block's stays in cache
    (measured: a third less time on a 43 MB file)."""
    view = np.frombuffer(data, dtype=np.uint8)
    blocks = [
        np.flatnonzero(view[start : start + _SCAN_BYTES] == _NEWLINE) + (start + 1)
        for start in range(0, len(view), _SCAN_BYTES)
    ]
    return np.concatenate(blocks) if blocks else np.empty(0, dtype=np.int64)


def _to_chunk(data: bytes, first_line: int, last_unterminated: bool) -> LineChunk:
    ends = _line_ends(data)
    if last_unterminated:
        ends = np.append(ends, len(data))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return LineChunk(lines=lines, first_line=first_line, last_unterminated=last_unterminated)


@dataclass
class FileReading:
    """The result of reading a file to its end: its checksum and how many records it had."""

    sha256: str = ""
    records: int = 0


def read_chunks(
    path: Path, reading: FileReading, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> Iterator[LineChunk]:
    """Yield the file's records in chunks; fill ``reading`` once the file has been read whole."""
    with path.open("rb") as raw:
        source = _HashingReader(raw)
        stream: BinaryIO = gzip.GzipFile(fileobj=source) if path.name.endswith(".gz") else source  # type: ignore[assignment]
        carry = b""
        next_line = 1
        try:
            while True:
                block = stream.read(chunk_bytes)
                if not block:
                    break
                data = carry + block
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                if cut:
                    chunk = _to_chunk(data[:cut], next_line, last_unterminated=False)
                    next_line += len(chunk)
                    yield chunk
            if carry:
                chunk = _to_chunk(carry, next_line, last_unterminated=True)
                next_line += len(chunk)
                yield chunk
        except (OSError, EOFError, zlib.error) as err:
            raise CorruptFile(f"{type(err).__name__}: {err}") from err
        reading.sha256 = source.digest.hexdigest()
        reading.records = next_line - 1
