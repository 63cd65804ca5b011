"""The event contract of SPEC.md as data, for validation code.

``contract/event.schema.json`` documents the same contract for the collector team; a test keeps
the two in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORMS = ("web", "ios", "android")
# Late delivery the contract allows, and the clock skew it tolerates past the landing day.
MAX_LATENESS_DAYS = 3
MAX_FUTURE_SKEW_HOURS = 1

# Top-level fields: name -> nullable. All must be strings (or null where nullable).
# user_id and app_version may also be absent, which reads as null.
TOP_LEVEL_STRING_FIELDS: dict[str, bool] = {
    "event_id": False,
    "event_type": False,
    "occurred_at": False,
    "anonymous_id": False,
    "session_id": False,
    "platform": False,
    "user_id": True,
    "app_version": True,
}
KNOWN_TOP_LEVEL_FIELDS = (*TOP_LEVEL_STRING_FIELDS, "properties")
# The shapes of two of them, as event.schema.json writes them. A timestamp of that shape must
# also name a real instant (2026-02-30 does not).
EVENT_ID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
OCCURRED_AT_PATTERN = (
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]"
    "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?"
    "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


@dataclass(frozen=True)
class Prop:
    """One property of an event type: its JSON kind and the values it may take."""

    kind: str  # "string" | "integer" | "number"
    nullable: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None
    pattern: str | None = None


_ID = Prop("integer")
_CURRENCY = Prop("string", pattern="^[A-Z]{3}$")

EVENT_PROPERTIES: dict[str, dict[str, Prop]] = {
    "session_started": {"referrer": Prop("string", nullable=True)},
    "search_performed": {
        "query": Prop("string"),
        "category_id": Prop("integer", nullable=True),
        "results_count": Prop("integer", minimum=0),
    },
    "listing_viewed": {"listing_id": _ID},
    "listing_creation_started": {"draft_id": Prop("string")},
    "category_suggested": {
        "draft_id": Prop("string"),
        "suggested_category_id": _ID,
        "model_version": Prop("string"),
        "score": Prop("number", minimum=0, maximum=1),
    },
    "listing_created": {
        "listing_id": _ID,
        "draft_id": Prop("string"),
        "category_id": _ID,
        "suggested_category_id": Prop("integer", nullable=True),
        "price": Prop("number", minimum=0),
        "currency": _CURRENCY,
        "title": Prop("string"),
        "description": Prop("string"),
    },
    "listing_category_changed": {
        "listing_id": _ID,
        "old_category_id": _ID,
        "new_category_id": _ID,
    },
    "contact_initiated": {
        "listing_id": _ID,
        "seller_id": Prop("string"),
        "channel": Prop("string", choices=("chat", "phone_reveal")),
    },
    "promotion_purchased": {
        "listing_id": _ID,
        "product": Prop("string", choices=("bump", "featured", "top_ad")),
        "amount": Prop("number", minimum=0, exclusive_minimum=True),
        "currency": _CURRENCY,
    },
    "experiment_exposure": {"experiment_id": Prop("string"), "variant": Prop("string")},
}
EVENT_TYPES = tuple(EVENT_PROPERTIES)


def all_property_names() -> tuple[str, ...]:
    """Every property name of any event type, once, in a stable order."""
    seen: dict[str, None] = {}
    for props in EVENT_PROPERTIES.values():
        seen.update(dict.fromkeys(props))
    return tuple(seen)
