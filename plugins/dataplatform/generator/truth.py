"""Ground truth: the SPEC metrics computed with DuckDB SQL from what was generated.

The tests recompute the same tables in pure Python from the landing files; the two
implementations share nothing but the definitions in SPEC.md.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from dataplatform.generator import vocab
from dataplatform.generator.delivery import Delivery
from dataplatform.generator.events import EVENT_TYPES, EventLog
from dataplatform.generator.params import WorldParams
from dataplatform.generator.serialize import WrittenFile
from dataplatform.generator.simulate import SimulatedWorld
from dataplatform.generator.timeutil import DAY_MS, iso_date
from dataplatform.generator.users import Devices

METRIC_TABLES = (
    "active_users_daily",
    "listings_daily",
    "listing_funnel_daily",
    "contacts_daily",
    "promotion_revenue_daily",
    "category_quality_daily",
    "listing_contacts_daily",
)

# Every table below holds only valid events, one row per distinct event (see _register);
# ts is the true instant in epoch ms, day the UTC day number of occurred_at.
_SQL = {
    "active_users_daily": """
        WITH activity AS (
            SELECT DISTINCT day, ['web', 'ios', 'android'][platform + 1] AS platform, user_id
            FROM activity_events
        ), tagged AS (
            SELECT day, platform, user_id FROM activity
            UNION ALL
            SELECT DISTINCT day, 'all' AS platform, user_id FROM activity
        ), keys AS (
            SELECT DISTINCT day, platform FROM tagged
        )
        SELECT k.day AS activity_date, k.platform,
               count(DISTINCT t.user_id) FILTER (WHERE t.day = k.day) AS dau,
               count(DISTINCT t.user_id) FILTER (WHERE t.day > k.day - 7) AS wau,
               count(DISTINCT t.user_id) AS mau
        FROM keys AS k
        JOIN tagged AS t ON t.platform = k.platform AND t.day BETWEEN k.day - 27 AND k.day
        GROUP BY ALL ORDER BY activity_date, platform
    """,
    "listings_daily": """
        SELECT day AS created_date, category_id, count(DISTINCT listing_id) AS listings_created
        FROM created
        GROUP BY ALL ORDER BY created_date, category_id
    """,
    "listing_funnel_daily": """
        SELECT s.day AS funnel_date,
               count(DISTINCT s.draft) AS creations_started,
               count(DISTINCT s.draft) FILTER (WHERE c.ts - s.ts BETWEEN 0 AND 86400000)
                   AS listings_created
        FROM started AS s LEFT JOIN created AS c ON c.draft = s.draft
        GROUP BY ALL ORDER BY funnel_date
    """,
    "contacts_daily": """
        SELECT day AS contact_date, count(DISTINCT eid) AS contacts,
               count(DISTINCT listing_id) AS listings_contacted
        FROM contacts
        GROUP BY ALL ORDER BY contact_date
    """,
    "promotion_revenue_daily": """
        SELECT day AS purchase_date, product, currency,
               count(DISTINCT eid) AS purchases, sum(amount_cents) AS revenue_cents
        FROM promotions
        GROUP BY ALL ORDER BY purchase_date, product, currency
    """,
    "category_quality_daily": """
        WITH wrong AS (
            SELECT DISTINCT l.listing_id
            FROM created AS l JOIN changed AS f ON f.listing_id = l.listing_id
            WHERE f.ts - l.ts BETWEEN 0 AND 7 * 86400000
        )
        SELECT l.day AS created_date,
               count(DISTINCT l.listing_id) AS new_listings,
               count(DISTINCT w.listing_id) AS wrong_category_listings,
               count(DISTINCT l.listing_id) FILTER (WHERE l.suggested_category_id IS NOT NULL)
                   AS suggestions_shown,
               count(DISTINCT l.listing_id)
                   FILTER (WHERE l.category_id = l.suggested_category_id) AS suggestions_accepted
        FROM created AS l LEFT JOIN wrong AS w USING (listing_id)
        GROUP BY ALL ORDER BY created_date
    """,
    "listing_contacts_daily": """
        WITH listings AS (
            SELECT listing_id, min(ts) AS ts, min(day) AS day FROM created GROUP BY listing_id
        ), within_7_days AS (
            SELECT l.listing_id, count(DISTINCT c.eid) AS contacts
            FROM listings AS l JOIN contacts AS c ON c.listing_id = l.listing_id
            WHERE c.ts - l.ts BETWEEN 0 AND 7 * 86400000
            GROUP BY ALL
        )
        SELECT l.day AS created_date,
               count(DISTINCT l.listing_id) AS new_listings,
               count(DISTINCT w.listing_id) AS listings_contacted_within_7_days,
               coalesce(sum(w.contacts), 0) AS contacts_within_7_days
        FROM listings AS l LEFT JOIN within_7_days AS w USING (listing_id)
        GROUP BY ALL ORDER BY created_date
    """,
}

# Contacts per listing created in the world, at any time: how many listings have k contacts.
_LISTING_CONTACTS_SQL = """
    WITH listings AS (
        SELECT DISTINCT listing_id FROM created
    ), per_listing AS (
        SELECT l.listing_id, count(DISTINCT c.eid) AS contacts
        FROM listings AS l LEFT JOIN contacts AS c USING (listing_id)
        GROUP BY ALL
    )
    SELECT contacts, count(*) AS listings FROM per_listing GROUP BY ALL ORDER BY contacts
