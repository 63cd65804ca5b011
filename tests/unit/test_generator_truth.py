"""truth.json is right: an independent pure-Python recomputation from the landing files alone.

The generator computes truth with DuckDB SQL over its in-memory arrays; this test reads only
what a consumer sees (the files) and applies SPEC.md's definitions.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

DAY = timedelta(days=1)


def _utc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 6)


@dataclass
class World:
    lines: list
    truth: dict
    events: dict[str, dict]  # valid events by event_id; a re-delivered event is kept once


@pytest.fixture(scope="module", params=["generator_world", "generator_long_world"])
def world(request, generator_line_reader) -> World:
    root = request.getfixturevalue(request.param)
    lines = generator_line_reader(root)
    events: dict[str, dict] = {}
    for line in lines:
        if not line.skewed:
            event = dict(line.event, _at=line.occurred, _date=_utc_date(line.occurred))
            events.setdefault(event["event_id"], event)
    truth = json.loads((root / "world/truth.json").read_text(encoding="utf-8"))
    return World(lines, truth, events)


def _of(events: dict[str, dict], event_type: str) -> list[dict]:
    return [e for e in events.values() if e["event_type"] == event_type]


def test_active_users_daily(world):
    events = world.events
    days_by_user: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for event in events.values():
        if event["user_id"] is not None:
            for platform in (event["platform"], "all"):
                days_by_user[platform][event["_date"]].add(event["user_id"])
    expected = []
    for platform in sorted(days_by_user):
        for day in sorted(days_by_user[platform]):
            current = date.fromisoformat(day)

            def users_within(days: int, platform: str = platform, current: date = current) -> int:
                window = [(current - k * DAY).isoformat() for k in range(days)]
                return len(set().union(*(days_by_user[platform].get(d, set()) for d in window)))

            expected.append(
                {
                    "activity_date": day,
                    "platform": platform,
                    "dau": len(days_by_user[platform][day]),
                    "wau": users_within(7),
                    "mau": users_within(28),
                }
            )
    expected.sort(key=lambda r: (r["activity_date"], r["platform"]))
    assert world.truth["metrics"]["active_users_daily"] == expected
    all_days = [r for r in expected if r["platform"] == "all"]
    assert len(all_days) == world.truth["world"]["days"] and all(r["dau"] > 50 for r in all_days)
    assert all_days[-1]["wau"] > all_days[-1]["dau"]


def test_listings_daily(world):
    events = world.events
    listings: dict[tuple, set] = defaultdict(set)
    for event in _of(events, "listing_created"):
        key = (event["_date"], event["properties"]["category_id"])
        listings[key].add(event["properties"]["listing_id"])
    expected = [
        {"created_date": day, "category_id": category, "listings_created": len(ids)}
        for (day, category), ids in sorted(listings.items())
    ]
    assert world.truth["metrics"]["listings_daily"] == expected
    assert sum(r["listings_created"] for r in expected) > 50


def test_listing_funnel_daily(world):
    events = world.events
    created_at: dict[str, list[datetime]] = defaultdict(list)
    for event in _of(events, "listing_created"):
        created_at[event["properties"]["draft_id"]].append(event["_at"])
    started: dict[str, set] = defaultdict(set)
    completed: dict[str, set] = defaultdict(set)
    for event in _of(events, "listing_creation_started"):
        draft = event["properties"]["draft_id"]
        started[event["_date"]].add(draft)
        if any(timedelta(0) <= at - event["_at"] <= DAY for at in created_at[draft]):
            completed[event["_date"]].add(draft)
    expected = [
        {
            "funnel_date": day,
            "creations_started": len(started[day]),
            "listings_created": len(completed[day]),
            "completion_rate": _rate(len(completed[day]), len(started[day])),
        }
        for day in sorted(started)
    ]
    assert world.truth["metrics"]["listing_funnel_daily"] == expected
    # Some drafts are finished only after more than 24 h: they do not count as completed.
    late = sum(
        1
        for event in _of(events, "listing_creation_started")
        for at in created_at[event["properties"]["draft_id"]]
        if at - event["_at"] > DAY
    )
    assert late > 0


def test_contacts_daily(world):
    events = world.events
    contacts: dict[str, set] = defaultdict(set)
    listings: dict[str, set] = defaultdict(set)
    for event in _of(events, "contact_initiated"):
        contacts[event["_date"]].add(event["event_id"])
        listings[event["_date"]].add(event["properties"]["listing_id"])
    expected = [
        {"contact_date": d, "contacts": len(contacts[d]), "listings_contacted": len(listings[d])}
        for d in sorted(contacts)
    ]
    assert world.truth["metrics"]["contacts_daily"] == expected


def test_promotion_revenue_daily(world):
    events = world.events
    purchases: Counter = Counter()
    revenue: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in world.lines:
        # Amounts parsed as decimals from the raw text: no float rounding in the reference.
        if line.event["event_type"] == "promotion_purchased":
            text = line.raw.decode()
            amount = Decimal(text.split('"amount":')[1].split(",")[0])
            assert float(amount) == line.event["properties"]["amount"]
    for event in _of(events, "promotion_purchased"):
        p = event["properties"]
        key = (event["_date"], p["product"], p["currency"])
        purchases[key] += 1
        revenue[key] += Decimal(str(p["amount"]))
    expected = [
        {
            "purchase_date": day,
            "product": product,
            "currency": currency,
            "purchases": purchases[(day, product, currency)],
            "revenue": float(round(revenue[(day, product, currency)], 2)),
        }
        for day, product, currency in sorted(purchases)
    ]
    assert world.truth["metrics"]["promotion_revenue_daily"] == expected
    assert {r["currency"] for r in expected} == {"PLN", "EUR"}


def test_category_quality_daily(world):
    events = world.events
    changes: dict[int, list[datetime]] = defaultdict(list)
    for event in _of(events, "listing_category_changed"):
        changes[event["properties"]["listing_id"]].append(event["_at"])
    rows: dict[str, Counter] = defaultdict(Counter)
    for event in _of(events, "listing_created"):
        p = event["properties"]
        row = rows[event["_date"]]
        row["new_listings"] += 1
        if any(timedelta(0) <= at - event["_at"] <= 7 * DAY for at in changes[p["listing_id"]]):
            row["wrong_category_listings"] += 1
        if p["suggested_category_id"] is not None:
            row["suggestions_shown"] += 1
            row["suggestions_accepted"] += p["category_id"] == p["suggested_category_id"]
    expected = [
        {
            "created_date": day,
            "new_listings": row["new_listings"],
            "wrong_category_listings": row["wrong_category_listings"],
            "wrong_category_rate": _rate(row["wrong_category_listings"], row["new_listings"]),
            "suggestions_shown": row["suggestions_shown"],
            "suggestions_accepted": row["suggestions_accepted"],
            "acceptance_rate": _rate(row["suggestions_accepted"], row["suggestions_shown"]),
        }
        for day, row in sorted(rows.items())
    ]
    assert world.truth["metrics"]["category_quality_daily"] == expected
    assert sum(r["wrong_category_listings"] for r in expected) > 0
    assert sum(r["suggestions_shown"] - r["suggestions_accepted"] for r in expected) > 0


def _listing_contacts(events: dict[str, dict]) -> tuple[dict[int, datetime], dict[int, list]]:
    """Each listing's first creation instant, and the instants of the contacts about it."""
    created_at: dict[int, datetime] = {}
    for event in _of(events, "listing_created"):
        listing = event["properties"]["listing_id"]
        created_at[listing] = min(created_at.get(listing, event["_at"]), event["_at"])
    contacts: dict[int, list[datetime]] = defaultdict(list)
    for event in _of(events, "contact_initiated"):
        contacts[event["properties"]["listing_id"]].append(event["_at"])
    return created_at, contacts


