"""Ingest one landing batch (one ``dt=`` folder) into the raw zone and the quarantine."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
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
from dataplatform.ingest.validate import checked_records_sql, read_records_sql
from dataplatform.landing import LandingFile, list_batch

# Written to each raw file; event_date names the file's partition folder.
FILE_COLUMNS = (
    "event_id, event_type, occurred_at, occurred_at_text, user_id, anonymous_id, session_id, "
    "platform, app_version, properties, record_with_extra_fields, source_file, line_number"
)
RAW_COLUMNS = f"{FILE_COLUMNS}, event_date"
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
    # Chunks DuckDB's reader could not take (malformed records, blank lines...): checked whole
    # by the exact, slower query. How the batch was read, not what it holds.
    exact_chunks: int = 0

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
            "exact_chunks": self.exact_chunks,
            "files": [asdict(f) for f in self.files],
        }


def _file_key(position: int, name: str) -> str:
    # The position in the (sorted) batch keeps two names that differ only in punctuation apart.
    return f"{position:04d}-" + re.sub(r"[^A-Za-z0-9-]", "_", name)


class _Connections:
    """One DuckDB database per worker thread, kept for all of its files: a new one for every
    file would pay its start-up and fresh memory each time."""

    def __init__(self, memory_limit: str, threads: int) -> None:
        self._config = {"memory_limit": memory_limit, "threads": threads}
        self._local = threading.local()
        self._opened: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def get(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect(config=self._config)
            con.execute("set TimeZone = 'UTC'")
            self._local.con = con
            with self._lock:
                self._opened.append(con)
        return con

    def __enter__(self) -> _Connections:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for con in self._opened:
            con.close()


@dataclass
class _Tally:
    """Where one file's records went, by quarantine reason and by event date."""

    reasons: Counter[str] = field(default_factory=Counter)
    event_dates: Counter[str] = field(default_factory=Counter)
    exact_chunks: int = 0  # chunks DuckDB's reader could not take, checked by the exact query


# A landing path DuckDB's reader would take for a glob pattern is read from a copy.
_GLOB_CHARACTERS = re.compile(r"[*?\[\]{}]")


def _unterminated_line(chunk: LineChunk) -> int:
    """The number of the chunk's line that has no "\\n" (the file's truncated last), or -1."""
    return chunk.first_line + len(chunk) - 1 if chunk.last_unterminated else -1


def _copy_sql(query: str, folder: Path, name: str, options: str = "") -> str:
    """COPY of the query's rows to Parquet files ``event_date=<date>/<name>-<i>.parquet`` in
    ``folder``."""
    # Parquet 2 encodings (delta lengths for the id and text columns): measured on a file of
    # 125,000 events, 15 % less to write than version 1 and less to read back.
    return (
        f"copy ({query}) to '{folder}' (format parquet, partition_by (event_date), "
        f"filename_pattern '{name}-{{i}}', overwrite_or_ignore, compression snappy, "
        f"parquet_version v2{options})"
    )


# Up to this many records the exact query is cheaper without DuckDB's optimizer: optimising it
# takes ~0.02 s, half of what it costs on a few records, and pays off from about 10,000 on.
_FEW_ROWS = 1000


@contextmanager
def _optimizer_off(con: duckdb.DuckDBPyConnection, off: bool) -> Iterator[None]:
    """Run the enclosed queries without DuckDB's optimizer when ``off``: the same results."""
    if not off:
        yield
        return
    con.execute("pragma disable_optimizer")
    try:
        yield
    finally:
        con.execute("pragma enable_optimizer")