"""

_EXPERIMENT_SQL = """
    WITH exposed AS (
        SELECT user_id, min(variant) AS variant FROM exposures GROUP BY user_id
    ), starts AS (
        SELECT s.draft, s.ts, e.variant FROM started AS s JOIN exposed AS e USING (user_id)
    ), creations AS (
        SELECT c.draft, c.listing_id, c.category_id, c.suggested_category_id, c.ts, e.variant
        FROM created AS c JOIN exposed AS e USING (user_id)
    ), funnel AS (
        SELECT s.variant, count(DISTINCT s.draft) AS drafts_started,
               count(DISTINCT s.draft) FILTER (WHERE c.ts - s.ts BETWEEN 0 AND 86400000)
                   AS drafts_completed_within_24h
        FROM starts AS s LEFT JOIN creations AS c ON c.draft = s.draft GROUP BY ALL
    ), quality AS (
        SELECT c.variant, count(DISTINCT c.listing_id) AS new_listings,
               count(DISTINCT c.listing_id) FILTER (WHERE f.listing_id IS NOT NULL)
                   AS wrong_category_listings,
               count(DISTINCT c.listing_id) FILTER (WHERE c.suggested_category_id IS NOT NULL)
                   AS suggestions_shown,
               count(DISTINCT c.listing_id) FILTER (WHERE c.category_id = c.suggested_category_id)
                   AS suggestions_accepted
        FROM creations AS c
        LEFT JOIN changed AS f
            ON f.listing_id = c.listing_id AND f.ts - c.ts BETWEEN 0 AND 604800000
        GROUP BY ALL
    ), users AS (
        SELECT variant, count(*) AS exposed_users FROM exposed GROUP BY ALL
    )
    SELECT u.variant, u.exposed_users,
           coalesce(f.drafts_started, 0), coalesce(f.drafts_completed_within_24h, 0),
           coalesce(q.new_listings, 0), coalesce(q.wrong_category_listings, 0),
           coalesce(q.suggestions_shown, 0), coalesce(q.suggestions_accepted, 0)
    FROM users AS u LEFT JOIN funnel AS f USING (variant) LEFT JOIN quality AS q USING (variant)
    ORDER BY u.variant
