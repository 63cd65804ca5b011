"""Where things live in the lake, and the one way to replace a batch: write aside, then rename.

Raw events: ``lake/raw/events/batch_date=<landing day>/event_date=<UTC date>/*.parquet``, only
batches that passed the raw gate; a batch waits in ``lake/raw/_pending/`` until then. The
landing batch is the outer partition so that replacing a batch is one directory rename; readers
filter on ``event_date`` (Hive partition pruning) and see each batch either whole or not at all.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

MANIFEST_NAME = "_manifest.json"


def raw_events_dir(lake_dir: Path) -> Path:
    return lake_dir / "raw" / "events"


def quarantine_events_dir(lake_dir: Path) -> Path:
    return lake_dir / "quarantine" / "events"


def batch_partition(day: date) -> str:
    return f"batch_date={day.isoformat()}"


def raw_batch_dir(lake_dir: Path, day: date) -> Path:
    return raw_events_dir(lake_dir) / batch_partition(day)


def pending_events_dir(lake_dir: Path) -> Path:
    """Batches waiting for (or held back by) the raw gate: outside every reader's glob."""
    return lake_dir / "raw" / "_pending" / "events"


def pending_batch_dir(lake_dir: Path, day: date) -> Path:
    return pending_events_dir(lake_dir) / batch_partition(day)


def quarantine_batch_dir(lake_dir: Path, day: date) -> Path:
    return quarantine_events_dir(lake_dir) / batch_partition(day)


def raw_events_glob(lake_dir: Path) -> str:
    return str(raw_events_dir(lake_dir) / "batch_date=*" / "event_date=*" / "*.parquet")


def quarantine_glob(lake_dir: Path) -> str:
    return str(quarantine_events_dir(lake_dir) / "batch_date=*" / "*.parquet")


def batch_manifests(lake_dir: Path) -> dict[str, tuple[str, Path]]:
    """Each landing batch's manifest by batch date, as ``(state, path)``. A batch both published
    and held by the gate is shown held: the held one is the newer attempt."""
    found: dict[str, tuple[str, Path]] = {}
    for state, root in (
        ("published", raw_events_dir(lake_dir)),
        ("held", pending_events_dir(lake_dir)),
    ):
        for manifest in sorted(root.glob(f"batch_date=*/{MANIFEST_NAME}")):
            found[manifest.parent.name.removeprefix("batch_date=")] = (state, manifest)
    return dict(sorted(found.items()))


def new_staging_dir(lake_dir: Path, label: str) -> Path:
    """A private folder on the lake's filesystem (so a rename into place is atomic)."""
    staging_root = lake_dir / "_staging"
    for stale in staging_root.glob(f"{label}.*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a crashed earlier run of this batch
    path = staging_root / f"{label}.{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    return path


def replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``, replacing what was there. Readers see the old folder or the new
    one, never a partly written one; a crash between the two renames leaves the batch absent
    (re-run it), never half present."""
    target.parent.mkdir(parents=True, exist_ok=True)
    trash = new.with_name(new.name + ".old")
    if target.exists():
        os.rename(target, trash)
    os.rename(new, target)
    shutil.rmtree(trash, ignore_errors=True)
