"""Ingest one landing batch (one ``dt=`` folder) into the raw zone and the quarantine."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataplatform import lake
from dataplatform.ingest.reader import (
    DEFAULT_CHUNK_BYTES,
    CorruptFile,
    FileReading,
    LineChunk,
    read_chunks,
)
from dataplatform.ingest.validate import checked_records_sql
from dataplatform.landing import LandingFile, list_batch

RAW_COLUMNS = (
    "event_id, event_type, occurred_at, occurred_at_text, user_id, anonymous_id, session_id, "
    "platform, app_version, properties, record_with_extra_fields, source_file, line_number, "
    "event_date"
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw_line", pa.large_binary()),
    ]
)


@dataclass
class FileAccount:
    """Records read from one landing file and where each of them went."""

    file: str
    sha256: str
    size_bytes: int
    records_read: int = 0
    raw: int = 0
    quarantined: int = 0
    rejected_whole: bool = False
    error: str | None = None


@dataclass
class BatchResult:
    batch_date: str
    files: list[FileAccount] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    event_dates: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records_read(self) -> int:
        return sum(f.records_read for f in self.files)

    @property
    def raw(self) -> int:
        return sum(f.raw for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def to_json(self) -> dict:
        return {
            "batch_date": self.batch_date,
            "records_read": self.records_read,
            "raw": self.raw,
            "quarantined": self.quarantined,
            "reasons": self.reasons,
            "event_dates": self.event_dates,
            "seconds": round(self.seconds, 3),
            "files": [asdict(f) for f in self.files],
        }


def _file_key(position: int, name: str) -> str:
    # The position in the (sorted) batch keeps two names that differ only in punctuation apart.
    return f"{position:04d}-" + re.sub(r"[^A-Za-z0-9-]", "_", name)


def _connect(memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    con.execute("set TimeZone = 'UTC'")
    return con


@dataclass
class _Tally:
    """Where one file's records went, by quarantine reason and by event date."""

    reasons: Counter[str] = field(default_factory=Counter)
    event_dates: Counter[str] = field(default_factory=Counter)


class _BatchWriter:
    def __init__(self, stage: Path, batch_day: date, data_dir: Path) -> None:
        self.raw_dir = stage / "raw"
        self.quarantine_dir = stage / "quarantine"
        self.raw_dir.mkdir(parents=True)
        self.quarantine_dir.mkdir(parents=True)
        self.batch_day = batch_day
        self.data_dir = data_dir

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.data_dir).as_posix()
        except ValueError:
            return path.as_posix()

    def write_chunk(
        self,
        con: duckdb.DuckDBPyConnection,
        chunk: LineChunk,
        source: str,
        key: str,
        index: int,
        tally: _Tally,
    ) -> tuple[int, int]:
        line_numbers = pa.array(
            np.arange(chunk.first_line, chunk.first_line + len(chunk), dtype=np.int64)
        )
        table = pa.table({"line": chunk.lines, "line_number": line_numbers})
        # Record batches of a few thousand rows let DuckDB scan the chunk on every core.
        con.register("chunk", pa.Table.from_batches(table.to_batches(max_chunksize=8192)))
        unterminated = chunk.first_line + len(chunk) - 1 if chunk.last_unterminated else -1
        try:
            con.execute(
                "create or replace temp table checked as "
                + checked_records_sql(self.batch_day, source, unterminated, assume_json=True)
            )
        except duckdb.InvalidInputException:
            # Some record is malformed JSON: the exact query finds which, and why.
            con.execute(
                "create or replace temp table checked as "
                + checked_records_sql(self.batch_day, source, unterminated)
            )
        counts = con.execute(
            "select reason, detail, event_date, count(*) from checked group by all"
        ).fetchall()
        valid = 0
        for reason, detail, event_date, n in counts:
            if reason is None:
                valid += n
                tally.event_dates[event_date.isoformat()] += n
            else:
                tally.reasons[f"{reason}:{detail}" if detail else reason] += n
        if valid:
            con.execute(
                f"copy (select {RAW_COLUMNS} from checked where reason is null) "
                f"to '{self.raw_dir}' (format parquet, partition_by (event_date), "
                f"filename_pattern '{key}-c{index:04d}-{{i}}', overwrite_or_ignore, "
                "compression snappy)"
            )
        rejected = len(chunk) - valid
        if rejected:
            self._quarantine_records(con, chunk, source, key, index)
        con.unregister("chunk")
        return valid, rejected

    def _quarantine_records(
        self, con: duckdb.DuckDBPyConnection, chunk: LineChunk, source: str, key: str, index: int
    ) -> None:
        bad = con.execute(
            "select line_number, reason, detail from checked where reason is not null "
            "order by line_number"
        ).fetch_arrow_table()
        positions = pc.subtract(bad["line_number"], chunk.first_line)
        records = pc.take(chunk.lines, positions)
        # Keep each record byte for byte, without the "\n" that separated it from the next.
        last = len(chunk) - 1
        keep_all = pc.and_(pc.equal(positions, last), pa.scalar(chunk.last_unterminated))
        exact = pc.if_else(keep_all, records, pc.binary_slice(records, 0, -1))
        table = pa.table(
            {
                "source_file": pa.array([source] * len(bad), pa.string()),
                "line_number": bad["line_number"],
                "reason": bad["reason"],
                "detail": bad["detail"],
                "raw_line": exact.cast(pa.large_binary()),
            },
            schema=QUARANTINE_SCHEMA,
        )
        pq.write_table(table, self.quarantine_dir / f"{key}-c{index:04d}.parquet")

    def reject_file(
        self, landing: LandingFile, source: str, key: str, error: str, tally: _Tally
    ) -> None:
        """Quarantine a file that cannot be read as a whole, and drop what it had yielded."""
        for partial in self.raw_dir.glob(f"*/{key}-c*"):
            partial.unlink()
        for partial in self.quarantine_dir.glob(f"{key}-c*"):
            partial.unlink()
        files_dir = self.quarantine_dir / "files"
        files_dir.mkdir(exist_ok=True)
        shutil.copyfile(landing.path, files_dir / landing.path.name)
        table = pa.table(
            {
                "source_file": [source],
                "line_number": pa.array([None], pa.int64()),
                "reason": ["corrupt_file"],
                "detail": [error[:500]],
                "raw_line": pa.array([None], pa.large_binary()),
            },
            schema=QUARANTINE_SCHEMA,
        )
        pq.write_table(table, self.quarantine_dir / f"{key}-file.parquet")
        tally.reasons["corrupt_file"] += 1


