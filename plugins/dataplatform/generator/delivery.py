"""How the collector delivers events: landing day, lateness, re-deliveries, clock skew, files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataplatform.generator.events import EventLog
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sampling import categorical
from dataplatform.generator.timeutil import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, iso_date

LINES_PER_PART = 125_000
MIN_PARTS_PER_DAY = 4
# part-0001, part-0033, part-0065, ... are gzip-compressed, the rest plain. zlib is the slowest
# step per byte, so at benchmark volumes only a few parts are compressed.
GZIP_EVERY = 32
_LINE_BITS = 28  # line numbers in the delivery sort key: up to 268 M lines


@dataclass(frozen=True)
class Part:
    day: int  # world day index of the landing folder
    index: int
    start: int  # line range in Delivery order
    stop: int
    gzip: bool
    date: str

    @property
    def path(self) -> str:
        """Path relative to DATA_DIR."""
        suffix = ".jsonl.gz" if self.gzip else ".jsonl"
        return f"landing/events/dt={self.date}/part-{self.index:04d}{suffix}"


@dataclass
class Delivery:
    """Every landing line in file order (day, part, line) and what it is."""

    line_event: np.ndarray  # canonical event index of each line
    line_day: np.ndarray
    line_duplicate: np.ndarray  # a re-delivery of an event already written on an earlier line
    line_late: np.ndarray  # valid, and its landing day is after its UTC date
    skewed: np.ndarray  # per event: written with a future occurred_at (invalid by contract)
    written_ts: np.ndarray  # per event: the instant its occurred_at text says
    parts: list[Part]


def _lateness(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> np.ndarray:
    return 1 + categorical(rng, shares, n)


def plan_delivery(params: WorldParams, log: EventLog, rng: np.random.Generator) -> Delivery:
    b = params.behaviour
    n = log.n
    last = params.days - 1
    world_start = params.start_day * DAY_MS
    occurred_day = (log.ts // DAY_MS - params.start_day).astype(np.int16)

    landing = occurred_day.copy()
    late = np.flatnonzero(rng.random(n) < b.late_share)
    # Clamped: a late event never lands after the world's last day.
    landing[late] = np.minimum(
        occurred_day[late] + _lateness(rng, len(late), b.late_days_shares), last
    )
    # Arrival: milliseconds since the world start, always inside the landing day.
    day_end = (landing.astype(np.int64) + 1) * DAY_MS - 1
    arrival = np.minimum(log.ts - world_start + rng.integers(0, 90 * SECOND_MS, size=n), day_end)
    arrived_late = np.flatnonzero(landing != occurred_day)
    arrival[arrived_late] = day_end[arrived_late] - rng.integers(0, DAY_MS, size=len(arrived_late))
    del day_end, late, arrived_late

    # Clock skew: at least one event per landing day claims to happen in the future.
    skewed = np.zeros(n, dtype=bool)
    for day in range(params.days):
        candidates = np.flatnonzero(landing == day)
        if len(candidates):
            k = max(1, round(len(candidates) * b.skew_share))
            skewed[rng.choice(candidates, size=k, replace=False)] = True
    skewed_events = np.flatnonzero(skewed)
    written_ts = log.ts.copy()
    written_ts[skewed_events] = (
        world_start
        + (landing[skewed_events].astype(np.int64) + 1) * DAY_MS
        + HOUR_MS
        + rng.integers(MINUTE_MS, 36 * HOUR_MS, size=len(skewed_events))
    )

    duplicated = ~skewed & (rng.random(n) < b.duplicate_share)
    if not duplicated.any() and (~skewed).any():
        duplicated[rng.choice(np.flatnonzero(~skewed))] = True
    dup = np.flatnonzero(duplicated)
    del duplicated
    shift = categorical(rng, [0.6, 0.3, 0.1], len(dup)).astype(np.int16)
    dup_landing = np.maximum(
        landing[dup], np.minimum(landing[dup] + shift, np.minimum(last, occurred_day[dup] + 3))
    ).astype(np.int16)
    dup_day_end = (dup_landing.astype(np.int64) + 1) * DAY_MS - 1
    dup_arrival = np.where(
        dup_landing == landing[dup],
        np.minimum(
            arrival[dup] + rng.integers(SECOND_MS, 10 * MINUTE_MS, size=len(dup)), dup_day_end
        ),
        dup_day_end - rng.integers(0, DAY_MS, size=len(dup)),
    )

    # Order lines by arrival (which also orders by landing day). The line number in the low
    # bits makes every key unique, so the order does not depend on the sort algorithm.
    n_lines = n + len(dup)
    if n_lines >= 2**_LINE_BITS or params.days * DAY_MS >= 2 ** (63 - _LINE_BITS):
        raise ValueError("world too large for the delivery sort key")
    key = np.concatenate([arrival, dup_arrival]) << _LINE_BITS
    key |= np.arange(n_lines, dtype=np.int64)
    key.sort()
    order = key & ((1 << _LINE_BITS) - 1)
    del key, arrival, dup_arrival
    line_event = np.where(order < n, order, dup[np.maximum(order - n, 0)])
    line_day = np.concatenate([landing, dup_landing])[order]
    # Of the two copies of a re-delivered event, the one written later is the duplicate.
    position = np.empty_like(order)
    position[order] = np.arange(n_lines)
    line_duplicate = np.zeros(n_lines, dtype=bool)
    line_duplicate[np.maximum(position[dup], position[n:])] = True
    del order, position

    line_late = ~skewed[line_event] & (line_day > occurred_day[line_event])
    return Delivery(
        line_event=line_event,
        line_day=line_day,
        line_duplicate=line_duplicate,
        line_late=line_late,
        skewed=skewed,
        written_ts=written_ts,
        parts=_split_into_parts(params, line_day),
    )


def _split_into_parts(params: WorldParams, line_day: np.ndarray) -> list[Part]:
    parts = []
    bounds = np.searchsorted(line_day, np.arange(params.days + 1))
    for day in range(params.days):
        start, stop = int(bounds[day]), int(bounds[day + 1])
        count = stop - start
        n_parts = min(max(MIN_PARTS_PER_DAY, -(-count // LINES_PER_PART)), max(count, 1))
        edges = start + (np.arange(n_parts + 1) * count) // n_parts
        date = iso_date(params.start_day + day)
        for index in range(n_parts):
            parts.append(
                Part(
                    day,
                    index,
                    int(edges[index]),
                    int(edges[index + 1]),
                    index % GZIP_EVERY == 1,
                    date,
                )
            )
    return parts
