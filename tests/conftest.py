"""Shared fixtures: a valid event factory and small hand-made landing batches."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

VALID_PROPERTIES = {
    "session_started": {"referrer": None},
    "search_performed": {"query": "road bike", "category_id": 12, "results_count": 40},
    "listing_viewed": {"listing_id": 1001},
    "listing_creation_started": {"draft_id": "8a1c1d9e-2f43-4b4e-9a51-5d7f1c0e2b11"},
    "category_suggested": {
        "draft_id": "8a1c1d9e-2f43-4b4e-9a51-5d7f1c0e2b11",
        "suggested_category_id": 12,
        "model_version": "v1",
        "score": 0.83,
    },
    "listing_created": {
        "listing_id": 1001,
        "draft_id": "8a1c1d9e-2f43-4b4e-9a51-5d7f1c0e2b11",
        "category_id": 12,
        "suggested_category_id": 12,
        "price": 120.5,
        "currency": "EUR",
        "title": "Road bike",
        "description": "Barely used",
    },
    "listing_category_changed": {"listing_id": 1001, "old_category_id": 12, "new_category_id": 13},
    "contact_initiated": {"listing_id": 1001, "seller_id": "u0000007", "channel": "chat"},
    "promotion_purchased": {
        "listing_id": 1001,
        "product": "bump",
        "amount": 4.99,
        "currency": "PLN",
    },
    "experiment_exposure": {"experiment_id": "cat_suggest_v2", "variant": "control"},
}


def make_event(n: int, event_type: str = "listing_viewed", **overrides) -> dict:
    event = {
        "event_id": str(uuid.UUID(int=n, version=4)),
        "event_type": event_type,
        "occurred_at": "2026-11-02T10:00:00.000+00:00",
        "user_id": "u0000001",
        "anonymous_id": "a-1",
        "session_id": "s-1",
        "platform": "web",
        "app_version": None,
        "properties": dict(VALID_PROPERTIES.get(event_type, {"listing_id": 1})),
    }
    event.update(overrides)
    return event


def line(event: dict) -> bytes:
    return json.dumps(event).encode()


@pytest.fixture
def landing_day(tmp_path: Path):
    """Write landing files for 2026-11-02 under tmp_path: ``write(name, bytes)``."""
    folder = tmp_path / "landing" / "events" / "dt=2026-11-02"
    folder.mkdir(parents=True)

    def write(name: str, content: bytes) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return write