def _ingest_file(
    writer: _BatchWriter,
    position: int,
    landing: LandingFile,
    chunk_bytes: int,
    memory_limit: str,
    threads: int,
) -> tuple[FileAccount, _Tally]:
    source = writer.relative(landing.path)
    key = _file_key(position, landing.path.name)
    account = FileAccount(file=source, sha256="", size_bytes=landing.size_bytes)
    reading = FileReading()
    tally = _Tally()
    try:
        with _connect(memory_limit, threads) as con:
            for index, chunk in enumerate(read_chunks(landing.path, reading, chunk_bytes)):
                valid, rejected = writer.write_chunk(con, chunk, source, key, index, tally)
                account.raw += valid
                account.quarantined += rejected
        account.records_read = reading.records
        account.sha256 = reading.sha256
    except CorruptFile as err:
        tally = _Tally()
        writer.reject_file(landing, source, key, str(err), tally)
        account.sha256 = lake_file_sha256(landing.path)
        # The unreadable file counts as one record, quarantined whole.
        account.records_read, account.raw, account.quarantined = 1, 0, 1
        account.rejected_whole, account.error = True, str(err)
    return account, tally


def lake_file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ingest_batch(
    data_dir: Path,
    batch_day: date,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    memory_limit: str = "768MB",
    workers: int | None = None,
    progress: bool = True,
) -> BatchResult:
    """Validate every record of the day's landing files; write rejected records to the quarantine
    and valid ones to the pending raw batch, which :func:`promote_batch` publishes once the raw
    gate passed. Re-running replaces the batch.

    Files are ingested side by side, one per core, each by a single-threaded DuckDB connection
    of its own: reading, hashing and decompressing a file in Python then overlaps with the
    validation of another, and no query pays for coordinating threads. ``memory_limit`` is per
    connection."""
    started = time.perf_counter()
    lake_dir = data_dir / "lake"
    files = list_batch(data_dir / "landing" / "events", batch_day)
    stage = lake.new_staging_dir(lake_dir, f"events-{batch_day.isoformat()}")
    writer = _BatchWriter(stage, batch_day, data_dir)
    result = BatchResult(batch_date=batch_day.isoformat())
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(files)))
    threads = max(1, cores // workers)
    reasons: Counter[str] = Counter()
    event_dates: Counter[str] = Counter()
    accounts: dict[int, FileAccount] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        running = {
            pool.submit(
                _ingest_file, writer, index, landing, chunk_bytes, memory_limit, threads
            ): index
            for index, landing in enumerate(files)
        }
        for done in as_completed(running):
            account, tally = done.result()
            accounts[running[done]] = account
            reasons.update(tally.reasons)
            event_dates.update(tally.event_dates)
            if progress:
                status = (
                    "REJECTED whole: " + (account.error or "") if account.rejected_whole else ""
                )
                print(
                    f"    [{len(accounts)}/{len(files)}] {Path(account.file).name}: "
                    f"{account.records_read} read, {account.raw} raw, "
                    f"{account.quarantined} quarantined {status}".rstrip(),
                    flush=True,
                )
    result.files = [accounts[index] for index in range(len(files))]
    result.reasons = dict(sorted(reasons.items()))
    result.event_dates = dict(sorted(event_dates.items()))
    result.seconds = time.perf_counter() - started
    manifest = result.to_json()
    manifest.pop("seconds")  # the manifest describes content; a re-run must not change it
    (writer.raw_dir / lake.MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    lake.replace_dir(writer.quarantine_dir, lake.quarantine_batch_dir(lake_dir, batch_day))
    lake.replace_dir(writer.raw_dir, lake.pending_batch_dir(lake_dir, batch_day))
    shutil.rmtree(stage, ignore_errors=True)
    return result


def promote_batch(data_dir: Path, batch_day: date) -> lake.LakePath:
    """Make a pending batch visible to readers of the raw zone (after its gate passed); on S3
    its manifest, uploaded last, is the commit marker."""
    lake_dir = data_dir / "lake"
    pending = lake.pending_batch_dir(lake_dir, batch_day)
    if not pending.is_dir():
        raise FileNotFoundError(f"no pending batch {pending}: run the ingest for {batch_day} first")
    target = lake.raw_batch_dir(lake_dir, batch_day)
    lake.replace_dir(pending, target, marker=lake.MANIFEST_NAME)
    return target
