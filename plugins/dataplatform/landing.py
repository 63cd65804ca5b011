"""The collector's drop zone: ``landing/events/dt=YYYY-MM-DD/*.jsonl[.gz]``, read-only for us."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

LANDING_SUFFIXES = (".jsonl", ".jsonl.gz")


class LandingMissing(FileNotFoundError):
    """The landing folder of a date does not exist yet: the data is late, not empty."""


@dataclass(frozen=True)
class LandingFile:
    path: Path
    size_bytes: int

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(".gz")


def batch_dir(landing_dir: Path, day: date) -> Path:
    return landing_dir / f"dt={day.isoformat()}"


def list_batch(landing_dir: Path, day: date) -> list[LandingFile]:
    """The landing files of one day, sorted by name; an empty folder is a valid, empty batch."""
    folder = batch_dir(landing_dir, day)
    if not folder.is_dir():
        raise LandingMissing(f"no landing folder {folder}: the events of {day} have not arrived")
    return [
        LandingFile(path=p, size_bytes=p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name.endswith(LANDING_SUFFIXES)
    ]