class _BatchWriter:
    def __init__(self, stage: Path, batch_day: date, data_dir: Path, fast: bool) -> None:
        self.raw_dir = stage / "raw"
        self.quarantine_dir = stage / "quarantine"
        self.scratch_dir = stage / "scratch"
        self.raw_dir.mkdir(parents=True)
        self.quarantine_dir.mkdir(parents=True)
        self.scratch_dir.mkdir(parents=True)
        self.batch_day = batch_day
        self.data_dir = data_dir
        self.fast = fast

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.data_dir).as_posix()
        except ValueError:
            return path.as_posix()

    def write_chunk(
        self,
        con: duckdb.DuckDBPyConnection,
        chunk: LineChunk,
        landing: LandingFile,
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
        name = f"{key}-c{index:04d}"
        valid = None
        if self.fast:
            with self._records_file(chunk, landing, name) as records:
                valid = self._write_fast(con, chunk, records, source, name, tally)
        if valid is None:
            tally.exact_chunks += 1
            unterminated = _unterminated_line(chunk)
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
            valid = self._write_checked(con, name, tally)
        rejected = len(chunk) - valid
        if rejected:
            self._quarantine_records(con, chunk, source, key, index)
        con.unregister("chunk")
        con.execute("drop table if exists checked")
        return valid, rejected

    def _write_checked(self, con: duckdb.DuckDBPyConnection, name: str, tally: _Tally) -> int:
        """Count the records of the table ``checked`` and write its valid ones to the raw zone;
        the number of valid ones."""
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
                _copy_sql(
                    f"select {RAW_COLUMNS} from checked where reason is null", self.raw_dir, name
                )
            )
        return valid

    @contextmanager
    def _records_file(self, chunk: LineChunk, landing: LandingFile, name: str) -> Iterator[Path]:
        """A file holding exactly the chunk's lines, for DuckDB's reader: the landing file when
        the chunk is all of it, as written, else a scratch copy of the chunk."""
        data = chunk.lines.buffers()[2]
        if (
            chunk.first_line == 1
            and data.size == landing.size_bytes
            and not landing.path.name.endswith(".gz")
            and not _GLOB_CHARACTERS.search(str(landing.path))
        ):
            yield landing.path
            return
        copy = self.scratch_dir / name
        copy.write_bytes(memoryview(data))
        try:
            yield copy
        finally:
            copy.unlink()

    def _write_fast(
        self,
        con: duckdb.DuckDBPyConnection,
        chunk: LineChunk,
        records: Path,
        source: str,
        name: str,
        tally: _Tally,
    ) -> int | None:
        """Check the chunk's records as DuckDB's own reader parses them and write the valid ones
        to the raw zone, in one pass; check the few it finds suspect with the exact query, which
        leaves them in the table ``checked``. The number of valid records, or None when the
        reader cannot take the chunk (a malformed record, a blank line, ...): the chunk then
        goes to the exact query whole, and nothing of it has been written.

        The query's rows go straight to Parquet, the suspect ones under a null event date: its
        partition holds them apart, to be read back for their line numbers and dropped. The
        valid ones are counted by event date from what COPY reports of the files it wrote."""
        fast = checked_records_sql(
            self.batch_day, source, -1, records=read_records_sql(str(records))
        )
        # A valid record always has an event date (a null occurred_at is invalid_timestamp), so a
        # null one can only be a suspect's.
        rows = (
            f"select {FILE_COLUMNS}, case when reason is null then event_date end as event_date "
            f"from ({fast})"
        )
        written = self.scratch_dir / f"{name}-rows"
        try:
            result = con.execute(_copy_sql(rows, written, name, ", return_stats"))
            columns = [column[0] for column in result.description]
            files = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        except duckdb.Error:
            shutil.rmtree(written, ignore_errors=True)
            return None
        valid = 0
        suspect_files = []
        for file in files:
            path, event_date = Path(file["filename"]), file["partition_keys"]["event_date"]
            if event_date is None:
                suspect_files.append(str(path))
                continue
            valid += file["count"]
            tally.event_dates[event_date] += file["count"]
            partition = self.raw_dir / path.parent.name  # event_date=<date>
            partition.mkdir(exist_ok=True)
            path.replace(partition / path.name)
        if suspect_files:
            suspects = con.execute(
                "select line_number from read_parquet(?)", [suspect_files]
            ).fetch_arrow_table()["line_number"]
            positions = pc.subtract(suspects, chunk.first_line)
            lines = pa.table({"line": pc.take(chunk.lines, positions), "line_number": suspects})
            con.register("chunk", lines)
            with _optimizer_off(con, len(suspects) <= _FEW_ROWS):
                con.execute(
                    "create or replace temp table checked as "
                    + checked_records_sql(self.batch_day, source, _unterminated_line(chunk))
                )
            valid += self._write_checked(con, f"{name}-s", tally)
        shutil.rmtree(written)
        return valid

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
    connections: _Connections,
) -> tuple[FileAccount, _Tally]:
    source = writer.relative(landing.path)
    key = _file_key(position, landing.path.name)
    account = FileAccount(file=source, sha256="", size_bytes=landing.size_bytes)
    reading = FileReading()
    tally = _Tally()
    try:
        con = connections.get()
        for index, chunk in enumerate(read_chunks(landing.path, reading, chunk_bytes)):
            valid, rejected = writer.write_chunk(con, chunk, landing, source, key, index, tally)
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
    fast: bool = True,
) -> BatchResult:
    """Validate every record of the day's landing files; write rejected records to the quarantine
    and valid ones to the pending raw batch, which :func:`promote_batch` publishes once the raw
    gate passed. Re-running replaces the batch.

    Files are ingested side by side, one per core, each worker with a single-threaded DuckDB
    connection of its own: reading, hashing and decompressing a file in Python then overlaps
    with the validation of another, and no query pays for coordinating threads.
    ``memory_limit`` is per connection.

    With ``fast`` (the default) each chunk is first read by DuckDB's own NDJSON reader, and only
    the records it finds suspect, or the chunks it cannot read, go through the exact query;
    without, every chunk does. Both give the same lake (a test holds them to it)."""
    started = time.perf_counter()
    lake_dir = data_dir / "lake"
    files = list_batch(data_dir / "landing" / "events", batch_day)
    stage = lake.new_staging_dir(lake_dir, f"events-{batch_day.isoformat()}")
    writer = _BatchWriter(stage, batch_day, data_dir, fast)
    result = BatchResult(batch_date=batch_day.isoformat())
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(files)))
    threads = max(1, cores // workers)
    reasons: Counter[str] = Counter()
    event_dates: Counter[str] = Counter()
    accounts: dict[int, FileAccount] = {}
    with (
        _Connections(memory_limit, threads) as connections,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool,
    ):
        running = {
            pool.submit(_ingest_file, writer, index, landing, chunk_bytes, connections): index
            for index, landing in enumerate(files)
        }
        for done in as_completed(running):
            account, tally = done.result()
            accounts[running[done]] = account
            reasons.update(tally.reasons)
            event_dates.update(tally.event_dates)
            result.exact_chunks += tally.exact_chunks
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
    # The manifest describes content; a re-run must not change it.
    manifest.pop("seconds")
    manifest.pop("exact_chunks")
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