def test_listing_contacts_daily(world):
    created_at, contacts = _listing_contacts(world.events)
    rows: dict[str, Counter] = defaultdict(Counter)
    for listing, at in created_at.items():
        row = rows[_utc_date(at)]
        within = sum(timedelta(0) <= c - at <= 7 * DAY for c in contacts[listing])
        row["new_listings"] += 1
        row["listings_contacted_within_7_days"] += within > 0
        row["contacts_within_7_days"] += within
    expected = [
        {
            "created_date": day,
            "new_listings": row["new_listings"],
            "listings_contacted_within_7_days": row["listings_contacted_within_7_days"],
            "contacted_within_7_days_rate": _rate(
                row["listings_contacted_within_7_days"], row["new_listings"]
            ),
            "contacts_within_7_days": row["contacts_within_7_days"],
            "contacts_per_listing": _rate(row["contacts_within_7_days"], row["new_listings"]),
        }
        for day, row in sorted(rows.items())
    ]
    assert world.truth["metrics"]["listing_contacts_daily"] == expected
    # Not every new listing is contacted within 7 days, but many are.
    assert 0 < sum(r["listings_contacted_within_7_days"] for r in expected) < len(created_at)


def test_listing_contacts(world):
    created_at, contacts = _listing_contacts(world.events)
    by_contacts = Counter(len(contacts[listing]) for listing in created_at)
    other = sum(len(at) for listing, at in contacts.items() if listing not in created_at)
    truth = world.truth["listing_contacts"]
    assert truth["listings_by_contacts"] == [
        {"contacts": k, "listings": n} for k, n in sorted(by_contacts.items())
    ]
    assert truth["listings"] == len(created_at)
    assert truth["contacted_listings"] == len(created_at) - by_contacts[0]
    assert truth["contacts"] == sum(k * n for k, n in by_contacts.items())
    assert truth["contacts_per_listing"] == _rate(truth["contacts"], len(created_at))
    assert truth["contacts_about_other_listings"] == other > 0
    # every contact is about a listing created in the world or about another one
    all_contacts = sum(r["contacts"] for r in world.truth["metrics"]["contacts_daily"])
    assert truth["contacts"] + other == all_contacts
    assert by_contacts[0] > 0 and max(by_contacts) > 1


