"""What visitors do inside a session: start it, search, view, contact sellers, buy promotions."""

from __future__ import annotations

import numpy as np

from dataplatform.generator import vocab
from dataplatform.generator.catalog import Catalog, random_leaves
from dataplatform.generator.events import EventTable
from dataplatform.generator.listings import ListingPool
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sampling import categorical
from dataplatform.generator.sessions import Sessions, offsets_within
from dataplatform.generator.text import search_queries
from dataplatform.generator.timeutil import SECOND_MS
from dataplatform.generator.users import Users


def session_starts(sessions: Sessions) -> EventTable:
    return EventTable(sessions.start_ms, np.arange(sessions.n), {"referrer": sessions.referrer})


def searches(
    params: WorldParams,
    sessions: Sessions,
    users: Users,
    catalog: Catalog,
    rng: np.random.Generator,
    text_rng: np.random.Generator,
) -> EventTable:
    b = params.behaviour
    session = np.repeat(
        np.arange(sessions.n_browsing), rng.poisson(b.searches_per_session, sessions.n_browsing)
    )
    n = len(session)
    leaf = random_leaves(catalog, rng, n)
    # Half the searches have no category filter; some filter on the parent category.
    scope = categorical(rng, [0.55, 0.30, 0.15], n)
    category = np.select(
        [scope == 1, scope == 2], [catalog.leaf_id[leaf], catalog.leaf_parent_id[leaf]], -1
    )
    results = np.where(rng.random(n) < 0.05, 0, 1 + rng.negative_binomial(2, 0.02, size=n))
    query, has_contact = search_queries(text_rng, catalog, leaf, sessions.user[session], users, b)
    return EventTable(
        offsets_within(sessions, session, rng),
        session,
        {
            "query": query,
            "query_contact": has_contact,
            "category_id": category,
            "results_count": results,
        },
    )


def views_and_contacts(
    params: WorldParams, sessions: Sessions, pool: ListingPool, rng: np.random.Generator
) -> tuple[EventTable, EventTable]:
    """Listing views; some views by logged-in visitors lead to contacting the seller."""
    b = params.behaviour
    session = np.repeat(
        np.arange(sessions.n_browsing), rng.poisson(b.views_per_session, sessions.n_browsing)
    )
    ts = offsets_within(sessions, session, rng)
    listing = pool.visible_at(ts, rng, b.new_listing_view_weight)
    exists = listing >= 0
    views = EventTable(ts[exists], session[exists], {"listing_id": listing[exists]})

    viewer = sessions.user[views.session]
    seller = pool.seller_of_id[views.cols["listing_id"]]
    contacting = (
        (viewer >= 0)
        & (viewer != seller)
        & (rng.random(len(views)) < b.contact_probability_per_view)
    )
    rows = np.flatnonzero(contacting)
    delay = np.clip(
        rng.lognormal(np.log(40 * SECOND_MS), 0.8, size=len(rows)), SECOND_MS, 600 * SECOND_MS
    )
    channel = np.where(rng.random(len(rows)) < b.chat_share, 0, 1)
    contacts = EventTable(
        views.ts[rows] + delay.astype(np.int64),
        views.session[rows],
        {"listing_id": views.cols["listing_id"][rows], "seller": seller[rows], "channel": channel},
    )
    return views, contacts


def promotions(
    params: WorldParams,
    sessions: Sessions,
    users: Users,
    pool: ListingPool,
    rng: np.random.Generator,
) -> EventTable:
    """Sellers pay to promote one of their own listings that exists at that moment."""
    b = params.behaviour
    browsing = np.arange(sessions.n_browsing)
    visitor = sessions.user[browsing]
    is_seller = (visitor >= 0) & users.is_seller[np.maximum(visitor, 0)]
    session = browsing[is_seller & (rng.random(len(browsing)) < b.promotion_probability)]
    ts = offsets_within(sessions, session, rng, 5 * SECOND_MS)
    seller = sessions.user[session]
    listing = pool.own_listing_at(seller, ts, rng)
    has = listing >= 0
    session, ts, seller, listing = session[has], ts[has], seller[has], listing[has]
    n = len(session)
    shares = np.array(vocab.PROMOTION_SHARES)
    product = categorical(rng, shares, n)
    currency = users.currency[seller]
    price = np.array(
        [
            [vocab.PROMOTION_PRICE_CENTS[p][c] for c in vocab.CURRENCIES]
            for p in vocab.PROMOTION_PRODUCTS
        ],
        dtype=np.int64,
    )[product, currency]
    # Occasional campaign discount: 20 % off, rounded to the cent.
    discounted = rng.random(n) < b.promotion_discount_share
    amount = np.where(discounted, np.round(price * 0.8).astype(np.int64), price)
    return EventTable(
        ts,
        session,
        {"listing_id": listing, "product": product, "amount_cents": amount, "currency": currency},
    )
