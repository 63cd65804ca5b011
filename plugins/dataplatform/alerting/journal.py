"""JSON-lines files under the alerts folder, written safely by concurrent tasks.

Every change happens under an exclusive ``flock`` on a lock file next to the data: tasks run in
separate processes, and a check-then-append (dedupe) or a rewrite (delivery status) must not
interleave with another writer. Rewrites go through a temporary file and ``os.replace`` so a
reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

JOURNAL_LOCK = ".alerts.lock"
# Held for a whole outbox flush, which sends over the network, so that two flushers never send
# the same message twice; kept apart from JOURNAL_LOCK so that raising an alert never waits on it.
FLUSH_LOCK = ".outbox-flush.lock"


@contextlib.contextmanager
def locked(folder: Path, name: str = JOURNAL_LOCK, *, wait: bool = True) -> Iterator[bool]:
    """Hold the named lock in ``folder``; yields False (without waiting) when ``wait`` is False
    and another process holds it. Not re-entrant: never nest the same lock."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def append(path: Path, records: Iterable[dict]) -> None:
    data = "".join(json.dumps(record, default=str) + "\n" for record in records)
    if not data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write with O_APPEND: even a writer that skips the lock cannot interleave inside a line.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        _write_all(fd, data.encode())
    finally:
        os.close(fd)


def read(path: Path) -> list[dict]:
    """Every record; a line that is not JSON (a write torn by a crash) is skipped, not fatal."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        with contextlib.suppress(json.JSONDecodeError):
            records.append(json.loads(line))
    return records


def rewrite(path: Path, update: Callable[[dict], dict | None]) -> None:
    """Replace each record by ``update(record)``; None drops it. A record returned as the same
    object keeps its line byte for byte, and so does a line that is not JSON."""
    if not path.exists():
        return
    kept: list[str] = []
    changed = False
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            kept.append(line)  # a person may want to read what was torn
            continue
        new = update(record)
        if new is record:
            kept.append(line)
        else:
            changed = True
            if new is not None:
                kept.append(json.dumps(new, default=str))
    if not changed:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, "".join(f"{line}\n" for line in kept).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
