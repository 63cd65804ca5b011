"""Time arithmetic on int64 epoch milliseconds, and vectorised RFC 3339 formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from dataplatform.generator.strings import fixed_width, join, pick

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# Client clock styles. Zone 0 clients send UTC ("Z" from browsers, "+00:00" from the apps);
# the others send local wall time with the offset in force at that instant (EU DST rules).
ZONE_UTC, ZONE_CET, ZONE_WET, ZONE_EET = 0, 1, 2, 3
ZONE_BASE_MINUTES = np.array([0, 60, 0, 120], dtype=np.int64)
OFFSET_SUFFIXES = ("Z", "+00:00", "+01:00", "+02:00", "+03:00")


def day_to_ms(day_number: int) -> int:
    return int(day_number) * DAY_MS


def date_from_day(day_number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day_number))


def iso_date(day_number: int) -> str:
    return date_from_day(day_number).isoformat()


def _digits(values: range, width: int) -> np.ndarray:
    return np.array([list(f"{v:0{width}d}".encode()) for v in values], dtype=np.uint8)


# Lookup tables: formatting becomes three row gathers per timestamp instead of digit arithmetic.
_TIME_OF_DAY = np.array(
    [list(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}".encode()) for s in range(86_400)],
    dtype=np.uint8,
)
_MILLIS = _digits(range(1_000), 3)


def format_wall_time(ms: np.ndarray) -> pa.Array:
    """'YYYY-MM-DDTHH:MM:SS.mmm' for each epoch-millisecond value (no offset suffix)."""
    ms = np.asarray(ms, dtype=np.int64)
    out = np.empty((len(ms), 23), dtype=np.uint8)
    if len(ms):
        days = np.floor_divide(ms, DAY_MS)
        first = int(days.min())
        dates = np.array(
            [list(iso_date(d).encode()) for d in range(first, int(days.max()) + 1)], dtype=np.uint8
        )
        out[:, 0:10] = dates[days - first]
        rem = ms - days * DAY_MS
        out[:, 10] = ord("T")
        out[:, 11:19] = _TIME_OF_DAY[rem // SECOND_MS]
        out[:, 19] = ord(".")
        out[:, 20:23] = _MILLIS[rem % SECOND_MS]
    return fixed_width(out)


def format_utc(ms: np.ndarray) -> pa.Array:
    """ISO-8601 UTC text with a 'Z' suffix; fixed width, so text order is time order."""
    return join(format_wall_time(ms), "Z")


def _eu_dst_windows(first_year: int, last_year: int) -> list[tuple[int, int]]:
    windows = []
    for year in range(first_year, last_year + 1):
        march_end = datetime(year, 3, 31, 1, tzinfo=UTC)
        october_end = datetime(year, 10, 31, 1, tzinfo=UTC)
        # EU summer time: last Sunday of March to last Sunday of October, both at 01:00 UTC.
        start = march_end - timedelta(days=(march_end.weekday() + 1) % 7)
        end = october_end - timedelta(days=(october_end.weekday() + 1) % 7)
        windows.append((int(start.timestamp() * 1000), int(end.timestamp() * 1000)))
    return windows


def utc_offset_minutes(ms: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """The client's UTC offset at each instant for its zone (0 for UTC clients)."""
    ms = np.asarray(ms, dtype=np.int64)
    offset = ZONE_BASE_MINUTES[zone]
    if len(ms) == 0:
        return offset
    first = datetime.fromtimestamp(int(ms.min()) / 1000, UTC).year
    last = datetime.fromtimestamp(int(ms.max()) / 1000, UTC).year
    dst = np.zeros(len(ms), dtype=bool)
    for start, end in _eu_dst_windows(first, last):
        dst |= (ms >= start) & (ms < end)
    return offset + np.where((zone != ZONE_UTC) & dst, 60, 0)


def rfc3339_parts(
    ms: np.ndarray, zone: np.ndarray, utc_style: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """RFC 3339 with milliseconds and an offset, as the client would have written it, in two
    parts (wall time, offset suffix) so that callers can join them into a larger string.

    utc_style picks "Z" (0) or "+00:00" (1) for UTC clients; local clients always write a
    numeric offset. The instant is the same either way.
    """
    offset = utc_offset_minutes(ms, zone)
    suffix_code = np.where(zone == ZONE_UTC, utc_style, 1 + offset // 60)
    return format_wall_time(ms + offset * MINUTE_MS), pick(OFFSET_SUFFIXES, suffix_code)


def format_rfc3339(ms: np.ndarray, zone: np.ndarray, utc_style: np.ndarray) -> pa.Array:
    return join(*rfc3339_parts(ms, zone, utc_style))