def test_experiment_observed(world):
    events = world.events
    variant_of: dict[str, str] = {}
    for event in _of(events, "experiment_exposure"):
        assert event["properties"]["experiment_id"] == "cat_suggest_v2"
        variant_of.setdefault(event["user_id"], event["properties"]["variant"])
    created = {e["properties"]["draft_id"]: e for e in _of(events, "listing_created")}
    observed = {v: Counter() for v in set(variant_of.values())}
    for variant in variant_of.values():
        observed[variant]["exposed_users"] += 1
    for event in _of(events, "listing_creation_started"):
        if event["user_id"] in variant_of:
            row = observed[variant_of[event["user_id"]]]
            row["drafts_started"] += 1
            done = created.get(event["properties"]["draft_id"])
            row["drafts_completed_within_24h"] += bool(
                done and timedelta(0) <= done["_at"] - event["_at"] <= DAY
            )
    truth = world.truth["experiment"]["observed"]
    assert set(truth) == {"control", "treatment"} == set(observed)
    for variant, row in observed.items():
        for key in ("exposed_users", "drafts_started", "drafts_completed_within_24h"):
            assert truth[variant][key] == row[key], (variant, key)
    expected = world.truth["experiment"]["expected"]
    assert (
        expected["treatment"]["completion_rate_within_24h"]
        > (expected["control"]["completion_rate_within_24h"])
    )
    assert (
        expected["treatment"]["wrong_category_rate_within_7d"]
        < (expected["control"]["wrong_category_rate_within_7d"])
    )


def test_events_by_type(world):
    events = world.events
    counts = Counter((e["_date"], e["event_type"]) for e in events.values())
    truth = {(r["event_date"], r["event_type"]): r["events"] for r in world.truth["events_by_type"]}
    assert truth == dict(counts)


def test_landing_day_statistics(world):
    seen: set[str] = set()
    per_day: dict[str, Counter] = defaultdict(Counter)
    for line in world.lines:
        row = per_day[line.dt.isoformat()]
        row["lines"] += 1
        if line.skewed:
            row["skewed_lines"] += 1
            continue
        row["valid_lines"] += 1
        event_id = line.event["event_id"]
        if event_id in seen:
            row["duplicate_lines"] += 1
        else:
            row["new_distinct_valid_events"] += 1
        seen.add(event_id)
        row["late_lines"] += line.occurred.astimezone(UTC).date() < line.dt
    days = world.truth["landing"]["days"]
    assert [d["dt"] for d in days] == sorted(per_day)
    for day in days:
        for key, value in per_day[day["dt"]].items():
            assert day[key] == value, (day["dt"], key)
    totals = world.truth["landing"]["totals"]
    assert totals["distinct_valid_events"] == len(seen)
    assert totals["skewed_lines"] >= 4  # at least one per landing day
    assert totals["duplicate_lines"] >= 1 and totals["late_lines"] > 0


def test_the_windows_matter(generator_long_world, generator_line_reader):
    """In the 30-day world the 24 h, 7-day (category changes and contacts) and 28-day boundaries
    each separate real cases, so the exact comparisons above would catch a wrong window."""
    lines = [line for line in generator_line_reader(generator_long_world) if not line.skewed]
    at: dict[tuple[str, object], datetime] = {}
    for line in lines:
        p = line.event["properties"]
        if line.event["event_type"] == "listing_created":
            at[("created", p["listing_id"])] = line.occurred
            at[("draft_done", p["draft_id"])] = line.occurred
        elif line.event["event_type"] == "listing_creation_started":
            at[("draft_start", p["draft_id"])] = line.occurred
    fix_delays = [
        line.occurred - at[("created", line.event["properties"]["listing_id"])]
        for line in lines
        if line.event["event_type"] == "listing_category_changed"
    ]
    assert any(d <= 7 * DAY for d in fix_delays) and any(d > 7 * DAY for d in fix_delays)
    draft_delays = [
        done - at[("draft_start", key)]
        for (kind, key), done in at.items()
        if kind == "draft_done" and ("draft_start", key) in at
    ]
    assert any(d <= DAY for d in draft_delays) and any(d > DAY for d in draft_delays)
    contact_delays = [
        line.occurred - at[("created", line.event["properties"]["listing_id"])]
        for line in lines
        if line.event["event_type"] == "contact_initiated"
        and ("created", line.event["properties"]["listing_id"]) in at
    ]
    assert any(d <= 7 * DAY for d in contact_delays) and any(d > 7 * DAY for d in contact_delays)
    truth = json.loads((generator_long_world / "world/truth.json").read_text(encoding="utf-8"))
    last = [r for r in truth["metrics"]["active_users_daily"] if r["platform"] == "all"][-1]
    everyone = {line.event["user_id"] for line in lines if line.event["user_id"] is not None}
    assert last["dau"] < last["wau"] < last["mau"] < len(everyone)
