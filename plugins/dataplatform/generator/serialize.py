"""JSON lines for the landing zone, built column-wise, and byte-reproducible file writing."""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataplatform.generator import vocab
from dataplatform.generator.delivery import Delivery, Part
from dataplatform.generator.events import CHANNELS, EVENT_TYPES, EventLog
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sessions import Sessions
from dataplatform.generator.strings import (
    as_bytes,
    decimal_strings,
    int_strings,
    join,
    json_int_or_null,
    json_text,
    pick,
    uuid_strings,
    zero_padded,
)
from dataplatform.generator.timeutil import rfc3339_parts
from dataplatform.generator.users import APP_VERSIONS, Devices, Users

# zlib level 1: compression is the slowest step per byte here, and level 6 would roughly
# double its cost for ~10 % smaller files.
GZIP_LEVEL = 1
MAX_WRITERS = 4


@dataclass(frozen=True)
class WrittenFile:
    path: str
    lines: int
    bytes: int
    gzip: bool


@dataclass
class EventColumns:
    """Everything needed to write any event's line, indexed by canonical event index."""

    event_uuid: np.ndarray
    type_code: np.ndarray
    written_ts: np.ndarray
    session: np.ndarray
    zone: np.ndarray
    utc_style: np.ndarray
    session_fragment: pa.Array
    properties: pa.Array


def session_fragments(
    sessions: Sessions, session_uuid: np.ndarray, users: Users, devices: Devices
) -> pa.Array:
    """The fields a session shares, from user_id up to the opening of properties."""
    known = sessions.user >= 0
    user_json = pc.if_else(
        pa.array(known),
        join('"', users.user_id.take(pa.array(np.maximum(sessions.user, 0))), '"'),
        "null",
    )
    device = sessions.device
    version = devices.app_version[device]
    version_json = pc.if_else(
        pa.array(version >= 0), join('"', pick(APP_VERSIONS, np.maximum(version, 0)), '"'), "null"
    )
    return join(
        ',"user_id":',
        user_json,
        ',"anonymous_id":"',
        uuid_strings(devices.anonymous_id[device]),
        '","session_id":"',
        uuid_strings(session_uuid),
        '","platform":"',
        pick(vocab.PLATFORMS, devices.platform[device]),
        '","app_version":',
        version_json,
        ',"properties":',
    )


def properties_json(
    log: EventLog, draft_uuid: np.ndarray, users: Users, params: WorldParams
) -> pa.Array:
    """The properties object of every event, in canonical order."""
    t = log.tables
    e = params.experiment
    c = {name: table.cols for name, table in t.items()}

    def draft(cols: dict) -> pa.Array:
        return uuid_strings(draft_uuid[cols["draft"]])

    search = c["search_performed"]
    suggested = c["category_suggested"]
    created = c["listing_created"]
    changed = c["listing_category_changed"]
    contact = c["contact_initiated"]
    promo = c["promotion_purchased"]
    by_type = {
        # Few distinct values: each is serialised once and then only gathered.
        "session_started": pick(
            [json.dumps({"referrer": r}, separators=(",", ":")) for r, _ in vocab.REFERRERS],
            c["session_started"]["referrer"],
        ),
        "search_performed": join(
            '{"query":',
            json_text(search["query"]),
            ',"category_id":',
            json_int_or_null(search["category_id"]),
            ',"results_count":',
            int_strings(search["results_count"]),
            "}",
        ),
        "listing_viewed": _by_listing_id(c["listing_viewed"]["listing_id"]),
        "listing_creation_started": join(
            '{"draft_id":"', draft(c["listing_creation_started"]), '"}'
        ),
        "category_suggested": join(
            '{"draft_id":"',
            draft(suggested),
            '","suggested_category_id":',
            int_strings(suggested["suggested_category_id"]),
            ',"model_version":"',
            pick(e.model_versions, suggested["variant"]),
            '","score":0.',
            zero_padded(suggested["score_e4"], 4),
            "}",
        ),
        "listing_created": join(
            '{"listing_id":',
            int_strings(created["listing_id"]),
            ',"draft_id":"',
            draft(created),
            '","category_id":',
            int_strings(created["category_id"]),
            ',"suggested_category_id":',
            json_int_or_null(created["suggested_category_id"]),
            ',"price":',
            decimal_strings(created["price_cents"]),
            ',"currency":"',
            pick(vocab.CURRENCIES, created["currency"]),
            '","title":',
            json_text(created["title"]),
            ',"description":',
            json_text(created["description"]),
            "}",
        ),
        "listing_category_changed": join(
            '{"listing_id":',
            int_strings(changed["listing_id"]),
            ',"old_category_id":',
            int_strings(changed["old_category_id"]),
            ',"new_category_id":',
            int_strings(changed["new_category_id"]),
            "}",
        ),
        "contact_initiated": join(
            '{"listing_id":',
            int_strings(contact["listing_id"]),
            ',"seller_id":"',
            users.user_id.take(pa.array(contact["seller"])),
            '","channel":"',
            pick(CHANNELS, contact["channel"]),
            '"}',
        ),
        "promotion_purchased": join(
            '{"listing_id":',
            int_strings(promo["listing_id"]),
            ',"product":"',
            pick(vocab.PROMOTION_PRODUCTS, promo["product"]),
            '","amount":',
            decimal_strings(promo["amount_cents"]),
            ',"currency":"',
            pick(vocab.CURRENCIES, promo["currency"]),
            '"}',
        ),
        "experiment_exposure": pick(
            [
                json.dumps({"experiment_id": e.experiment_id, "variant": v}, separators=(",", ":"))
                for v in e.variants
            ],
            c["experiment_exposure"]["variant"],
        ),
    }
    chunks = [by_type[name] for name in EVENT_TYPES]
    # One contiguous array: taking rows from a chunked array would concatenate it every time.
    if sum(chunk.nbytes for chunk in chunks) >= 2**31 - 2**20:
        return pa.concat_arrays([chunk.cast(pa.large_string()) for chunk in chunks])
    return pa.concat_arrays([chunk.cast(pa.string()) for chunk in chunks])


