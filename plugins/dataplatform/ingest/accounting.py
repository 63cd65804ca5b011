"""Accounting: for every landing file, records read = records in raw + records in quarantine.

"Read" comes from the batch manifest (counted while reading); "raw" and "quarantined" are counted
from the Parquet files themselves, so the identity checks what is really in the lake: the local
folder, or the bucket of ``LAKE_URL`` (read through the same s3fs filesystem as dbt's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dataplatform import lake, storage


@dataclass(frozen=True)
class FileBalance:
    batch_date: str
    file: str
    state: str  # "published" or "held" (the raw gate has not let it through)
    records_read: int
    raw: int
    quarantined: int

    @property
    def balanced(self) -> bool:
        return self.records_read == self.raw + self.quarantined


def file_balances(data_dir: Path) -> list[FileBalance]:
    lake_dir = data_dir / "lake"
    balances = []
    with duckdb.connect() as con:
        storage.register_lake_filesystem(con)
        for state, manifest_path in lake.batch_manifests(lake_dir).values():
            manifest = json.loads(manifest_path.read_text())
            batch_dir = manifest_path.parent
            raw_counts = _counts(con, [str(p) for p in batch_dir.glob("event_date=*/*.parquet")])
            day = manifest["batch_date"]
            quarantine_dir = lake.quarantine_events_dir(lake_dir) / f"batch_date={day}"
            quarantine_counts = _counts(con, [str(p) for p in quarantine_dir.glob("*.parquet")])
            for entry in manifest["files"]:
                balances.append(
                    FileBalance(
                        batch_date=day,
                        file=entry["file"],
                        state=state,
                        records_read=entry["records_read"],
                        raw=raw_counts.get(entry["file"], 0),
                        quarantined=quarantine_counts.get(entry["file"], 0),
                    )
                )
    return balances


def _counts(con: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, int]:
    if not files:
        return {}
    rows = con.execute(
        "select source_file, count(*) from read_parquet(?) group by 1", [files]
    ).fetchall()
    return dict(rows)


def format_balances(balances: list[FileBalance]) -> str:
    lines = [f"{'batch':<11} {'read':>9} {'raw':>9} {'quarant.':>9}  ok  state      file"]
    for b in balances:
        mark = "yes" if b.balanced else "NO "
        lines.append(
            f"{b.batch_date:<11} {b.records_read:>9,} {b.raw:>9,} {b.quarantined:>9,}  {mark} "
            f"{b.state:<10} {b.file}"
        )
    total_read = sum(b.records_read for b in balances)
    total_raw = sum(b.raw for b in balances)
    total_q = sum(b.quarantined for b in balances)
    unbalanced = sum(not b.balanced for b in balances)
    lines.append(
        f"{'total':<11} {total_read:>9,} {total_raw:>9,} {total_q:>9,}  "
        f"{'yes' if not unbalanced else 'NO '} {len(balances)} files, {unbalanced} unbalanced"
    )
    return "\n".join(lines)
