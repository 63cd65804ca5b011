"""Every bad-input case of the event contract: quarantined with its reason, byte for byte, or
accepted where the contract says so; nothing lost."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dataplatform import lake
from dataplatform.contract import (
    EVENT_ID_PATTERN,
    EVENT_PROPERTIES,
    OCCURRED_AT_PATTERN,
    PLATFORMS,
)
from dataplatform.ingest import batch
from dataplatform.ingest.accounting import file_balances
from dataplatform.ingest.batch import ingest_batch, promote_batch
from dataplatform.ingest.validate import REASONS
from tests.conftest import VALID_PROPERTIES, line, make_event

DAY = date(2026, 11, 2)


def _without(event: dict, field: str) -> dict:
    return {k: v for k, v in event.items() if k != field}


def _props_without(event_type: str, prop: str) -> dict:
    event = make_event(900, event_type)
    event["properties"] = {k: v for k, v in event["properties"].items() if k != prop}
    return event


# (case, record bytes, expected reason, expected detail)
BAD_RECORDS = [
    ("malformed json", b'{"event_id": "x",', "malformed_json", None),
    ("not an object", b"[1, 2, 3]", "not_an_object", None),
    ("scalar", b'"hello"', "not_an_object", None),
    ("non-utf8", b'{"event_id": "\xff\xfe"}', "invalid_utf8", None),
    ("blank line", b"", "empty_line", None),
    *[
        (f"missing {f}", line(_without(make_event(10 + i), f)), "missing_field", f)
        for i, f in enumerate(
            [
                "event_id",
                "event_type",
                "occurred_at",
                "anonymous_id",
                "session_id",
                "platform",
                "properties",
            ]
        )
    ],
    ("null event_id", line(make_event(20, event_id=None)), "missing_field", "event_id"),
    ("user_id a number", line(make_event(21, user_id=42)), "wrong_type", "user_id"),
    ("platform a number", line(make_event(22, platform=1)), "wrong_type", "platform"),
    ("properties a list", line(make_event(23, properties=[1])), "wrong_type", "properties"),
    ("event_id not a uuid", line(make_event(24, event_id="abc")), "invalid_event_id", "event_id"),
    (
        "unknown event type",
        line(make_event(25, event_type="listing_liked")),
        "unknown_event_type",
        "event_type",
    ),
    ("invalid platform", line(make_event(26, platform="tv")), "invalid_platform", "platform"),
    (
        "unparseable time",
        line(make_event(27, occurred_at="yesterday")),
        "invalid_timestamp",
        "occurred_at",
    ),
    (
        "time without offset",
        line(make_event(28, occurred_at="2026-11-02T10:00:00")),
        "invalid_timestamp",
        "occurred_at",
    ),
    (
        "impossible date",
        line(make_event(29, occurred_at="2026-02-30T10:00:00Z")),
        "invalid_timestamp",
        "occurred_at",
    ),
    (
        "future > 1h",
        line(make_event(30, occurred_at="2026-11-03T01:00:01Z")),
        "future_timestamp",
        "occurred_at",
    ),
    (
        "older than 3 days",
        line(make_event(31, occurred_at="2026-10-29T23:59:59Z")),
        "too_late",
        "occurred_at",
    ),
    (
        "results_count a string",
        line(
            make_event(
                32,
                "search_performed",
                properties={**VALID_PROPERTIES["search_performed"], "results_count": "40"},
            )
        ),
        "wrong_property_type",
        "search_performed.results_count",
    ),
    (
        "negative price",
        line(
            make_event(
                33,
                "listing_created",
                properties={**VALID_PROPERTIES["listing_created"], "price": -1},
            )
        ),
        "invalid_property_value",
        "listing_created.price",
    ),
    (
        "zero amount",
        line(
            make_event(
                34,
                "promotion_purchased",
                properties={**VALID_PROPERTIES["promotion_purchased"], "amount": 0},
            )
        ),
        "invalid_property_value",
        "promotion_purchased.amount",
    ),
    (
        "bad channel",
        line(
            make_event(
                35,
                "contact_initiated",
                properties={**VALID_PROPERTIES["contact_initiated"], "channel": "fax"},
            )
        ),
        "invalid_property_value",
        "contact_initiated.channel",
    ),
    (
        "score above 1",
        line(
            make_event(
                36,
                "category_suggested",
                properties={**VALID_PROPERTIES["category_suggested"], "score": 1.5},
            )
        ),
        "invalid_property_value",
        "category_suggested.score",
    ),
    (
        "bad currency",
        line(
            make_event(
                37,
                "listing_created",
                properties={**VALID_PROPERTIES["listing_created"], "currency": "euro"},
            )
        ),
        "invalid_property_value",
        "listing_created.currency",
    ),
    *[
        (f"{t} without {p}", line(_props_without(t, p)), "missing_property", f"{t}.{p}")
        for t, props in VALID_PROPERTIES.items()
        for p in props
        if not EVENT_PROPERTIES[t][p].nullable
    ],
]

GOOD_RECORDS = [
    ("every event type", [line(make_event(100 + i, t)) for i, t in enumerate(VALID_PROPERTIES)]),
    ("local offset", [line(make_event(200, occurred_at="2026-11-02T23:30:00+02:00"))]),
    ("late by 3 days", [line(make_event(201, occurred_at="2026-10-30T00:00:00Z"))]),
    ("skew within 1h", [line(make_event(202, occurred_at="2026-11-03T00:59:59Z"))]),
    ("nullable absent", [line(_without(make_event(203), "user_id"))]),
    ("null referrer", [line(make_event(204, "session_started"))]),
    (
        "escapes in patterned fields",
        [line(make_event(205)).replace(b'"listing_viewed"', b'"listing\\u005fviewed"')],
    ),
]
# Records DuckDB's NDJSON reader cannot take: their chunk goes to the exact query whole.
UNREADABLE = {"malformed_json", "not_an_object", "invalid_utf8", "empty_line"}


def test_the_contract_module_is_the_schema(generator_event_schema):
    """The validation reads its patterns and lists from dataplatform.contract; the collector team
    reads contract/event.schema.json."""
    fields = generator_event_schema["properties"]
    assert generator_event_schema["$defs"]["uuid"]["pattern"] == EVENT_ID_PATTERN
    assert fields["occurred_at"]["pattern"] == OCCURRED_AT_PATTERN
    assert fields["event_type"]["enum"] == list(EVENT_PROPERTIES)
    assert fields["platform"]["enum"] == list(PLATFORMS)


@pytest.mark.parametrize(
    ("case", "record", "reason", "detail"), BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS]
)
def test_bad_record_is_quarantined_with_its_reason(
    tmp_path, landing_day, case, record, reason, detail
):
    good = line(make_event(1))
    landing_day("part-0.jsonl", good + b"\n" + record + b"\n" + good + b"\n")

    result = ingest_batch(tmp_path, DAY, progress=False)

    assert (result.records_read, result.raw, result.quarantined) == (3, 2, 1)
    quarantine = lake.quarantine_batch_dir(tmp_path / "lake", DAY)
    rows = duckdb.sql(
        f"select line_number, reason, detail, raw_line from '{quarantine}/*.parquet'"
    ).fetchall()
    assert rows == [(2, reason, detail, record)]
    assert reason in REASONS
    assert result.exact_chunks == (1 if reason in UNREADABLE else 0)


@pytest.mark.parametrize(("case", "records"), GOOD_RECORDS, ids=[c[0] for c in GOOD_RECORDS])
def test_valid_records_are_accepted(tmp_path, landing_day, case, records):
    landing_day("part-0.jsonl", b"\n".join(records) + b"\n")
    result = ingest_batch(tmp_path, DAY, progress=False)
    assert result.quarantined == 0, result.reasons
    assert result.raw == len(records)
    assert result.exact_chunks == 0
    assert _raw_rows(tmp_path, "record_with_extra_fields") == [(None,)] * len(records)


def _raw_rows(data_dir: Path, columns: str = "*") -> list[tuple]:
    folder = lake.pending_batch_dir(data_dir / "lake", DAY)
    return duckdb.sql(
        f"select {columns} from read_parquet('{folder}/*/*.parquet', hive_partitioning=true) "
        "order by source_file, line_number"
    ).fetchall()


def test_crlf_bom_and_gzip_are_read_like_plain_files(tmp_path, landing_day):
    events = [make_event(1), make_event(2)]
    landing_day("crlf.jsonl", b"\r\n".join(line(e) for e in events) + b"\r\n")
    landing_day("bom.jsonl", b"\xef\xbb\xbf" + line(make_event(3)) + b"\n")
    landing_day(
        "zipped.jsonl.gz", gzip.compress(line(make_event(4)) + b"\n" + line(make_event(5)) + b"\n")
    )

    result = ingest_batch(tmp_path, DAY, progress=False)

    assert (result.raw, result.quarantined) == (5, 0), result.reasons
    ids = sorted(r[0] for r in _raw_rows(tmp_path, "event_id"))
    assert ids == sorted(make_event(n)["event_id"] for n in range(1, 6))


def test_truncated_last_line_is_quarantined_and_a_complete_one_kept(tmp_path, landing_day):
    landing_day("cut.jsonl", line(make_event(1)) + b"\n" + line(make_event(2))[:40])
    landing_day("no-newline.jsonl", line(make_event(3)))
    result = ingest_batch(tmp_path, DAY, progress=False)
    assert result.raw == 2
    assert result.reasons == {"truncated_line": 1}


def test_corrupt_gzip_is_quarantined_whole(tmp_path, landing_day):
    good = gzip.compress(b"\n".join(line(make_event(n)) for n in range(1, 50)) + b"\n")
    broken = good[: len(good) // 2]  # a stream cut in the middle: some records decode first
    landing_day("broken.jsonl.gz", broken)
    landing_day("ok.jsonl", line(make_event(99)) + b"\n")

    result = ingest_batch(tmp_path, DAY, progress=False)

    broken_account = next(f for f in result.files if f.file.endswith("broken.jsonl.gz"))
    assert broken_account.rejected_whole and broken_account.raw == 0
    assert result.raw == 1  # nothing of the broken file reached raw, the good file did
    kept = lake.quarantine_batch_dir(tmp_path / "lake", DAY) / "files" / "broken.jsonl.gz"
    assert kept.read_bytes() == broken


def test_empty_file_is_an_empty_batch_part(tmp_path, landing_day):
    landing_day("empty.jsonl", b"")
    result = ingest_batch(tmp_path, DAY, progress=False)
    assert (result.records_read, result.raw, result.quarantined) == (0, 0, 0)


def test_unknown_fields_are_kept(tmp_path, landing_day):
    event = make_event(1, new_top_level="x")
    event["properties"]["new_property"] = {"nested": True}
    landing_day("drift.jsonl", line(event) + b"\n")

    ingest_batch(tmp_path, DAY, progress=False)

    [(properties, extra)] = _raw_rows(tmp_path, "properties, record_with_extra_fields")
    assert json.loads(properties)["new_property"] == {"nested": True}
    assert json.loads(extra)["new_top_level"] == "x"


def _compact(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def test_unknown_fields_are_found_in_compact_records_whose_numbers_grow(tmp_path, landing_day):
    """A compact record skips the key scan only when its length proves it has no unknown field.
    1E6 comes back from the parser as 1000000.0, six characters longer, exactly the length of the
    unknown field ,"x":1 here: a length test alone would lose that field."""
    plain = make_event(1, "listing_created")
    grown = make_event(2, "listing_created")
    grown_text = _compact(grown).replace(b'"properties":', b'"x":1,"properties":')
    price = json.dumps(grown["properties"]["price"]).encode()
    grown_text = grown_text.replace(b'"price":' + price, b'"price":1E6')
    assert len(b'"x":1,') == len(b"1000000.0") - len(b"1E6")
    extra = make_event(3, "listing_created", new_top_level=1)
    landing_day("compact.jsonl", b"\n".join([_compact(plain), grown_text, _compact(extra)]) + b"\n")

    result = ingest_batch(tmp_path, DAY, progress=False)

    assert (result.raw, result.quarantined) == (3, 0)
    rows = dict(_raw_rows(tmp_path, "line_number, record_with_extra_fields"))
    assert rows[1] is None
    assert json.loads(rows[2])["x"] == 1
    assert json.loads(rows[3])["new_top_level"] == 1


def test_a_null_inside_properties_does_not_hide_an_unknown_field(tmp_path, landing_day):
    """Compact records: a null user_id is counted from its text, "user_id":null. Here that text
    is inside properties, the record has no user_id, and its unknown field is exactly as long as
    "user_id":null, would be: only the key scan finds it."""
    event = _without(make_event(1), "user_id")
    event["properties"]["user_id"] = None
    text = _compact(event).replace(b'"properties":', b'"k":"12345678","properties":')
    assert len(b'"k":"12345678",') == len(b'"user_id":null,')
    landing_day("compact.jsonl", text + b"\n" + _compact(make_event(2, user_id=None)) + b"\n")

    result = ingest_batch(tmp_path, DAY, progress=False)

    assert (result.raw, result.exact_chunks) == (2, 0)
    rows = dict(_raw_rows(tmp_path, "line_number, record_with_extra_fields"))
    assert json.loads(rows[1])["k"] == "12345678"
    assert rows[2] is None


def test_suspects_the_exact_query_finds_valid_reach_raw(tmp_path, landing_day, monkeypatch):
    """The fast query's suspects are checked again by the exact query, and those it finds valid
    reach raw like the others (here the fast query is made to suspect every record)."""
    records = [line(make_event(n)) for n in range(1, 30)]
    records[5] = line(make_event(6, platform="tv"))
    landing_day("a.jsonl", b"\n".join(records) + b"\n")
    ingest_batch(tmp_path, DAY, progress=False, fast=False)
    expected = _raw_rows(tmp_path)
    checked_records_sql = batch.checked_records_sql
    flag = "case when suspect then 'suspect' end"

    def suspecting_every_record(*args, **kwargs) -> str:
        sql = checked_records_sql(*args, **kwargs)
        if kwargs.get("records") is None:
            return sql
        assert flag in sql
        return sql.replace(flag, "'suspect'")

    monkeypatch.setattr(batch, "checked_records_sql", suspecting_every_record)
    result = ingest_batch(tmp_path, DAY, progress=False)

    assert (result.raw, result.reasons, result.exact_chunks) == (
        28,
        {"invalid_platform:platform": 1},
        0,
    )
    assert _raw_rows(tmp_path) == expected


def test_duplicates_are_kept_in_raw(tmp_path, landing_day):
    landing_day("a.jsonl", line(make_event(1)) + b"\n" + line(make_event(1)) + b"\n")
    landing_day("b.jsonl", line(make_event(1)) + b"\n")
    result = ingest_batch(tmp_path, DAY, progress=False)
    assert result.raw == 3


def test_late_events_land_in_their_own_event_date_partition(tmp_path, landing_day):
    landing_day("a.jsonl", line(make_event(1, occurred_at="2026-10-31T22:00:00-03:00")) + b"\n")
    ingest_batch(tmp_path, DAY, progress=False)
    [(event_date, occurred_at)] = _raw_rows(tmp_path, "event_date, occurred_at::varchar")
    assert str(event_date) == "2026-11-01"
    assert occurred_at == "2026-11-01 01:00:00"


def test_small_chunks_give_the_same_lake_as_one_chunk(tmp_path, landing_day):
    records = [line(make_event(n)) for n in range(1, 400)]
    records[123] = b"{broken"
    landing_day("a.jsonl", b"\n".join(records) + b"\n")
    ingest_batch(tmp_path, DAY, progress=False)
    one_chunk = _raw_rows(tmp_path, "event_id, line_number")
    result = ingest_batch(tmp_path, DAY, chunk_bytes=1000, progress=False)
    assert _raw_rows(tmp_path, "event_id, line_number") == one_chunk
    assert result.reasons == {"malformed_json": 1}


def test_rerun_replaces_the_batch_and_changes_nothing(tmp_path, landing_day):
    landing_day("a.jsonl", b"\n".join(line(make_event(n)) for n in range(1, 20)) + b"\nbad\n")
    ingest_batch(tmp_path, DAY, progress=False)
    promote_batch(tmp_path, DAY)
    lake_dir = tmp_path / "lake"

    def snapshot() -> dict[str, bytes]:
        return {
            str(p.relative_to(lake_dir)): p.read_bytes()
            for p in sorted(lake_dir.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    ingest_batch(tmp_path, DAY, progress=False)
    promote_batch(tmp_path, DAY)
    assert snapshot() == before
    assert not list((lake_dir / "_staging").iterdir())


def test_a_crashed_run_leaves_nothing_visible_and_a_rerun_completes(tmp_path, landing_day):
    landing_day("a.jsonl", line(make_event(1)) + b"\n")
    # What a run killed mid-write leaves behind: a half-written staging folder.
    stale = lake.new_staging_dir(tmp_path / "lake", f"events-{DAY.isoformat()}")
    (stale / "raw" / "event_date=2026-11-02").mkdir(parents=True)
    (stale / "raw" / "event_date=2026-11-02" / "half.parquet").write_bytes(b"PAR1 partial")

    glob = lake.raw_events_glob(tmp_path / "lake")
    assert not list(Path("/").glob(glob.lstrip("/")))  # readers see nothing of it

    ingest_batch(tmp_path, DAY, progress=False)
    promote_batch(tmp_path, DAY)
    assert not stale.exists()
    assert duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchone() == (1,)


def test_accounting_balances_every_file(tmp_path, landing_day):
    landing_day("a.jsonl", line(make_event(1)) + b"\nnope\n\n" + line(make_event(2)))
    landing_day("b.jsonl.gz", b"not gzip at all")
    landing_day("c.jsonl", b"")
    ingest_batch(tmp_path, DAY, progress=False)

    balances = {Path(b.file).name: b for b in file_balances(tmp_path)}

    assert {n: (b.records_read, b.raw, b.quarantined) for n, b in balances.items()} == {
        "a.jsonl": (4, 2, 2),
        "b.jsonl.gz": (1, 0, 1),
        "c.jsonl": (0, 0, 0),
    }
    assert all(b.balanced and b.state == "held" for b in balances.values())


def test_names_that_differ_only_in_punctuation_keep_their_own_records(tmp_path, landing_day):
    landing_day("part.a.jsonl", line(make_event(1)) + b"\n")
    landing_day("part_a.jsonl", line(make_event(2)) + b"\n")
    result = ingest_batch(tmp_path, DAY, progress=False)
    assert result.raw == 2
    assert len(_raw_rows(tmp_path, "event_id")) == 2
