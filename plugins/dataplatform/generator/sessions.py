"""Sessions: who visits when, on which device, with daily and weekly seasonality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataplatform.generator import vocab
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sampling import categorical, from_cdf
from dataplatform.generator.timeutil import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS
from dataplatform.generator.users import Devices, Users

REFERRER_NULL = 0  # index of the "no referrer" entry in vocab.REFERRERS


@dataclass
class Sessions:
    start_ms: np.ndarray
    duration_ms: np.ndarray
    user: np.ndarray  # -1 for anonymous visitors
    device: np.ndarray
    referrer: np.ndarray  # index into vocab.REFERRERS
    n_browsing: int = 0  # sessions 0..n_browsing-1 are regular visits; the rest have one purpose

    @property
    def n(self) -> int:
        return len(self.start_ms)

    def append(
        self, start_ms: np.ndarray, user: np.ndarray, device: np.ndarray, referrer: np.ndarray
    ) -> np.ndarray:
        """Add single-purpose sessions (resuming a draft, fixing a category); return their ids."""
        first = self.n
        self.start_ms = np.concatenate([self.start_ms, start_ms])
        self.duration_ms = np.concatenate([self.duration_ms, np.full(len(start_ms), MINUTE_MS)])
        self.user = np.concatenate([self.user, user])
        self.device = np.concatenate([self.device, device])
        self.referrer = np.concatenate([self.referrer, referrer])
        return np.arange(first, self.n, dtype=np.int64)


def weekday_of(day_number: np.ndarray) -> np.ndarray:
    """Monday=0 weekday of days since the epoch (1970-01-01 was a Thursday)."""
    return (np.asarray(day_number) + 3) % 7


def make_sessions(
    params: WorldParams, users: Users, devices: Devices, rng: np.random.Generator
) -> Sessions:
    b = params.behaviour
    day_numbers = params.start_day + np.arange(params.days)
    factors = np.array(b.weekday_factors)
    expected = params.sessions_per_day * factors[weekday_of(day_numbers)] / factors.mean()
    counts = rng.poisson(expected)
    n = int(counts.sum())
    day = np.repeat(day_numbers, counts)
    hours = np.array(b.hour_weights)
    hour = categorical(rng, hours, n)
    start = day * DAY_MS + hour * HOUR_MS + rng.integers(0, HOUR_MS, size=n)
    start.sort()

    user = from_cdf(rng, users.activity_cdf, n)
    second = users.second_device[user]
    use_second = (second >= 0) & (rng.random(n) < b.second_device_use)
    device = np.where(use_second, second, users.primary_device[user])
    anonymous = rng.random(n) < b.anonymous_session_share
    n_anonymous_devices = devices.n - devices.n_user_devices
    device[anonymous] = devices.n_user_devices + rng.integers(
        0, n_anonymous_devices, size=int(anonymous.sum())
    )
    user[anonymous] = -1
    # Before signing up a future user browses anonymously, from the same device.
    before_signup = (user >= 0) & (start < users.signup_ms[np.maximum(user, 0)])
    user[before_signup] = -1

    median = b.session_median_minutes * MINUTE_MS
    duration = np.clip(rng.lognormal(np.log(median), 0.9, size=n), 30 * SECOND_MS, 90 * MINUTE_MS)
    weights = np.array([w for _, w in vocab.REFERRERS])
    referrer = categorical(rng, weights, n)
    return Sessions(
        start_ms=start,
        duration_ms=duration.astype(np.int64),
        user=user.astype(np.int64),
        device=device.astype(np.int64),
        referrer=referrer.astype(np.int64),
        n_browsing=n,
    )


def offsets_within(
    sessions: Sessions, session: np.ndarray, rng: np.random.Generator, min_ms: int = 500
) -> np.ndarray:
    """Random instants inside the given sessions, after their session_started."""
    return (
        sessions.start_ms[session]
        + min_ms
        + (rng.random(len(session)) * sessions.duration_ms[session]).astype(np.int64)
    )
