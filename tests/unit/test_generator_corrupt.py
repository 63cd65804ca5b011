"""--corrupt: every recorded injection is really in the files, and the clean world is untouched."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

REQUIRED = ("event_id", "event_type", "occurred_at", "anonymous_id", "session_id")
EVENT_TYPES = (
    "session_started",
    "search_performed",
    "listing_viewed",
    "listing_creation_started",
    "category_suggested",
    "listing_created",
    "listing_category_changed",
    "contact_initiated",
    "promotion_purchased",
    "experiment_exposure",
)
EXPECTED_KINDS = {
    "malformed_json",
    "truncated_last_line",
    "non_utf8",
    "utf8_bom",
    "crlf_line_endings",
    "missing_required_field",
    "wrong_type",
    "wrong_property_type",
    "unknown_event_type",
    "invalid_platform",
    "unparseable_occurred_at",
    "occurred_at_without_offset",
    "future_occurred_at",
    "missing_property",
    "unknown_fields",
    "duplicate_event",
    "corrupt_gzip",
    "empty_file",
    "blank_line",
    "json_array",
    "json_scalar",
    "schema_drift",
    "opdb_missing_column",
    "opdb_malformed_email",
}


@pytest.fixture(scope="module")
def corruption(generator_corrupt_world) -> dict:
    return json.loads(
        (generator_corrupt_world / "world/corruption.json").read_text(encoding="utf-8")
    )


def _lines(root: Path, relative: str, reader) -> list[bytes]:
    return reader(root / relative).split(b"\n")


def _landing_date(relative: str) -> date:
    return date.fromisoformat(relative.split("dt=")[1][:10])


def test_every_kind_of_bad_input_is_injected(corruption):
    assert {case["kind"] for case in corruption["cases"]} == EXPECTED_KINDS
    missing = {c["detail"] for c in corruption["cases"] if c["kind"] == "missing_required_field"}
    assert missing == set(REQUIRED)
    assert {c["detail"] for c in corruption["cases"] if c["reason"] == "wrong_type"} == {
        "user_id",
        "properties",
    }
    assert 20 <= len(corruption["cases"]) <= 80  # tens of lines, not thousands


def test_each_line_case_is_at_its_file_and_line(
    generator_corrupt_world, corruption, generator_reader
):
    checked = 0
    for case in corruption["cases"]:
        if case["line"] is None or not case["file"].startswith("landing/"):
            continue
        lines = _lines(generator_corrupt_world, case["file"], generator_reader)
        raw = lines[case["line"] - 1].removeprefix(b"\xef\xbb\xbf").removesuffix(b"\r")
        reason = case["reason"]
        if reason == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            checked += 1
            continue
        text = raw.decode("utf-8")
        if reason == "empty_line":
            assert text == ""
        elif reason in ("malformed_json", "truncated_line"):
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
            if reason == "truncated_line":
                assert case["line"] == len(lines)  # the last line, with no newline after it
        elif reason == "not_an_object":
            assert not isinstance(json.loads(text), dict)
        else:
            _check_parsed(case, json.loads(text), generator_corrupt_world, generator_reader)
        checked += 1
    assert checked == corruption["summary"]["lines"]


def _check_parsed(case: dict, event: dict, root: Path, reader) -> None:
    reason, detail = case["reason"], case.get("detail")
    if "event_id" in case:
        assert event.get("event_id") == case["event_id"]
    if reason == "missing_field":
        assert detail not in event
        if case["kind"] == "schema_drift":
            assert "eventType" in event
    elif reason == "wrong_type":
        assert not isinstance(event[detail], str if detail == "user_id" else dict)
        assert event[detail] is not None
    elif reason == "wrong_property_type":
        event_type, name = detail.split(".")
        assert event["event_type"] == event_type and isinstance(event["properties"][name], str)
    elif reason == "unknown_event_type":
        assert event["event_type"] not in EVENT_TYPES
    elif reason == "invalid_platform":
        assert event["platform"] not in ("web", "ios", "android")
    elif reason == "invalid_timestamp":
        try:
            parsed = datetime.fromisoformat(event["occurred_at"])
        except ValueError:
            parsed = None
        assert parsed is None or parsed.tzinfo is None
    elif reason == "future_timestamp":
        day_end = datetime.combine(
            _landing_date(case["file"]) + timedelta(days=1), datetime.min.time(), UTC
        )
        assert datetime.fromisoformat(event["occurred_at"]) > day_end + timedelta(hours=1)
    elif reason == "missing_property":
        event_type, name = detail.split(".")
        assert event["event_type"] == event_type and name not in event["properties"]
    elif reason == "duplicate_event":
        original = _lines(root, case["duplicate_of"]["file"], reader)[
            case["duplicate_of"]["line"] - 1
        ]
        assert json.loads(original) == event
        assert case["expected"] == "accept"
    elif reason == "unknown_fields_kept":
        assert case["expected"] == "accept" and event["user_id"] is None
        assert event["event_type"] == "session_started"
        for name in case["unknown_fields"]:
            container = event["properties"] if name.startswith("properties.") else event
            assert name.removeprefix("properties.") in container
    else:
        pytest.fail(f"unchecked reason {reason}")


def test_whole_file_cases(generator_corrupt_world, corruption, generator_reader):
    by_kind = {c["kind"]: c for c in corruption["cases"] if c["line"] is None}
    root = generator_corrupt_world
    assert (root / by_kind["utf8_bom"]["file"]).read_bytes().startswith(b"\xef\xbb\xbf")
    crlf = (root / by_kind["crlf_line_endings"]["file"]).read_bytes()
    assert crlf.endswith(b"\r\n") and crlf.count(b"\n") == crlf.count(b"\r\n") > 0
    assert (root / by_kind["empty_file"]["file"]).read_bytes() == b""
    corrupt = root / by_kind["corrupt_gzip"]["file"]
    assert corrupt.read_bytes()[:2] == b"\x1f\x8b"
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(corrupt.read_bytes())
    assert by_kind["corrupt_gzip"]["expected"] == "reject_file"
    truncated = next(c for c in corruption["cases"] if c["kind"] == "truncated_last_line")
    assert not (root / truncated["file"]).read_bytes().endswith(b"\n")


def test_every_line_of_an_injected_file_is_accounted_for(
    generator_corrupt_world, corruption, generator_reader
):
    line_cases: dict[str, set[int]] = {}
    for case in corruption["cases"]:
        if case["line"] is not None:
            line_cases.setdefault(case["file"], set()).add(case["line"])
    for entry in corruption["files"]:
        if entry["lines"] is None:
            continue
        payload = generator_reader(generator_corrupt_world / entry["file"])
        pieces = payload.split(b"\n")
        count = len(pieces) - 1 + (pieces[-1] != b"")
        assert count == entry["lines"] == len(line_cases.get(entry["file"], set()))
        assert line_cases.get(entry["file"], set()) == set(range(1, count + 1))


def test_clean_world_is_untouched(generator_world, generator_corrupt_world, corruption):
    truth = (generator_world / "world/truth.json").read_bytes()
    assert (generator_corrupt_world / "world/truth.json").read_bytes() == truth
    files = json.loads(truth)["landing"]["files"]
    for entry in files:
        clean = (generator_world / entry["path"]).read_bytes()
        assert (generator_corrupt_world / entry["path"]).read_bytes() == clean
    injected = {entry["file"] for entry in corruption["files"]}
    assert injected.isdisjoint(entry["path"] for entry in files)
    landing = {
        str(p.relative_to(generator_corrupt_world))
        for p in (generator_corrupt_world / "landing").rglob("*")
        if p.is_file()
    }
    assert landing == injected | {entry["path"] for entry in files}


def test_clean_and_accepted_lines_validate(
    generator_corrupt_lines,
    corruption,
    generator_corrupt_world,
    generator_reader,
    generator_event_schema,
):
    validator = jsonschema.Draft202012Validator(generator_event_schema)
    # Every clean line is byte-identical to the clean world's (test above), where each one is
    # validated; here one line per file and event type keeps this test fast.
    sample = {}
    for line in generator_corrupt_lines:
        sample.setdefault((line.file, line.event["event_type"]), line)
    assert len(sample) > 20
    assert all(validator.is_valid(line.event) for line in sample.values() if not line.skewed)
    for case in corruption["cases"]:
        if case["line"] is not None and case["expected"] == "accept":
            raw = _lines(generator_corrupt_world, case["file"], generator_reader)[case["line"] - 1]
            event = json.loads(raw.removeprefix(b"\xef\xbb\xbf").removesuffix(b"\r"))
            assert validator.is_valid(event), case
        elif case["line"] is not None and case["kind"] != "unknown_fields":
            raw = _lines(generator_corrupt_world, case["file"], generator_reader)[case["line"] - 1]
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if case["reason"] != "future_timestamp":  # valid to the schema, not to the contract
                assert not validator.is_valid(event), case


def test_broken_operational_db(generator_corrupt_world, corruption):
    con = sqlite3.connect(generator_corrupt_world / "source/marketplace_broken.sqlite")
    try:
        columns = [row[1] for row in con.execute("PRAGMA table_info(listings)")]
        email_case = next(c for c in corruption["cases"] if c["kind"] == "opdb_malformed_email")
        (email,) = con.execute(
            "SELECT email FROM users WHERE user_id = ?", (email_case["key"]["user_id"],)
        ).fetchone()
    finally:
        con.close()
    assert "price" not in columns and "listing_id" in columns
    assert email == email_case["value"] and "@" not in email
    clean = sqlite3.connect(generator_corrupt_world / "source/marketplace.sqlite")
    try:
        assert "price" in [row[1] for row in clean.execute("PRAGMA table_info(listings)")]
    finally:
        clean.close()