"""


def rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 6)


def valid_events(log: EventLog, delivery: Delivery) -> np.ndarray:
    """Per canonical event: delivered on at least one valid line (skewed events never are)."""
    valid = np.zeros(log.n, dtype=bool)
    valid[delivery.line_event[~delivery.skewed[delivery.line_event]]] = True
    return valid


def _distinct_activity(day: np.ndarray, platform: np.ndarray, user: np.ndarray) -> pa.Table:
    """Distinct (day, platform, user) of the events, deduplicated before SQL sees them.

    Only a speed-up: the SQL still takes DISTINCT. A presence bitmap over the key space is
    O(n); for very large key spaces np.unique is used instead.
    """
    n_platforms = len(vocab.PLATFORMS)
    if len(day) == 0:
        key = np.zeros(0, dtype=np.int64)
        first, n_users = 0, 1
    else:
        first, n_users = int(day.min()), int(user.max()) + 1
        key = ((day - first) * n_platforms + platform) * n_users + user
    space = (int(day.max()) - first + 1) * n_platforms * n_users if len(day) else 0
    if space <= 200_000_000:
        present = np.zeros(space, dtype=bool)
        present[key] = True
        key = np.flatnonzero(present)
    else:
        key = np.unique(key)
    return pa.table(
        {
            "day": (first + key // (n_platforms * n_users)).astype(np.int32),
            "platform": (key // n_users % n_platforms).astype(np.int8),
            "user_id": (key % n_users).astype(np.int32),
        }
    )


def _register(
    con: duckdb.DuckDBPyConnection, world: SimulatedWorld, devices: Devices, valid: np.ndarray
) -> None:
    """One table per event type: its valid events, each once, with instant, day and user."""
    log: EventLog = world.log
    sessions = world.sessions
    event_user = sessions.user[log.session]
    active = np.flatnonzero(valid & (event_user >= 0))
    con.register(
        "activity_events",
        _distinct_activity(
            log.ts[active] // DAY_MS,
            devices.platform[sessions.device[log.session[active]]],
            event_user[active],
        ),
    )
    del active

    def table(event_type: str, **columns: np.ndarray) -> pa.Table:
        eid = log.canonical_index(event_type)
        keep = valid[eid]
        ts = log.ts[eid][keep]
        user = event_user[eid][keep]
        return pa.table(
            {
                "eid": eid[keep],
                "ts": ts,
                "day": ts // DAY_MS,
                "user_id": pa.array(user, mask=user < 0),
            }
            | {name: values[keep] for name, values in columns.items()}
        )

    t = {name: tbl.cols for name, tbl in log.tables.items()}
    created = t["listing_created"]
    con.register(
        "started", table("listing_creation_started", draft=t["listing_creation_started"]["draft"])
    )
    created_table = table(
        "listing_created",
        listing_id=created["listing_id"],
        draft=created["draft"],
        category_id=created["category_id"],
        suggested_category_id=created["suggested_category_id"],
        title_contact=created["title_contact"],
        description_contact=created["description_contact"],
    )
    suggested = created_table.column("suggested_category_id").to_numpy()
    created_table = created_table.set_column(
        created_table.schema.get_field_index("suggested_category_id"),
        "suggested_category_id",
        pa.array(suggested, mask=suggested < 0),
    )
    con.register("created", created_table)
    con.register(
        "changed",
        table("listing_category_changed", listing_id=t["listing_category_changed"]["listing_id"]),
    )
    con.register(
        "contacts", table("contact_initiated", listing_id=t["contact_initiated"]["listing_id"])
    )
    promo = t["promotion_purchased"]
    products = np.array(vocab.PROMOTION_PRODUCTS, dtype=object)
    currencies = np.array(vocab.CURRENCIES, dtype=object)
    con.register(
        "promotions",
        table(
            "promotion_purchased",
            product=products[promo["product"]],
            currency=currencies[promo["currency"]],
            amount_cents=promo["amount_cents"],
        ),
    )
    con.register(
        "exposures", table("experiment_exposure", variant=t["experiment_exposure"]["variant"])
    )
    con.register(
        "searches", table("search_performed", query_contact=t["search_performed"]["query_contact"])
    )


def _events_by_type(log: EventLog, valid: np.ndarray) -> list[dict]:
    day = log.ts[valid] // DAY_MS
    first = int(day.min()) if len(day) else 0
    n_types = len(EVENT_TYPES)
    counts = np.bincount((day - first) * n_types + log.type_code[valid], minlength=n_types)
    return [
        {
            "event_date": iso_date(first + k // n_types),
            "event_type": EVENT_TYPES[k % n_types],
            "events": int(c),
        }
        for k, c in enumerate(counts)
        if c
    ]


def _metric_rows(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    cursor = con.execute(_SQL[name])
    columns = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        for key in (
            "activity_date",
            "created_date",
            "funnel_date",
            "contact_date",
            "purchase_date",
        ):
            if key in row:
                row[key] = iso_date(row[key])
        rows.append(row)
    for row in rows:
        if name == "listing_funnel_daily":
            row["completion_rate"] = rate(row["listings_created"], row["creations_started"])
        elif name == "promotion_revenue_daily":
            row["revenue"] = round(row.pop("revenue_cents") / 100, 2)
        elif name == "category_quality_daily":
            wrong = rate(row["wrong_category_listings"], row["new_listings"])
            accepted = rate(row["suggestions_accepted"], row["suggestions_shown"])
            row_order = ["created_date", "new_listings", "wrong_category_listings"]
            reordered = {k: row[k] for k in row_order}
            reordered["wrong_category_rate"] = wrong
            reordered["suggestions_shown"] = row["suggestions_shown"]
            reordered["suggestions_accepted"] = row["suggestions_accepted"]
            reordered["acceptance_rate"] = accepted
            row.clear()
            row.update(reordered)
        elif name == "listing_contacts_daily":
            new, contacted = row["new_listings"], row["listings_contacted_within_7_days"]
            contacts = int(row.pop("contacts_within_7_days"))
            row["contacted_within_7_days_rate"] = rate(contacted, new)
            row["contacts_within_7_days"] = contacts
            row["contacts_per_listing"] = rate(contacts, new)
    return rows


def _listing_contacts(con: duckdb.DuckDBPyConnection) -> dict:
    """Contacts per listing created in the world (all time), and contacts about other listings
    (created before the world, or whose listing_created event was invalid)."""
    by_contacts = [
        {"contacts": int(k), "listings": int(n)}
        for k, n in con.execute(_LISTING_CONTACTS_SQL).fetchall()
    ]
    listings = sum(r["listings"] for r in by_contacts)
    contacts = sum(r["contacts"] * r["listings"] for r in by_contacts)
    (other,) = con.execute(
        "SELECT count(DISTINCT eid) FROM contacts "
        "WHERE listing_id NOT IN (SELECT listing_id FROM created)"
    ).fetchone()
    return {
        "listings": listings,
        "contacted_listings": sum(r["listings"] for r in by_contacts if r["contacts"] > 0),
        "contacts": contacts,
        "contacts_per_listing": rate(contacts, listings),
        "contacts_about_other_listings": int(other),
        "listings_by_contacts": by_contacts,
    }


def expected_experiment_rates(params: WorldParams) -> dict[str, dict[str, float]]:
    """Per-variant expectations implied by the behaviour model (for infinitely long worlds)."""
    b, e = params.behaviour, params.experiment
    late_share = b.completion_delay_shares[2] / sum(b.completion_delay_shares)
    within_7_days = sum(
        share * min(1.0, max(0.0, (7.0 - lo) / (hi - lo)))
        for share, lo, hi in b.correction_delay_days
    ) / sum(share for share, _, _ in b.correction_delay_days)
    fixed_within_7_days = b.correction_probability * within_7_days
    expected = {}
    for i, variant in enumerate(e.variants):
        accuracy = e.suggestion_accuracy[i]
        accepted = accuracy * b.accept_right_suggestion + (1 - accuracy) * (
            1 - b.pick_right_given_wrong_suggestion
        )
        shown = b.suggestion_shown_probability
        misplaced = (
            shown
            * (
                accuracy * (1 - b.accept_right_suggestion)
                + (1 - accuracy) * (1 - b.pick_right_given_wrong_suggestion)
            )
            + (1 - shown) * b.wrong_without_suggestion
        )
        expected[variant] = {
            "completion_rate_within_24h": round(e.completion_probability[i] * (1 - late_share), 6),
            "misplaced_category_rate": round(misplaced, 6),
            "wrong_category_rate_within_7d": round(misplaced * fixed_within_7_days, 6),
            "acceptance_rate": round(accepted, 6),
        }
    return expected


def _experiment(con: duckdb.DuckDBPyConnection, params: WorldParams) -> dict:
    e = params.experiment
    expected = expected_experiment_rates(params)
    observed = {}
    for values in con.execute(_EXPERIMENT_SQL).fetchall():
        variant, users, started, completed, new, wrong, shown, accepted = values
        observed[e.variants[variant]] = {
            "exposed_users": users,
            "drafts_started": started,
            "drafts_completed_within_24h": completed,
            "completion_rate_within_24h": rate(completed, started),
            "new_listings": new,
            "wrong_category_listings": wrong,
            "wrong_category_rate_within_7d": rate(wrong, new),
            "suggestions_shown": shown,
            "suggestions_accepted": accepted,
            "acceptance_rate": rate(accepted, shown),
        }
    control, treatment = e.variants
    return {
        "experiment_id": e.experiment_id,
        "variants": list(e.variants),
        "assignment": (
            f'sha256("{e.experiment_id}:" + user_id); the first 8 bytes as a big-endian integer: '
            "even = control, odd = treatment"
        ),
        "exposure": "experiment_exposure at the first listing_creation_started of a seller",
        "unit_of_analysis": (
            "exposed user; rates below are per draft / per listing of exposed users"
        ),
        "true_parameters": {
            variant: {
                "model_version": e.model_versions[i],
                "suggestion_accuracy": e.suggestion_accuracy[i],
                "completion_probability": e.completion_probability[i],
            }
            for i, variant in enumerate(e.variants)
        },
        "expected": expected,
        "true_effect": {
            metric: round(expected[treatment][metric] - expected[control][metric], 6)
            for metric in expected[control]
        },
        "observed": observed,
    }


def landing_truth(params: WorldParams, delivery: Delivery, files: list[WrittenFile]) -> dict:
    """Per landing day: lines, valid lines, skewed, re-delivered and late lines; the files."""
    days = params.days
    valid_line = ~delivery.skewed[delivery.line_event]
    new_valid = valid_line & ~delivery.line_duplicate

    def per_day(mask: np.ndarray | None = None) -> np.ndarray:
        weights = None if mask is None else mask.astype(np.int64)
        return np.bincount(delivery.line_day, weights=weights, minlength=days).astype(np.int64)

    columns = {
        "lines": per_day(),
        "valid_lines": per_day(valid_line),
        "skewed_lines": per_day(~valid_line),
        "duplicate_lines": per_day(delivery.line_duplicate),
        "late_lines": per_day(delivery.line_late),
        "new_distinct_valid_events": per_day(new_valid),
    }
    file_count = np.bincount([int(part.day) for part in delivery.parts], minlength=days).astype(
        np.int64
    )
    rows = [
        {"dt": iso_date(params.start_day + d), "files": int(file_count[d])}
        | {k: int(v[d]) for k, v in columns.items()}
        for d in range(days)
    ]
    totals = {"files": len(files)} | {k: int(v.sum()) for k, v in columns.items()}
    totals["distinct_valid_events"] = totals.pop("new_distinct_valid_events")
    return {
        "days": rows,
        "totals": totals,
        "files": [{"path": f.path, "lines": f.lines, "gzip": f.gzip} for f in files],
    }


def compute_truth(
    params: WorldParams, world: SimulatedWorld, devices: Devices, delivery: Delivery
) -> dict:
    """Everything in truth.json except the landing file list (see add_landing)."""
    valid = valid_events(world.log, delivery)
    con = duckdb.connect()
    try:
        _register(con, world, devices, valid)
        metrics = {name: _metric_rows(con, name) for name in METRIC_TABLES}
        listing_contacts = _listing_contacts(con)
        contact_text = con.execute(
            """SELECT
                 (SELECT count(*) FROM searches WHERE query_contact),
                 (SELECT count(*) FROM created WHERE title_contact),
                 (SELECT count(*) FROM created WHERE description_contact)"""
        ).fetchone()
        experiment = _experiment(con, params)
    finally:
        con.close()
    listings = world.listings
    return {
        "world": {
            "start_date": params.start_date.isoformat(),
            "end_date": iso_date(params.start_day + params.days - 1),
            "days": params.days,
            "seed": params.seed,
            "users": params.users,
        },
        "definitions": {
            "date": "UTC calendar date of occurred_at",
            "valid": "event passes the contract; clock-skewed events (occurred_at more than 1 h "
            "after the end of their landing day) are invalid and excluded",
            "distinct": "every count is over distinct event_id; a re-delivered event counts once",
            "rows": "one row per group that has at least one event (GROUP BY semantics)",
            "rates": "rounded to 6 decimals; null when the denominator is 0",
            "within_7_days": "at or after the listing's first listing_created event and at most "
            "7 x 24 h (inclusive) after it",
            "listing_contacts": "per listing with a valid listing_created event: its distinct "
            "valid contact_initiated events at any time",
        },
        "metrics": metrics,
        "listing_contacts": listing_contacts,
        "experiment": experiment,
        "events_by_type": _events_by_type(world.log, valid),
        "free_text_with_contact_details": {
            "search_performed.query": contact_text[0],
            "listing_created.title": contact_text[1],
            "listing_created.description": contact_text[2],
        },
        "operational_db": {
            "users": params.users,
            "listings": listings.n,
            "listings_before_world": world.n_pre_world_listings,
            "listings_created_in_world": listings.n - world.n_pre_world_listings,
        },
    }
