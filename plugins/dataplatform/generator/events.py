"""Event types and the columnar container every simulation step fills."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

EVENT_TYPES: tuple[str, ...] = (
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
EVENT_CODE = {name: code for code, name in enumerate(EVENT_TYPES)}
CHANNELS: tuple[str, ...] = ("chat", "phone_reveal")

Column = np.ndarray | pa.Array


@dataclass
class EventTable:
    """Events of one type: true instant (epoch ms), owning session and type-specific columns."""

    ts: np.ndarray
    session: np.ndarray
    cols: dict[str, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: np.ndarray) -> EventTable:
        arrow_index = pa.array(index)
        return EventTable(
            ts=self.ts[index],
            session=self.session[index],
            cols={
                name: col.take(arrow_index) if isinstance(col, pa.Array) else col[index]
                for name, col in self.cols.items()
            },
        )

    def keep(self, mask: np.ndarray) -> EventTable:
        return self if mask.all() else self.take(np.flatnonzero(mask))


@dataclass
class EventLog:
    """All generated events, one table per type, in EVENT_TYPES order ("canonical order").

    The canonical index of an event is its row in the concatenation of the tables; it is the
    generator's internal identity of the event (the event_id is derived from it).
    """

    tables: dict[str, EventTable]

    def __post_init__(self) -> None:
        self.tables = {name: self.tables[name] for name in EVENT_TYPES}
        counts = np.array([len(t) for t in self.tables.values()], dtype=np.int64)
        self.offset = dict(
            zip(EVENT_TYPES, np.concatenate([[0], np.cumsum(counts)[:-1]]), strict=True)
        )
        self.n = int(counts.sum())
        self.type_code = np.repeat(np.arange(len(EVENT_TYPES), dtype=np.int8), counts)
        self.ts = np.concatenate([t.ts for t in self.tables.values()])
        self.session = np.concatenate([t.session for t in self.tables.values()])

    def canonical_index(self, event_type: str) -> np.ndarray:
        start = self.offset[event_type]
        return np.arange(start, start + len(self.tables[event_type]), dtype=np.int64)
