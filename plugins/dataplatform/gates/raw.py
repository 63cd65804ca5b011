"""The raw gate: batch-level checks on a pending landing batch before readers may see it."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import duckdb

from dataplatform import lake
from dataplatform.gates.runner import GateResult, load_suite, validate_frame

SUITE = "raw_events_batch"
TRAILING_BATCHES = 7


def _trailing_volume(lake_dir: Path, day: date) -> float | None:
    """Mean raw volume of the published batches of the previous days, if any."""
    volumes = []
    for back in range(1, TRAILING_BATCHES + 1):
        manifest = lake.raw_batch_dir(lake_dir, day - timedelta(days=back)) / lake.MANIFEST_NAME
        if manifest.exists():
            volumes.append(json.loads(manifest.read_text())["raw"])
    return sum(volumes) / len(volumes) if volumes else None


def batch_metrics(data_dir: Path, day: date):
    """One row of batch metrics, aggregated by DuckDB over the pending batch's Parquet files."""
    lake_dir = data_dir / "lake"
    pending = lake.pending_batch_dir(lake_dir, day)
    manifest = json.loads((pending / lake.MANIFEST_NAME).read_text())
    trailing = _trailing_volume(lake_dir, day)
    files = list(pending.glob("event_date=*/*.parquet"))
    with duckdb.connect() as con:
        if files:
            stats = con.execute(
                """
                select
                    count(*) - count(distinct event_id) as duplicate_event_ids,
                    avg((user_id is null)::int) as user_id_null_ratio,
                    avg((event_type = 'session_started')::int) as session_started_share,
                    avg((event_type = 'listing_viewed')::int) as listing_viewed_share,
                    count(distinct event_type) as event_types
                from read_parquet(?)
                """,
                [[str(f) for f in files]],
            ).df()
        else:
            stats = con.execute(
                "select 0 as duplicate_event_ids, null::double as user_id_null_ratio, "
                "null::double as session_started_share, null::double as listing_viewed_share, "
                "0 as event_types"
            ).df()
    read = manifest["records_read"]
    stats.insert(0, "batch_date", day.isoformat())
    stats["records_read"] = read
    stats["raw_records"] = manifest["raw"]
    stats["quarantined"] = manifest["quarantined"]
    stats["quarantine_ratio"] = manifest["quarantined"] / read if read else 0.0
    stats["files_rejected"] = sum(f["rejected_whole"] for f in manifest["files"])
    stats["duplicate_ratio"] = (
        stats["duplicate_event_ids"] / manifest["raw"] if manifest["raw"] else 0.0
    )
    stats["volume_vs_trailing"] = manifest["raw"] / trailing if trailing else None
    return stats


def run_raw_gate(data_dir: Path, day: date) -> GateResult:
    overrides = {}
    if max_ratio := os.environ.get("RAW_GATE_MAX_QUARANTINE_RATIO"):
        overrides["quarantine_ratio"] = {"max_value": float(max_ratio)}
    suite = load_suite(SUITE, overrides)
    frame = batch_metrics(data_dir, day)
    return validate_frame(suite, frame, data_dir / "quality", label=day.isoformat())