def _by_listing_id(listing_id: np.ndarray) -> pa.Array:
    """{"listing_id":N} for each row: built once per listing, then gathered per view."""
    if len(listing_id) == 0:
        return pa.array([], pa.string())
    ids = np.arange(int(listing_id.max()) + 1)
    return join('{"listing_id":', int_strings(ids), "}").take(pa.array(listing_id))


def event_lines(columns: EventColumns, events: np.ndarray) -> pa.Array:
    """The landing lines (each ending in \\n) of the given canonical events, in that order."""
    index = pa.array(events)
    return join(
        '{"event_id":"',
        uuid_strings(columns.event_uuid[events]),
        '","event_type":"',
        pick(EVENT_TYPES, columns.type_code[events]),
        '","occurred_at":"',
        *rfc3339_parts(columns.written_ts[events], columns.zone[events], columns.utc_style[events]),
        '"',
        columns.session_fragment.take(pa.array(columns.session[events])),
        columns.properties.take(index).cast(pa.string()),
        "}\n",
    )


def gzip_bytes(payload: memoryview | bytes) -> bytes:
    """A gzip member with a fixed header (no name, mtime 0) so output is byte-reproducible."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(payload) + compressor.flush()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"
    trailer = struct.pack("<II", zlib.crc32(payload) & 0xFFFFFFFF, len(payload) & 0xFFFFFFFF)
    return header + body + trailer


def _build_and_write(
    data_dir: Path, part: Part, columns: EventColumns, events: np.ndarray
) -> WrittenFile:
    lines = event_lines(columns, events)
    payload = as_bytes(lines)
    data = gzip_bytes(payload) if part.gzip else payload
    with open(data_dir / part.path, "wb") as handle:
        handle.write(data)
    return WrittenFile(part.path, len(events), len(data), part.gzip)


def write_landing(
    data_dir: Path,
    delivery: Delivery,
    columns: EventColumns,
    on_day_done: Callable[[str, int, int], None] | None = None,
) -> list[WrittenFile]:
    """Build and write the part files, several at a time (Arrow, numpy and zlib release the GIL).

    Returns the files sorted by path; their content does not depend on the thread timing.
    """
    written: list[WrittenFile] = []
    parts_left = Counter(part.day for part in delivery.parts)
    lines_of_day: Counter[int] = Counter()
    workers = max(1, min(MAX_WRITERS, os.cpu_count() or 1))
    in_flight: dict[Future[WrittenFile], Part] = {}

    def collect_one() -> None:
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            part = in_flight.pop(future)
            written.append(future.result())
            lines_of_day[part.day] += written[-1].lines
            parts_left[part.day] -= 1
            if parts_left[part.day] == 0 and on_day_done:
                n_files = sum(1 for p in delivery.parts if p.day == part.day)
                on_day_done(part.date, lines_of_day[part.day], n_files)

    # gzip parts first: compressing is the slowest step per byte, so it should overlap with
    # building the plain parts rather than trail behind them.
    schedule = sorted(delivery.parts, key=lambda part: (not part.gzip, part.day, part.index))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="landing") as pool:
        for part in schedule:
            (data_dir / part.path).parent.mkdir(parents=True, exist_ok=True)
            events = delivery.line_event[part.start : part.stop]
            in_flight[pool.submit(_build_and_write, data_dir, part, columns, events)] = part
            # Bounded so that memory stays ~50 MB per part in flight.
            while len(in_flight) > workers:
                collect_one()
        while in_flight:
            collect_one()
    return sorted(written, key=lambda f: f.path)
