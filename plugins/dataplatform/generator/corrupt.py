"""--corrupt: extra landing files with every kind of bad input, each recorded in corruption.json.

Nothing here touches a clean file or a clean event, so truth.json is the same as without
--corrupt. Injected lines that are accepted are either byte-identical re-deliveries of clean
events or new anonymous session_started events, which change no metric.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dataplatform.generator.delivery import Delivery, Part
from dataplatform.generator.params import GENERATOR_VERSION, WorldParams
from dataplatform.generator.serialize import WrittenFile, gzip_bytes
from dataplatform.generator.strings import uuid4_bytes, uuid_strings
from dataplatform.generator.timeutil import DAY_MS, HOUR_MS, iso_date

OPDB_BROKEN_PATH = "source/marketplace_broken.sqlite"
QUARANTINE, ACCEPT, REJECT_FILE = "quarantine", "accept", "reject_file"
REQUIRED_FIELDS = ("event_id", "event_type", "occurred_at", "anonymous_id", "session_id")


@dataclass
class InjectedFile:
    path: str
    newline: bytes = b"\n"
    bom: bool = False
    gzip: bool = False
    lines: list[bytes] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)

    def add(self, content: bytes, kind: str, expected: str, reason: str, **extra: object) -> None:
        self.lines.append(content)
        case = {"kind": kind, "file": self.path, "line": len(self.lines), "expected": expected}
        self.cases.append(case | {"reason": reason} | extra)

    def payload(self, terminate_last: bool = True) -> bytes:
        body = self.newline.join(self.lines)
        if self.lines and terminate_last:
            body += self.newline
        return (b"\xef\xbb\xbf" if self.bom else b"") + body


class _Source:
    """Clean lines of one landing day to derive injected lines from."""

    def __init__(self, data_dir: Path, part: Part, delivery: Delivery) -> None:
        self.part = part
        raw = (data_dir / part.path).read_bytes().split(b"\n")[:-1]
        events = delivery.line_event[part.start : part.stop]
        usable = ~delivery.skewed[events] & ~delivery.line_duplicate[part.start : part.stop]
        self.lines = [line for line, ok in zip(raw, usable, strict=True) if ok]
        self.line_number = [i + 1 for i, ok in enumerate(usable) if ok]
        self.parsed = [json.loads(line) for line in self.lines]

    def of_type(self, event_type: str, nth: int = 0) -> int:
        matches = [i for i, event in enumerate(self.parsed) if event["event_type"] == event_type]
        return matches[nth % len(matches)]

    def event(self, event_type: str, nth: int = 0) -> dict:
        return json.loads(self.lines[self.of_type(event_type, nth)])

    def duplicate(self, target: InjectedFile, nth: int) -> None:
        index = nth % len(self.lines)
        target.add(
            self.lines[index],
            "duplicate_event",
            ACCEPT,
            "duplicate_event",
            event_id=self.parsed[index]["event_id"],
            duplicate_of={"file": self.part.path, "line": self.line_number[index]},
        )


def _dumps(event: object) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class _Ids:
    def __init__(self, rng: np.random.Generator) -> None:
        self._ids = uuid_strings(uuid4_bytes(rng, 200)).to_pylist()

    def next(self) -> str:
        return self._ids.pop()


def _fresh(source: _Source, ids: _Ids, event_type: str, nth: int = 0) -> dict:
    event = source.event(event_type, nth)
    event["event_id"] = ids.next()
    return event


def _bad_lines(file: InjectedFile, source: _Source, ids: _Ids, day_end_ms: int) -> None:
    """One line per line-level defect, between re-deliveries of clean lines."""
    session = _fresh(source, ids, "session_started")
    file.add(
        _dumps(session)[:-25] + b'"broken": tru, }',
        "malformed_json",
        QUARANTINE,
        "malformed_json",
    )
    source.duplicate(file, 0)
    search = _fresh(source, ids, "search_performed")
    encoded = _dumps(search)
    cut = encoded.index(b'"query":"') + len(b'"query":"')
    file.add(
        encoded[:cut] + b"caf\xe9 \xff\xfe" + encoded[cut:], "non_utf8", QUARANTINE, "invalid_utf8"
    )
    file.add(b"", "blank_line", QUARANTINE, "empty_line")
    file.add(
        b"[" + _dumps(_fresh(source, ids, "listing_viewed")) + b"]",
        "json_array",
        QUARANTINE,
        "not_an_object",
    )
    file.add(b'"session_started"', "json_scalar", QUARANTINE, "not_an_object")
    for name in REQUIRED_FIELDS:
        event = _fresh(source, ids, "listing_viewed", 1)
        removed_id = event["event_id"]
        del event[name]
        extra = {"event_id": removed_id} if name != "event_id" else {}
        file.add(
            _dumps(event),
            "missing_required_field",
            QUARANTINE,
            "missing_field",
            detail=name,
            **extra,
        )
    source.duplicate(file, 1)
    event = _fresh(source, ids, "listing_viewed", 2)
    event["user_id"] = 12345
    file.add(
        _dumps(event),
        "wrong_type",
        QUARANTINE,
        "wrong_type",
        detail="user_id",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "session_started", 1)
    event["properties"] = [event["properties"]]
    file.add(
        _dumps(event),
        "wrong_type",
        QUARANTINE,
        "wrong_type",
        detail="properties",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "search_performed", 1)
    event["properties"]["results_count"] = str(event["properties"]["results_count"])
    file.add(
        _dumps(event),
        "wrong_property_type",
        QUARANTINE,
        "wrong_property_type",
        detail="search_performed.results_count",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "listing_viewed", 3)
    event["event_type"] = "listing_teleported"
    file.add(
        _dumps(event),
        "unknown_event_type",
        QUARANTINE,
        "unknown_event_type",
        detail="event_type",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "listing_viewed", 4)
    event["platform"] = "windows_phone"
    file.add(
        _dumps(event),
        "invalid_platform",
        QUARANTINE,
        "invalid_platform",
        detail="platform",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "search_performed", 2)
    event["occurred_at"] = "2026-13-45T25:61:00Z"
    file.add(
        _dumps(event),
        "unparseable_occurred_at",
        QUARANTINE,
        "invalid_timestamp",
        detail="occurred_at",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "search_performed", 3)
    event["occurred_at"] = event["occurred_at"][:23]
    file.add(
        _dumps(event),
        "occurred_at_without_offset",
        QUARANTINE,
        "invalid_timestamp",
        detail="occurred_at",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "listing_viewed", 5)
    future = np.datetime64(day_end_ms + 3 * DAY_MS + 7 * HOUR_MS, "ms")
    event["occurred_at"] = f"{np.datetime_as_string(future, unit='ms')}Z"
    file.add(
        _dumps(event),
        "future_occurred_at",
        QUARANTINE,
        "future_timestamp",
        detail="occurred_at",
        event_id=event["event_id"],
    )
    event = _fresh(source, ids, "listing_viewed", 6)
    del event["properties"]["listing_id"]
    file.add(
        _dumps(event),
        "missing_property",
        QUARANTINE,
        "missing_property",
        detail="listing_viewed.listing_id",
        event_id=event["event_id"],
    )
    source.duplicate(file, 2)
    # New anonymous session_started events: accepted, and no metric counts them.
    event = _fresh(source, ids, "session_started", 2)
    event.update({"user_id": None, "anonymous_id": ids.next(), "session_id": ids.next()})
    event["client_build"] = "2026.11.3-beta"
    event["properties"]["utm_campaign"] = "black_friday"
    file.add(
        _dumps(event),
        "unknown_fields",
        ACCEPT,
        "unknown_fields_kept",
        event_id=event["event_id"],
        unknown_fields=["client_build", "properties.utm_campaign"],
    )


def _gzip_bad_lines(file: InjectedFile, source: _Source, ids: _Ids) -> None:
    """Line-level defects inside a valid gzip file (line numbers count decompressed lines)."""
    source.duplicate(file, 3)
    event = _fresh(source, ids, "session_started", 3)
    file.add(_dumps(event)[:40], "malformed_json", QUARANTINE, "malformed_json")
    event = _fresh(source, ids, "search_performed", 4)
    file.add(
        _dumps(event).replace(b'"query":"', b'"query":"\xc3\x28'),
        "non_utf8",
        QUARANTINE,
        "invalid_utf8",
    )
    source.duplicate(file, 4)
    event = _fresh(source, ids, "session_started", 4)
    event.update({"user_id": None, "anonymous_id": ids.next(), "session_id": ids.next()})
    event["sdk"] = {"name": "collector-js", "version": "4.2.0"}
    file.add(
        _dumps(event),
        "unknown_fields",
        ACCEPT,
        "unknown_fields_kept",
        event_id=event["event_id"],
        unknown_fields=["sdk"],
    )


def _file_case(kind: str, path: str, expected: str, reason: str) -> dict:
    return {"kind": kind, "file": path, "line": None, "expected": expected, "reason": reason}


def _next_index(files: list[WrittenFile], extra: dict[str, int], date: str) -> int:
    prefix = f"landing/events/dt={date}/part-"
    used = [int(f.path[len(prefix) : len(prefix) + 4]) for f in files if f.path.startswith(prefix)]
    index = max(used, default=-1) + 1 + extra.get(date, 0)
    extra[date] = extra.get(date, 0) + 1
    return index


def _path(date: str, index: int, gz: bool) -> str:
    return f"landing/events/dt={date}/part-{index:04d}.jsonl" + (".gz" if gz else "")


def _broken_database(data_dir: Path, cases: list[dict]) -> None:
    """A copy of the operational DB with a dropped column and a malformed e-mail address."""
    target = data_dir / OPDB_BROKEN_PATH
    shutil.copyfile(data_dir / "source/marketplace.sqlite", target)
    con = sqlite3.connect(target)
    try:
        con.execute("DROP INDEX IF EXISTS ix_listings_updated_at")
        con.execute("ALTER TABLE listings DROP COLUMN price")
        user_id, email = con.execute(
            "SELECT user_id, email FROM users ORDER BY user_id LIMIT 1 OFFSET 41"
        ).fetchone()
        malformed = email.replace("@", " (at) ")
        con.execute("UPDATE users SET email = ? WHERE user_id = ?", (malformed, user_id))
        con.commit()
    finally:
        con.close()
    cases.append(
        {
            "kind": "opdb_missing_column",
            "file": OPDB_BROKEN_PATH,
            "line": None,
            "expected": REJECT_FILE,
            "reason": "missing_column",
            "table": "listings",
            "column": "price",
        }
    )
    cases.append(
        {
            "kind": "opdb_malformed_email",
            "file": OPDB_BROKEN_PATH,
            "line": None,
            "expected": QUARANTINE,
            "reason": "invalid_email",
            "table": "users",
            "key": {"user_id": user_id},
            "value": malformed,
        }
    )


def inject_corruption(
    params: WorldParams,
    data_dir: Path,
    delivery: Delivery,
    files: list[WrittenFile],
    rng: np.random.Generator,
) -> dict:
    ids = _Ids(rng)
    first_day, second_day, last_day = 0, min(1, params.days - 1), params.days - 1
    first_parts = {part.day: part for part in reversed(delivery.parts) if part.index == 0}
    sources = {
        day: _Source(data_dir, first_parts[day], delivery)
        for day in {first_day, second_day, last_day}
    }
    date = {day: iso_date(params.start_day + day) for day in sources}
    extra: dict[str, int] = {}

    def new_file(day: int, gz: bool = False, **options: object) -> InjectedFile:
        return InjectedFile(
            _path(date[day], _next_index(files, extra, date[day]), gz), gzip=gz, **options
        )

    injected: list[InjectedFile] = []
    whole_file_cases: list[dict] = []

    bad = new_file(first_day)
    _bad_lines(bad, sources[first_day], ids, (params.start_day + first_day + 1) * DAY_MS)
    injected.append(bad)

    gz_bad = new_file(second_day, gz=True)
    _gzip_bad_lines(gz_bad, sources[second_day], ids)
    injected.append(gz_bad)

    bom = new_file(first_day, bom=True)
    for nth in range(5, 8):
        sources[first_day].duplicate(bom, nth)
    whole_file_cases.append(_file_case("utf8_bom", bom.path, ACCEPT, "utf8_bom"))
    injected.append(bom)

    crlf = new_file(second_day, newline=b"\r\n")
    for nth in range(8, 11):
        sources[second_day].duplicate(crlf, nth)
    whole_file_cases.append(_file_case("crlf_line_endings", crlf.path, ACCEPT, "crlf_line_endings"))
    injected.append(crlf)

    empty = new_file(first_day)
    whole_file_cases.append(_file_case("empty_file", empty.path, ACCEPT, "empty_file"))
    injected.append(empty)

    truncated = new_file(last_day)
    sources[last_day].duplicate(truncated, 11)
    sources[last_day].duplicate(truncated, 12)
    cut_line = sources[last_day].lines[13 % len(sources[last_day].lines)]
    truncated.add(
        cut_line[: len(cut_line) // 2], "truncated_last_line", QUARANTINE, "truncated_line"
    )
    injected.append(truncated)

    drift = new_file(last_day)
    for nth in range(3):
        event = _fresh(sources[last_day], ids, "listing_viewed", 20 + nth)
        renamed = {
            ("eventType" if key == "event_type" else key): value for key, value in event.items()
        }
        drift.add(
            _dumps(renamed),
            "schema_drift",
            QUARANTINE,
            "missing_field",
            detail="event_type",
            event_id=event["event_id"],
            renamed={"event_type": "eventType"},
        )
    injected.append(drift)

    for file in injected:
        target = data_dir / file.path
        payload = file.payload(terminate_last=file is not truncated)
        target.write_bytes(gzip_bytes(payload) if file.gzip else payload)

    corrupt_gz = new_file(second_day, gz=True)
    # A gzip header followed by a deflate block of the reserved (invalid) type: unreadable
    # from the first byte, so no reader can take part of it.
    garbage = rng.integers(0, 256, size=512, dtype=np.uint8).tobytes()
    (data_dir / corrupt_gz.path).write_bytes(
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x07" + garbage
    )
    whole_file_cases.append(
        _file_case("corrupt_gzip", corrupt_gz.path, REJECT_FILE, "corrupt_file")
    )

    cases = [case for file in injected for case in file.cases] + whole_file_cases
    _broken_database(data_dir, cases)
    line_cases = [c for c in cases if c["line"] is not None]
    file_summaries = [
        {
            "file": file.path,
            "gzip": file.gzip,
            "lines": len(file.lines),
            "accept": sum(1 for c in file.cases if c["expected"] == ACCEPT),
            "quarantine": sum(1 for c in file.cases if c["expected"] == QUARANTINE),
        }
        for file in injected
    ] + [{"file": corrupt_gz.path, "gzip": True, "lines": None, "accept": 0, "quarantine": 0}]
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": params.seed,
        "description": (
            "Bad input injected by --corrupt as extra files next to the clean ones; clean files "
            "and truth.json are unchanged. 'line' is 1-based over the file's decompressed bytes "
            "split on \\n (a BOM belongs to line 1; CRLF files end lines in \\r\\n); null means "
            "the whole file. Accepted lines are re-deliveries of clean events (duplicate_event) "
            "or new anonymous session_started events (unknown_fields_kept) that change no metric."
        ),
        "cases": cases,
        "files": file_summaries,
        "summary": {
            "files": len(file_summaries),
            "lines": sum(f["lines"] or 0 for f in file_summaries),
            "accept": sum(1 for c in line_cases if c["expected"] == ACCEPT),
            "accept_new_events": sum(1 for c in line_cases if c["reason"] == "unknown_fields_kept"),
            "accept_duplicates": sum(1 for c in line_cases if c["reason"] == "duplicate_event"),
            "quarantine": sum(1 for c in line_cases if c["expected"] == QUARANTINE),
            "reject_file": sum(
                1
                for c in cases
                if c["expected"] == REJECT_FILE and c["file"].startswith("landing/")
            ),
        },
    }
