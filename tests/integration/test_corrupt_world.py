"""The generator's corruption-mode world through ingestion: every injected bad input ends where
corruption.json says it must, and per landing file records read = raw + quarantined."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dataplatform import lake
from dataplatform.extract.operational import SourceError, extract_all
from dataplatform.generator import generate_world
from dataplatform.ingest.accounting import file_balances
from dataplatform.ingest.batch import ingest_batch

START, DAYS = date(2026, 11, 1), 3


@pytest.fixture(scope="module")
def corrupt_world(tmp_path_factory) -> tuple[Path, dict]:
    data_dir = tmp_path_factory.mktemp("corrupt")
    generate_world(data_dir, days=DAYS, users=2000, seed=5, start_date=START, corrupt=True)
    for offset in range(DAYS):
        ingest_batch(data_dir, START + timedelta(days=offset), progress=False)
    return data_dir, json.loads((data_dir / "world" / "corruption.json").read_text())


def _rows(data_dir: Path, glob: str, columns: str) -> dict[tuple[str, int], tuple]:
    rows = duckdb.sql(
        f"select source_file, line_number, {columns} from read_parquet('{glob}', "
        "hive_partitioning = true, union_by_name = true)"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_every_injected_record_lands_where_it_must(corrupt_world):
    data_dir, corruption = corrupt_world
    lake_dir = data_dir / "lake"
    raw = _rows(data_dir, str(lake.pending_events_dir(lake_dir) / "*/*/*.parquet"), "event_id")
    quarantined = _rows(data_dir, lake.quarantine_glob(lake_dir), "reason")
    landing_cases = [c for c in corruption["cases"] if c["file"].startswith("landing/")]
    assert len(landing_cases) >= 20
    for case in landing_cases:
        place = (case["file"], case["line"])
        if case["expected"] == "quarantine":
            assert quarantined.get(place) == (case["reason"],), case
            assert place not in raw, case
        elif case["expected"] == "reject_file":
            assert quarantined.get((case["file"], None)) == ("corrupt_file",), case
            kept = (
                lake.quarantine_events_dir(lake_dir)
                / Path(case["file"]).parent.name.replace("dt=", "batch_date=")
                / "files"
                / Path(case["file"]).name
            )
            assert kept.read_bytes() == (data_dir / case["file"]).read_bytes()
        elif case["line"] is not None:  # accepted records: in raw, at their place
            assert place in raw, case
            assert place not in quarantined, case


def test_accounting_identity_holds_for_every_landing_file(corrupt_world):
    data_dir, corruption = corrupt_world
    balances = file_balances(data_dir)
    landed = sorted(p for p in (data_dir / "landing" / "events").glob("dt=*/*.jsonl*"))
    assert len(balances) == len(landed)
    for balance in balances:
        assert balance.balanced, balance
        path = data_dir / balance.file
        if not any(
            c["file"] == balance.file and c["expected"] == "reject_file"
            for c in corruption["cases"]
        ):
            # read = the records of the file, counted independently of the ingest
            content = path.read_bytes()
            if path.name.endswith(".gz"):
                import gzip

                content = gzip.decompress(content)
            records = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
            assert balance.records_read == records, balance


def _lake_rows(data_dir: Path) -> tuple[list[tuple], list[tuple]]:
    lake_dir = data_dir / "lake"
    raw = duckdb.sql(
        f"select * exclude (source_file), source_file from read_parquet("
        f"'{lake.pending_events_dir(lake_dir)}/*/*/*.parquet', hive_partitioning = true) "
        "order by source_file, line_number"
    ).fetchall()
    quarantined = duckdb.sql(
        f"select * from read_parquet('{lake.quarantine_glob(lake_dir)}', union_by_name = true) "
        "order by source_file, line_number"
    ).fetchall()
    return raw, quarantined


def test_duckdb_reader_and_exact_query_give_the_same_lake(corrupt_world, tmp_path):
    """The fast path (DuckDB's NDJSON reader, the exact query only for suspect records) against
    the exact query for every record, over every kind of bad input: the same raw rows, column
    for column, and the same quarantine."""
    data_dir, _ = corrupt_world
    lakes, exact_chunks = [], []
    for fast in (True, False):
        copy = tmp_path / ("fast" if fast else "exact")
        shutil.copytree(data_dir / "landing", copy / "landing")
        results = [
            ingest_batch(copy, START + timedelta(days=offset), progress=False, fast=fast)
            for offset in range(DAYS)
        ]
        exact_chunks.append(sum(r.exact_chunks for r in results))
        lakes.append(_lake_rows(copy))
    # Without the fast path every chunk is an exact one; with it, only the injected files that
    # have unreadable lines.
    assert 0 < exact_chunks[0] < exact_chunks[1]
    (fast_raw, fast_quarantine), (exact_raw, exact_quarantine) = lakes
    assert len(fast_raw) > 1000 and len(fast_quarantine) >= 20
    assert fast_raw == exact_raw
    assert fast_quarantine == exact_quarantine


def test_clean_lines_all_reach_raw(corrupt_world):
    data_dir, corruption = corrupt_world
    truth = json.loads((data_dir / "world" / "truth.json").read_text())["landing"]["totals"]
    raw_count = duckdb.sql(
        f"select count(*) from read_parquet('{lake.pending_events_dir(data_dir / 'lake')}"
        "/*/*/*.parquet')"
    ).fetchone()[0]
    accepted = corruption["summary"]["accept"]
    accepted_lines = sum(
        1 for c in corruption["cases"] if c["expected"] == "accept" and c["line"] is not None
    )
    assert accepted_lines <= accepted
    assert raw_count == truth["lines"] - truth["skewed_lines"] + accepted_lines


def test_broken_operational_database_is_a_clear_error(corrupt_world, tmp_path):
    data_dir, _ = corrupt_world
    broken = f"sqlite:///{data_dir / 'source' / 'marketplace_broken.sqlite'}"
    with pytest.raises(SourceError, match=r"table 'listings' lacks column\(s\) price"):
        extract_all(broken, tmp_path / "lake", START)
