"""The listing-creation funnel, the category-suggestion A/B test and later category fixes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from dataplatform.generator.catalog import (
    Catalog,
    random_leaves,
    random_prices_cents,
    random_stems,
    wrong_leaves,
)
from dataplatform.generator.events import EventTable
from dataplatform.generator.listings import STATUS_ACTIVE, ListingRows
from dataplatform.generator.params import Experiment, WorldParams
from dataplatform.generator.sampling import categorical
from dataplatform.generator.sessions import REFERRER_NULL, Sessions, offsets_within
from dataplatform.generator.strings import uuid4_bytes
from dataplatform.generator.text import listing_texts
from dataplatform.generator.timeutil import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS
from dataplatform.generator.users import Users


@dataclass
class FunnelEvents:
    started: EventTable
    suggested: EventTable
    created: EventTable
    changed: EventTable
    exposure: EventTable
    draft_uuid: np.ndarray
    new_listings: ListingRows


def variant_of(user_ids: list[str], experiment: Experiment) -> np.ndarray:
    """Deterministic 50/50 split: the parity of sha256("<experiment_id>:<user_id>")[:8].

    0 is control, 1 treatment. Any service can recompute it from the user id alone.
    """
    return np.array(
        [
            int.from_bytes(
                hashlib.sha256(f"{experiment.experiment_id}:{uid}".encode()).digest()[:8], "big"
            )
            % 2
            for uid in user_ids
        ],
        dtype=np.int64,
    )


def _variants_for(users: Users, seller: np.ndarray, experiment: Experiment) -> np.ndarray:
    if len(seller) == 0:
        return np.zeros(0, dtype=np.int64)
    # Hashing is per user, in Python: do it once per distinct seller.
    unique, inverse = np.unique(seller, return_inverse=True)
    return variant_of(users.user_id.take(unique).to_pylist(), experiment)[inverse]


def _completion_delay(rng: np.random.Generator, d: int, shares: tuple[float, ...]) -> np.ndarray:
    """Most drafts are finished within minutes; some the same day, a few only the next day."""
    kind = categorical(rng, shares, d)
    quick = np.clip(
        rng.lognormal(np.log(4 * MINUTE_MS), 0.7, size=d), 20 * SECOND_MS, 50 * MINUTE_MS
    )
    same_day = rng.uniform(1 * HOUR_MS, 23 * HOUR_MS + 50 * MINUTE_MS, size=d)
    # Kept well clear of the 24 h boundary so that the "within 24 h" rule is unambiguous.
    next_day = rng.uniform(24 * HOUR_MS + 10 * MINUTE_MS, 47 * HOUR_MS + 50 * MINUTE_MS, size=d)
    return np.select([kind == 0, kind == 1], [quick, same_day], next_day).astype(np.int64)


def correction_delay(
    rng: np.random.Generator, n: int, brackets: tuple[tuple[float, float, float], ...]
) -> np.ndarray:
    """Delay in ms from a mixture of uniform (share, from_day, to_day) brackets."""
    shares = np.array([share for share, _, _ in brackets])
    bracket = categorical(rng, shares, n)
    low = np.array([lo for _, lo, _ in brackets])[bracket]
    high = np.array([hi for _, _, hi in brackets])[bracket]
    return ((low + rng.random(n) * (high - low)) * DAY_MS).astype(np.int64)


def simulate_funnel(
    params: WorldParams,
    sessions: Sessions,
    users: Users,
    catalog: Catalog,
    first_listing_id: int,
    rng: np.random.Generator,
    text_rng: np.random.Generator,
) -> FunnelEvents:
    b, e = params.behaviour, params.experiment
    world_end = (params.start_day + params.days) * DAY_MS

    browsing = np.arange(sessions.n_browsing)
    visitor = sessions.user[browsing]
    is_seller = (visitor >= 0) & users.is_seller[np.maximum(visitor, 0)]
    start_session = browsing[is_seller & (rng.random(len(browsing)) < b.creation_start_probability)]
    t_start = offsets_within(sessions, start_session, rng, 2 * SECOND_MS)
    in_world = t_start < world_end
    start_session, t_start = start_session[in_world], t_start[in_world]
    d = len(start_session)
    seller = sessions.user[start_session]
    variant = _variants_for(users, seller, e)

    true_leaf = random_leaves(catalog, rng, d)
    shown = rng.random(d) < b.suggestion_shown_probability
    right = rng.random(d) < np.array(e.suggestion_accuracy)[variant]
    sibling = b.sibling_share_of_wrong_suggestions
    suggested_leaf = np.where(right, true_leaf, wrong_leaves(catalog, rng, true_leaf, sibling))
    t_suggest = t_start + rng.integers(1_500, 8_000, size=d)
    score = np.where(right, rng.beta(8.0, 2.0, size=d), rng.beta(3.0, 3.0, size=d))
    score_e4 = np.clip(np.round(score * 10_000), 1, 9_999).astype(np.int64)

    roll = rng.random(d)
    mistaken = wrong_leaves(catalog, rng, true_leaf, sibling)
    chosen_leaf = np.select(
        [shown & right, shown & ~right],
        [
            np.where(roll < b.accept_right_suggestion, true_leaf, mistaken),
            np.where(roll < b.pick_right_given_wrong_suggestion, true_leaf, suggested_leaf),
        ],
        np.where(roll < b.wrong_without_suggestion, mistaken, true_leaf),
    )
    completes = rng.random(d) < np.array(e.completion_probability)[variant]
    delay = np.maximum(
        _completion_delay(rng, d, b.completion_delay_shares), t_suggest - t_start + 3_000
    )
    t_created = t_start + delay
    created_draft = np.flatnonzero(completes & (t_created < world_end))
    created_draft = created_draft[np.argsort(t_created[created_draft], kind="stable")]
    n_created = len(created_draft)

    # A draft finished an hour or more later is finished in a new session on the same device.
    created_session = start_session[created_draft].copy()
    resumed = np.flatnonzero(delay[created_draft] >= HOUR_MS)
    created_session[resumed] = sessions.append(
        t_created[created_draft[resumed]]
        - rng.integers(5 * SECOND_MS, 120 * SECOND_MS, len(resumed)),
        seller[created_draft[resumed]],
        sessions.device[start_session[created_draft[resumed]]],
        np.full(len(resumed), REFERRER_NULL),
    )

    c_seller = seller[created_draft]
    c_true = true_leaf[created_draft]
    c_chosen = chosen_leaf[created_draft]
    c_time = t_created[created_draft]
    listing_id = first_listing_id + np.arange(n_created, dtype=np.int64)
    currency = users.currency[c_seller]
    price = random_prices_cents(catalog, rng, c_true, currency, b.free_listing_share)
    text = listing_texts(
        text_rng, catalog, random_stems(catalog, text_rng, c_true), c_seller, users, b
    )

    # Sellers notice a wrong category some time later and move the listing.
    wrong = np.flatnonzero(c_chosen != c_true)
    fixed = wrong[rng.random(len(wrong)) < b.correction_probability]
    t_fix = c_time[fixed] + correction_delay(rng, len(fixed), b.correction_delay_days)
    fixed_in_world = t_fix < world_end
    fixed, t_fix = fixed[fixed_in_world], t_fix[fixed_in_world]
    fix_session = sessions.append(
        t_fix - rng.integers(5 * SECOND_MS, 60 * SECOND_MS, len(fixed)),
        c_seller[fixed],
        users.primary_device[c_seller[fixed]],
        np.full(len(fixed), REFERRER_NULL),
    )
    final_leaf = c_chosen.copy()
    final_leaf[fixed] = c_true[fixed]
    updated = c_time.copy()
    updated[fixed] = t_fix

    # Exposure: the first time each seller starts a listing in the world.
    order = np.lexsort((t_start, seller))
    first_of_seller = (
        order[np.concatenate([[True], seller[order][1:] != seller[order][:-1]])] if d else order
    )

    suggested_rows = np.flatnonzero(shown)
    shown_created = shown[created_draft]
    return FunnelEvents(
        started=EventTable(t_start, start_session, {"draft": np.arange(d)}),
        suggested=EventTable(
            t_suggest[suggested_rows],
            start_session[suggested_rows],
            {
                "draft": suggested_rows,
                "suggested_category_id": catalog.leaf_id[suggested_leaf[suggested_rows]],
                "variant": variant[suggested_rows],
                "score_e4": score_e4[suggested_rows],
            },
        ).keep(t_suggest[suggested_rows] < world_end),
        created=EventTable(
            c_time,
            created_session,
            {
                "listing_id": listing_id,
                "draft": created_draft,
                "category_id": catalog.leaf_id[c_chosen],
                "suggested_category_id": np.where(
                    shown_created, catalog.leaf_id[suggested_leaf[created_draft]], -1
                ),
                "price_cents": price,
                "currency": currency,
                "title": text.title,
                "description": text.description,
                "title_contact": text.title_has_contact,
                "description_contact": text.description_has_contact,
            },
        ),
        changed=EventTable(
            t_fix,
            fix_session,
            {
                "listing_id": listing_id[fixed],
                "old_category_id": catalog.leaf_id[c_chosen[fixed]],
                "new_category_id": catalog.leaf_id[c_true[fixed]],
            },
        ),
        exposure=EventTable(
            t_start[first_of_seller],
            start_session[first_of_seller],
            {"variant": variant[first_of_seller]},
        ),
        draft_uuid=uuid4_bytes(rng, d),
        new_listings=ListingRows(
            listing_id=listing_id,
            seller=c_seller,
            category_id=catalog.leaf_id[final_leaf],
            title=text.title,
            description=text.description,
            price_cents=price,
            currency=currency,
            status=np.full(n_created, STATUS_ACTIVE, dtype=np.int64),
            created_ms=c_time,
            updated_ms=updated,
        ),
    )
