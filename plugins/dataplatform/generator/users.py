"""Users of the marketplace and the devices (anonymous ids) they and anonymous visitors use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataplatform.generator import pii, vocab
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sampling import categorical
from dataplatform.generator.strings import join, uuid4_bytes, zero_padded
from dataplatform.generator.timeutil import DAY_MS, ZONE_CET, ZONE_EET, ZONE_UTC, ZONE_WET

APP_VERSIONS = tuple(vocab.APP_VERSIONS["ios"] + vocab.APP_VERSIONS["android"])
_APP_VERSION_RANGE = {
    1: (0, len(vocab.APP_VERSIONS["ios"])),
    2: (len(vocab.APP_VERSIONS["ios"]), len(APP_VERSIONS)),
}
PLATFORM_WEB = 0


@dataclass
class Users:
    user_id: pa.Array
    country: np.ndarray
    email: pa.Array
    phone: pa.Array
    full_name: pa.Array
    signup_ms: np.ndarray
    updated_ms: np.ndarray
    is_seller: np.ndarray
    activity_cdf: np.ndarray
    primary_device: np.ndarray
    second_device: np.ndarray

    @property
    def n(self) -> int:
        return len(self.country)

    @property
    def currency(self) -> np.ndarray:
        return pii.COUNTRY_CURRENCY[self.country]


@dataclass
class Devices:
    """Devices 0..n_user_devices-1 belong to users, the rest to anonymous visitors."""

    anonymous_id: np.ndarray
    platform: np.ndarray
    app_version: np.ndarray
    zone: np.ndarray
    utc_style: np.ndarray
    n_user_devices: int

    @property
    def n(self) -> int:
        return len(self.platform)


def user_id_strings(n: int) -> pa.Array:
    width = max(7, len(str(n)))
    return join("u", zero_padded(np.arange(1, n + 1), width))


def make_users(params: WorldParams, rng: np.random.Generator) -> Users:
    b = params.behaviour
    n = params.users
    world_start = params.start_day * DAY_MS
    world_ms = params.days * DAY_MS
    country = pii.random_countries(rng, n)
    first, last = pii.random_names(rng, country)
    email = pii.email_addresses(rng, country, first, last, np.arange(1, n + 1))
    phone = pii.phone_numbers(rng, country)
    phone = pc.if_else(pa.array(rng.random(n) < 0.9), phone, pa.scalar(None, pa.string()))

    # Most accounts are older than the world (a long tail back ~8 years); a few sign up during it.
    days_back = 1 + np.minimum(rng.exponential(500.0, size=n), 3000).astype(np.int64)
    signup = world_start - days_back * DAY_MS + rng.integers(0, DAY_MS, size=n)
    joins_in_world = rng.random(n) < b.in_world_signup_share
    signup[joins_in_world] = world_start + rng.integers(0, world_ms, size=int(joins_in_world.sum()))
    world_end = world_start + world_ms
    updated = signup.copy()
    edits = rng.random(n) < b.profile_update_share
    updated[edits] += (rng.random(int(edits.sum())) * (world_end - 1 - signup[edits])).astype(
        np.int64
    )

    is_seller = rng.random(n) < b.seller_share
    activity = rng.gamma(0.6, 1.0, size=n) * np.where(is_seller, b.seller_activity_boost, 1.0)
    cdf = np.cumsum(activity)
    cdf /= cdf[-1]
    return Users(
        user_id=user_id_strings(n),
        country=country,
        email=email,
        phone=phone,
        full_name=pii.full_names(first, last),
        signup_ms=signup,
        updated_ms=updated,
        is_seller=is_seller,
        activity_cdf=cdf,
        primary_device=np.arange(n, dtype=np.int64),
        second_device=np.full(n, -1, dtype=np.int64),
    )


def _device_attributes(
    rng: np.random.Generator, country: np.ndarray, platform: np.ndarray, local_share: float
) -> dict[str, np.ndarray]:
    n = len(platform)
    app_version = np.full(n, -1, dtype=np.int64)
    for code, (lo, hi) in _APP_VERSION_RANGE.items():
        rows = platform == code
        app_version[rows] = rng.integers(lo, hi, size=int(rows.sum()))
    zone = np.full(n, ZONE_UTC, dtype=np.int64)
    local = rng.random(n) < local_share
    spain = country == pii.COUNTRY_CODES.index("ES")
    roll = rng.random(n)
    zone[local] = ZONE_CET
    # Canary Islands clients are an hour behind the mainland; a few devices travel east.
    zone[local & spain & (roll < 0.10)] = ZONE_WET
    zone[local & (roll > 0.95)] = ZONE_EET
    return {
        "anonymous_id": uuid4_bytes(rng, n),
        "platform": platform,
        "app_version": app_version,
        "zone": zone,
        # Browsers serialise with toISOString() ("Z"); the mobile SDKs write "+00:00".
        "utc_style": np.where(platform == PLATFORM_WEB, 0, 1),
    }


def make_devices(params: WorldParams, users: Users, rng: np.random.Generator) -> Devices:
    """One device per user, a second one for some, plus a pool for anonymous visitors."""
    b = params.behaviour
    shares = np.array(vocab.PLATFORM_SHARES)
    n_users = users.n
    primary_platform = categorical(rng, shares, n_users)
    has_second = rng.random(n_users) < b.second_device_share
    # A second device is on another platform (a phone app besides the laptop browser, say).
    second_platform = (
        primary_platform[has_second] + rng.integers(1, 3, size=int(has_second.sum()))
    ) % 3
    second_owner = np.flatnonzero(has_second)
    users.second_device[second_owner] = n_users + np.arange(len(second_owner))
    n_user_devices = n_users + len(second_owner)

    anonymous_sessions = params.sessions_per_day * params.days * b.anonymous_session_share
    n_anonymous = max(100, round(anonymous_sessions / b.anonymous_visits_per_device))
    anonymous_country = pii.random_countries(rng, n_anonymous)
    anonymous_platform = categorical(rng, shares, n_anonymous)

    country = np.concatenate([users.country, users.country[second_owner], anonymous_country])
    platform = np.concatenate([primary_platform, second_platform, anonymous_platform])
    attributes = _device_attributes(rng, country, platform, b.local_time_device_share)
    return Devices(n_user_devices=n_user_devices, **attributes)
