"""Listings: the stock that exists before the world starts, and the pools events draw from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dataplatform.generator import vocab
from dataplatform.generator.catalog import (
    Catalog,
    random_leaves,
    random_prices_cents,
    random_stems,
)
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sampling import categorical
from dataplatform.generator.text import listing_texts
from dataplatform.generator.timeutil import DAY_MS, MINUTE_MS
from dataplatform.generator.users import Users

STATUS_ACTIVE = vocab.LISTING_STATUSES.index("active")


@dataclass
class ListingRows:
    """Listings as the operational database holds them at the end of the world."""

    listing_id: np.ndarray
    seller: np.ndarray
    category_id: np.ndarray
    title: pa.Array
    description: pa.Array
    price_cents: np.ndarray
    currency: np.ndarray
    status: np.ndarray
    created_ms: np.ndarray
    updated_ms: np.ndarray

    @property
    def n(self) -> int:
        return len(self.listing_id)


def make_pre_world_listings(
    params: WorldParams, users: Users, catalog: Catalog, rng: np.random.Generator
) -> ListingRows:
    """Listings sellers created during the year before the world, with their own history."""
    b = params.behaviour
    world_start = params.start_day * DAY_MS
    eligible = np.flatnonzero(users.is_seller & (users.signup_ms < world_start - DAY_MS))
    per_seller = rng.poisson(b.pre_world_listings_per_seller, size=len(eligible))
    seller = np.repeat(eligible, per_seller)
    n = len(seller)
    earliest = np.maximum(users.signup_ms[seller], world_start - 365 * DAY_MS)
    created = earliest + (rng.random(n) * (world_start - MINUTE_MS - earliest)).astype(np.int64)
    order = np.argsort(created, kind="stable")
    seller, created = seller[order], created[order]

    age_days = (world_start - created) / DAY_MS
    shares = np.array(b.pre_world_status_shares)
    status = categorical(rng, shares, n)
    # Listings expire: old ones are rarely still active.
    stale = (age_days > 60) & (status == STATUS_ACTIVE) & (rng.random(n) < 0.7)
    status[stale] = vocab.LISTING_STATUSES.index("expired")
    changed = (status != STATUS_ACTIVE) | (rng.random(n) < 0.4)
    updated = created + np.where(
        changed, (rng.random(n) * (world_start - 1 - created)).astype(np.int64), 0
    )

    leaf = random_leaves(catalog, rng, n)
    currency = users.currency[seller]
    text = listing_texts(rng, catalog, random_stems(catalog, rng, leaf), seller, users, b)
    return ListingRows(
        listing_id=np.arange(1, n + 1, dtype=np.int64),
        seller=seller,
        category_id=catalog.leaf_id[leaf],
        title=text.title,
        description=text.description,
        price_cents=random_prices_cents(catalog, rng, leaf, currency, b.free_listing_share),
        currency=currency,
        status=status,
        created_ms=created,
        updated_ms=updated,
    )


@dataclass
class ListingPool:
    """Listings a visitor can see at a given instant: active old stock plus new listings."""

    old_id: np.ndarray
    old_seller: np.ndarray
    new_id: np.ndarray  # sorted by creation time
    new_seller: np.ndarray
    new_created_ms: np.ndarray
    seller_of_id: np.ndarray  # seller by listing_id (index 0 unused)

    def visible_at(self, ts: np.ndarray, rng: np.random.Generator, new_weight: float) -> np.ndarray:
        """A listing_id per instant (-1 if none exists yet); new listings are viewed more often.

        A new listing becomes visible from the minute after its creation: counting listings
        per minute is a small table lookup instead of a binary search per view.
        """
        n_old = len(self.old_id)
        first_minute = int(ts.min()) // MINUTE_MS if len(ts) else 0
        minutes = np.arange(first_minute, (int(ts.max()) // MINUTE_MS if len(ts) else 0) + 2)
        created_before = np.searchsorted(self.new_created_ms, minutes * MINUTE_MS, side="left")
        n_new = created_before[ts // MINUTE_MS - first_minute]
        draw = rng.random(len(ts)) * (n_old + new_weight * n_new)
        result = np.full(len(ts), -1, dtype=np.int64)
        is_old = draw < n_old
        result[is_old] = self.old_id[draw[is_old].astype(np.int64)]
        is_new = ~is_old & (n_new > 0)
        position = ((draw[is_new] - n_old) / new_weight).astype(np.int64)
        result[is_new] = self.new_id[np.minimum(position, n_new[is_new] - 1)]
        return result

    def own_listing_at(
        self, seller: np.ndarray, ts: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """One of the seller's own listings existing at ts, or -1 if they have none."""
        ids = np.concatenate([self.old_id, self.new_id])
        owners = np.concatenate([self.old_seller, self.new_seller]).astype(np.int64)
        # Old stock predates the world: treat it as created at the epoch.
        created = np.concatenate([np.zeros(len(self.old_id), np.int64), self.new_created_ms])
        # One sortable key per (seller, creation instant); epoch ms stay below 2**42 until 2109.
        key = (owners << 42) | created
        order = np.argsort(key, kind="stable")
        key, ids = key[order], ids[order]
        seller = seller.astype(np.int64)
        lo = np.searchsorted(key, seller << 42, side="left")
        hi = np.searchsorted(key, (seller << 42) | ts, side="left")
        available = hi - lo
        pick = lo + (rng.random(len(seller)) * available).astype(np.int64)
        return np.where(available > 0, ids[np.minimum(pick, max(len(ids) - 1, 0))], -1)


def make_pool(old: ListingRows, new: ListingRows) -> ListingPool:
    active = old.status == STATUS_ACTIVE
    seller_of_id = np.full(old.n + new.n + 1, -1, dtype=np.int64)
    seller_of_id[old.listing_id] = old.seller
    seller_of_id[new.listing_id] = new.seller
    return ListingPool(
        old_id=old.listing_id[active],
        old_seller=old.seller[active],
        new_id=new.listing_id,
        new_seller=new.seller,
        new_created_ms=new.created_ms,
        seller_of_id=seller_of_id,
    )


def concat_listings(first: ListingRows, second: ListingRows) -> ListingRows:
    return ListingRows(
        **{
            name: pa.concat_arrays([getattr(first, name), getattr(second, name)])
            if isinstance(getattr(first, name), pa.Array)
            else np.concatenate([getattr(first, name), getattr(second, name)])
            for name in ListingRows.__dataclass_fields__
        }
    )
