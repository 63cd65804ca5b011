"""Generated data honours the event contract and agrees with the operational database."""

from __future__ import annotations

import gzip
import hashlib
import re
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
OPDB_COLUMNS = {
    "users": [
        ("user_id", "TEXT", 1),
        ("email", "TEXT", 0),
        ("phone", "TEXT", 0),
        ("full_name", "TEXT", 0),
        ("country", "TEXT", 0),
        ("signup_at", "TEXT", 0),
        ("is_seller", "BOOLEAN", 0),
        ("updated_at", "TEXT", 0),
    ],
    "categories": [("category_id", "INTEGER", 1), ("parent_id", "INTEGER", 0), ("name", "TEXT", 0)],
    "listings": [
        ("listing_id", "INTEGER", 1),
        ("seller_id", "TEXT", 0),
        ("category_id", "INTEGER", 0),
        ("title", "TEXT", 0),
        ("description", "TEXT", 0),
        ("price", "NUMERIC", 0),
        ("currency", "TEXT", 0),
        ("status", "TEXT", 0),
        ("created_at", "TEXT", 0),
        ("updated_at", "TEXT", 0),
    ],
}


@pytest.fixture(scope="module")
def opdb(generator_world):
    con = sqlite3.connect(generator_world / "source/marketplace.sqlite")
    yield con
    con.close()


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_every_clean_line_validates_against_the_schema(generator_lines, generator_event_schema):
    validator = jsonschema.Draft202012Validator(generator_event_schema)
    errors = [
        (line.file, line.number, error.message)
        for line in generator_lines
        for error in validator.iter_errors(line.event)
    ]
    assert errors == []
    assert {line.event["event_type"] for line in generator_lines} == set(
        generator_event_schema["properties"]["event_type"]["enum"]
    )


def test_the_schema_rejects_what_the_contract_forbids(generator_lines, generator_event_schema):
    validator = jsonschema.Draft202012Validator(generator_event_schema)
    search = next(
        line.event for line in generator_lines if line.event["event_type"] == "search_performed"
    )
    broken = [
        {k: v for k, v in search.items() if k != "session_id"},
        search | {"platform": "tv"},
        search | {"occurred_at": "2026-11-01T10:00:00"},
        search | {"user_id": 42},
        search | {"properties": search["properties"] | {"results_count": "3"}},
        search | {"event_type": "listing_viewed"},  # listing_viewed needs listing_id
    ]
    assert [validator.is_valid(event) for event in broken] == [False] * len(broken)
    assert validator.is_valid(search | {"extra": 1, "properties": search["properties"] | {"x": 1}})


def test_clock_skew_is_the_only_violation_and_is_counted(generator_lines, generator_truth):
    skewed = Counter(line.dt.isoformat() for line in generator_lines if line.skewed)
    truth = {day["dt"]: day["skewed_lines"] for day in generator_truth["landing"]["days"]}
    assert dict(skewed) == truth and all(count >= 1 for count in truth.values())
    for line in generator_lines:
        day_start = datetime.combine(line.dt, datetime.min.time(), UTC)
        # RFC 3339 with an offset and milliseconds, and never more than 3 days late.
        assert re.fullmatch(r".+T.+\.\d{3}(Z|[+-]\d{2}:\d{2})", line.event["occurred_at"])
        assert line.occurred >= day_start - timedelta(days=3)
        assert line.skewed or line.occurred < day_start + timedelta(days=1, hours=1)


def test_timestamps_mostly_utc_some_local(generator_lines):
    suffixes = Counter(line.event["occurred_at"][23:] for line in generator_lines)
    local = sum(n for suffix, n in suffixes.items() if suffix not in ("Z", "+00:00"))
    assert suffixes["Z"] > 0 and suffixes["+00:00"] > 0 and suffixes["+01:00"] > 0
    assert 0.04 < local / len(generator_lines) < 0.2


def test_ids_and_re_deliveries(generator_lines, generator_truth):
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    first_line: dict[str, bytes] = {}
    duplicates = 0
    for line in generator_lines:
        assert uuid.match(line.event["event_id"])
        previous = first_line.setdefault(line.event["event_id"], line.raw)
        if previous is not line.raw:
            assert previous == line.raw  # a re-delivery is the identical line
            duplicates += 1
    assert duplicates == generator_truth["landing"]["totals"]["duplicate_lines"] > 0


def test_landing_files_are_utf8_newline_terminated_and_reproducible_gzip(
    generator_world, generator_truth
):
    files = generator_truth["landing"]["files"]
    assert any(f["gzip"] for f in files) and any(not f["gzip"] for f in files)
    for entry in files:
        raw = (generator_world / entry["path"]).read_bytes()
        if entry["gzip"]:
            assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0"  # mtime 0
            raw = gzip.decompress(raw)
        raw.decode("utf-8")
        assert raw.endswith(b"\n") and b"\r" not in raw
        assert raw.count(b"\n") == entry["lines"]


