"""Where things live in the lake, and the one way to replace a batch: write aside, then swap.

Raw events: ``lake/raw/events/batch_date=<landing day>/event_date=<UTC date>/*.parquet``, only
batches that passed the raw gate; a batch waits in ``lake/raw/_pending/`` until then. The
landing batch is the outer partition so that replacing a batch is one directory swap; readers
filter on ``event_date`` (Hive partition pruning) and see each batch either whole or not at all.

Every function takes the local lake folder (``DATA_DIR/lake``). The durable zones, ``raw/`` and
``quarantine/``, resolve to ``LAKE_URL`` when it is set (an S3 prefix, same layout below it, as
:class:`upath.UPath` objects that glob, exist and read like paths); the working zones,
``_staging/`` and ``raw/_pending/``, always stay local. See :mod:`dataplatform.storage` for what
"whole or not at all" takes on S3.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from pathlib import Path

from dataplatform import storage
from dataplatform.storage import LakePath

MANIFEST_NAME = "_manifest.json"


def durable_root(lake_dir: Path) -> LakePath:
    """The lake's durable zones: ``LAKE_URL`` when set, else ``lake_dir`` itself."""
    return storage.lake_root(lake_dir)


def raw_events_dir(lake_dir: Path) -> LakePath:
    return durable_root(lake_dir) / "raw" / "events"


def quarantine_events_dir(lake_dir: Path) -> LakePath:
    return durable_root(lake_dir) / "quarantine" / "events"


def batch_partition(day: date) -> str:
    return f"batch_date={day.isoformat()}"


def raw_batch_dir(lake_dir: Path, day: date) -> LakePath:
    return raw_events_dir(lake_dir) / batch_partition(day)


def pending_events_dir(lake_dir: Path) -> Path:
    """Batches waiting for (or held back by) the raw gate: outside every reader's glob."""
    return lake_dir / "raw" / "_pending" / "events"


def pending_batch_dir(lake_dir: Path, day: date) -> Path:
    return pending_events_dir(lake_dir) / batch_partition(day)


def quarantine_batch_dir(lake_dir: Path, day: date) -> LakePath:
    return quarantine_events_dir(lake_dir) / batch_partition(day)


def raw_events_glob(lake_dir: Path) -> str:
    """Every raw event file, for DuckDB (an ``s3://`` glob with ``LAKE_URL``). On S3 a glob
    also matches a batch still being uploaded: readers that must see committed batches only
    list the manifests (:func:`batch_manifests`), as the dbt sources do."""
    return str(raw_events_dir(lake_dir) / "batch_date=*" / "event_date=*" / "*.parquet")


def quarantine_glob(lake_dir: Path) -> str:
    return str(quarantine_events_dir(lake_dir) / "batch_date=*" / "*.parquet")


def batch_manifests(lake_dir: Path) -> dict[str, tuple[str, LakePath]]:
    """Each landing batch's manifest by batch date, as ``(state, path)``. A batch both published
    and held by the gate is shown held: the held one is the newer attempt. The manifest is a
    batch's commit marker, so only committed batches are listed."""
    found: dict[str, tuple[str, LakePath]] = {}
    for state, root in (
        ("published", raw_events_dir(lake_dir)),
        ("held", pending_events_dir(lake_dir)),
    ):
        for manifest in sorted(root.glob(f"batch_date=*/{MANIFEST_NAME}"), key=str):
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


def replace_dir(new: Path, target: LakePath, marker: str = storage.SUCCESS_MARKER) -> None:
    """Put the local folder ``new`` at ``target``, replacing what was there. Readers see the old
    folder or the new one, never a partly written one; a crash midway leaves the batch absent
    (re-run it), never half present. Locally that is two renames; on S3, ``marker`` (the
    folder's manifest, or an empty ``_SUCCESS``) is removed first and uploaded last."""
    storage.replace_folder(new, target, marker)