def test_sessions_start_with_session_started(generator_lines):
    started: dict[str, datetime] = {}
    for line in generator_lines:
        if line.event["event_type"] == "session_started" and not line.skewed:
            started[line.event["session_id"]] = line.occurred
    sessions = {line.event["session_id"] for line in generator_lines}
    skewed_starts = {
        line.event["session_id"]
        for line in generator_lines
        if line.skewed and line.event["event_type"] == "session_started"
    }
    assert sessions == set(started) | skewed_starts
    for line in generator_lines:
        if not line.skewed and line.event["session_id"] in started:
            assert line.occurred >= started[line.event["session_id"]]


def test_who_does_what(generator_lines):
    device_owner: dict[str, set] = defaultdict(set)
    sessions_by_user: dict[str, set] = defaultdict(set)
    anonymous_sessions = 0
    for line in generator_lines:
        event = line.event
        if event["user_id"] is None:
            anonymous_sessions += event["event_type"] == "session_started"
            assert event["event_type"] in {"session_started", "search_performed", "listing_viewed"}
        else:
            device_owner[event["anonymous_id"]].add(event["user_id"])
            sessions_by_user[event["user_id"]].add(event["session_id"])
        assert (event["app_version"] is None) == (event["platform"] == "web")
    # A device belongs to one user; logged-in users keep their devices across sessions.
    assert all(len(owners) == 1 for owners in device_owner.values())
    assert anonymous_sessions > 0
    assert max(len(s) for s in sessions_by_user.values()) > 1


def test_experiment_assignment_is_a_hash_of_the_user(generator_lines):
    exposures = {
        line.event["event_id"]: line.event
        for line in generator_lines
        if line.event["event_type"] == "experiment_exposure"
    }
    # Exposed once: at the seller's first listing creation in the world.
    assert max(Counter(e["user_id"] for e in exposures.values()).values()) == 1
    for event in exposures.values():
        digest = hashlib.sha256(f"cat_suggest_v2:{event['user_id']}".encode()).digest()
        parity = int.from_bytes(digest[:8], "big") % 2
        assert event["properties"]["variant"] == ("control", "treatment")[parity]
    variants = Counter(e["properties"]["variant"] for e in exposures.values())
    assert 0.4 < variants["treatment"] / sum(variants.values()) < 0.6


def test_operational_db_has_exactly_the_spec_columns(opdb):
    for table, columns in OPDB_COLUMNS.items():
        info = opdb.execute(f"PRAGMA table_info({table})").fetchall()
        assert [(name, kind, pk) for _, name, kind, _, _, pk in info] == columns
    tables = {row[0] for row in opdb.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set(OPDB_COLUMNS)


def test_operational_db_values(opdb):
    for signup, updated, email, seller in opdb.execute(
        "SELECT signup_at, updated_at, email, is_seller FROM users"
    ):
        assert ISO_UTC.match(signup) and ISO_UTC.match(updated) and updated >= signup
        assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", email) and seller in (0, 1)
    leaves = {
        cid
        for (cid,) in opdb.execute("SELECT category_id FROM categories WHERE parent_id IS NOT NULL")
    }
    parents = opdb.execute("SELECT count(*) FROM categories WHERE parent_id IS NULL").fetchone()[0]
    assert parents >= 5 and len(leaves) >= 25
    for category, created, updated, price, currency in opdb.execute(
        "SELECT category_id, created_at, updated_at, price, currency FROM listings"
    ):
        assert category in leaves and ISO_UTC.match(created) and updated >= created
        assert price >= 0 and currency in ("PLN", "EUR")
    sellers = opdb.execute(
        "SELECT count(*) FROM listings JOIN users ON users.user_id = seller_id WHERE is_seller"
    ).fetchone()[0]
    assert sellers == opdb.execute("SELECT count(*) FROM listings").fetchone()[0]


def test_events_agree_with_the_operational_db(generator_lines, opdb):
    users = dict(opdb.execute("SELECT user_id, signup_at FROM users").fetchall())
    listings = {
        row[0]: row[1:]
        for row in opdb.execute(
            "SELECT listing_id, seller_id, category_id, created_at, updated_at FROM listings"
        )
    }
    final_category: dict[int, int] = {}
    for line in generator_lines:
        event, p = line.event, line.event["properties"]
        if event["user_id"] is not None:
            assert event["user_id"] in users
        if "listing_id" in p:
            assert p["listing_id"] in listings
        if event["event_type"] == "listing_created":
            seller, category, created, _ = listings[p["listing_id"]]
            assert seller == event["user_id"]
            if not line.skewed:
                assert created == _utc_text(line.occurred)
            final_category.setdefault(p["listing_id"], p["category_id"])
        if event["event_type"] in ("contact_initiated", "promotion_purchased"):
            seller = p.get("seller_id", event["user_id"])
            assert listings[p["listing_id"]][0] == seller
            assert event["user_id"] is not None
        if event["event_type"] == "contact_initiated":
            assert event["user_id"] != p["seller_id"]
    # A listing is moved at most once (from the wrong category to the right one); the database
    # holds the state at the end of the world.
    for line in generator_lines:
        if line.event["event_type"] == "listing_category_changed":
            p = line.event["properties"]
            assert final_category[p["listing_id"]] == p["old_category_id"]
            final_category[p["listing_id"]] = p["new_category_id"]
    assert final_category
    for listing_id, category in final_category.items():
        assert listings[listing_id][1] == category
    assert len(listings) > len(final_category)  # older stock exists too
