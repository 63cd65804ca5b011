"""World parameters: what the user asked for, the behaviour model, and the derived volume."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

GENERATOR_VERSION = "1.0.0"
DEFAULT_START_DATE = date(2026, 11, 1)

# Default scale: 0.38 sessions a day per registered user (~100 k events a day for 50 k users).
# With --events-per-day the sessions follow the target and the user base grows so that users
# have at most this many logged-in sessions a day on average.
SESSIONS_PER_USER_PER_DAY = 0.38
MAX_LOGGED_IN_SESSIONS_PER_USER_PER_DAY = 4.0


class GeneratorError(Exception):
    """A problem the user can fix (bad arguments, unwritable directory)."""


@dataclass(frozen=True)
class Experiment:
    experiment_id: str = "cat_suggest_v2"
    variants: tuple[str, str] = ("control", "treatment")
    model_versions: tuple[str, str] = ("catsug-1.4.2", "catsug-2.0.0")
    suggestion_accuracy: tuple[float, float] = (0.80, 0.88)
    completion_probability: tuple[float, float] = (0.70, 0.75)


@dataclass(frozen=True)
class Behaviour:
    """Probabilities and rates of the simulated marketplace. Changing one changes the world."""

    anonymous_session_share: float = 0.30
    second_device_share: float = 0.20
    second_device_use: float = 0.30
    in_world_signup_share: float = 0.03
    seller_share: float = 0.20
    seller_activity_boost: float = 1.5
    profile_update_share: float = 0.25
    local_time_device_share: float = 0.10
    anonymous_visits_per_device: float = 1.4

    session_median_minutes: float = 5.0
    searches_per_session: float = 1.4
    views_per_session: float = 2.6
    contact_probability_per_view: float = 0.07
    chat_share: float = 0.75
    new_listing_view_weight: float = 3.0

    creation_start_probability: float = 0.30
    suggestion_shown_probability: float = 0.95
    accept_right_suggestion: float = 0.97
    pick_right_given_wrong_suggestion: float = 0.50
    wrong_without_suggestion: float = 0.08
    sibling_share_of_wrong_suggestions: float = 0.70
    # Completion delay mix among drafts that complete: minutes / 1-24 h / 24-48 h.
    completion_delay_shares: tuple[float, float, float] = (0.90, 0.06, 0.04)
    correction_probability: float = 0.70
    # (share, from day, to day): most fixes come soon, some only after the 7-day window.
    correction_delay_days: tuple[tuple[float, float, float], ...] = (
        (0.50, 0.0, 2.0),
        (0.30, 2.0, 7.0),
        (0.20, 7.0, 10.0),
    )
    free_listing_share: float = 0.03

    promotion_probability: float = 0.06
    promotion_discount_share: float = 0.10

    pre_world_listings_per_seller: float = 2.0
    pre_world_status_shares: tuple[float, float, float, float] = (0.65, 0.20, 0.12, 0.03)

    title_contact_share: float = 0.015
    description_contact_share: float = 0.04
    query_contact_share: float = 0.01
    own_contact_share: float = 0.70

    late_share: float = 0.03
    late_days_shares: tuple[float, float, float] = (0.60, 0.30, 0.10)
    duplicate_share: float = 0.001
    skew_share: float = 0.0001
    # Weekday factors Monday..Sunday (UTC weekday of the session start).
    weekday_factors: tuple[float, ...] = (0.94, 0.92, 0.94, 0.97, 1.00, 1.13, 1.10)
    # Relative session starts per UTC hour (the markets are UTC+1: the evening peak is 18-20 UTC).
    hour_weights: tuple[float, ...] = (
        1.2,
        0.7,
        0.4,
        0.3,
        0.4,
        0.9,
        2.0,
        3.5,
        4.5,
        5.0,
        5.2,
        5.4,
        5.6,
        5.5,
        5.4,
        5.5,
        5.8,
        6.3,
        7.0,
        7.6,
        7.4,
        6.2,
        4.2,
        2.4,
    )


@dataclass(frozen=True)
class WorldParams:
    days: int
    users: int
    seed: int
    start_date: date
    events_per_day: int | None
    corrupt: bool
    users_requested: int
    sessions_per_day: float
    behaviour: Behaviour = field(default_factory=Behaviour)
    experiment: Experiment = field(default_factory=Experiment)

    @property
    def start_day(self) -> int:
        """Days since the Unix epoch of the first world day."""
        return (self.start_date - date(1970, 1, 1)).days

    def to_json(self) -> dict:
        body = asdict(self)
        body["start_date"] = self.start_date.isoformat()
        body["generator_version"] = GENERATOR_VERSION
        body["expected_events_per_session"] = round(expected_events_per_session(self.behaviour), 6)
        return body


def expected_events_per_session(b: Behaviour) -> float:
    """Mean events per regular session, used to size the world for --events-per-day.

    Extra sessions (resumed drafts, later category corrections) and the session's own
    session_started are included; the constant terms were checked against generated worlds.
    """
    logged_in = 1.0 - b.anonymous_session_share
    seller_sessions = (
        logged_in
        * (b.seller_share * b.seller_activity_boost)
        / (1.0 - b.seller_share + b.seller_share * b.seller_activity_boost)
    )
    completion = 0.725
    wrong_landing = 0.16
    late_completion = sum(b.completion_delay_shares[1:])
    per_draft = (
        1.0  # listing_creation_started
        + b.suggestion_shown_probability
        + completion * (1.0 + late_completion)  # listing_created (+ session of a late completion)
        + completion * wrong_landing * b.correction_probability * 2.0  # change + its session
        + 0.05  # first-time experiment exposure
    )
    return (
        1.0
        + b.searches_per_session
        + b.views_per_session
        + logged_in * b.views_per_session * b.contact_probability_per_view
        + seller_sessions * (b.creation_start_probability * per_draft + b.promotion_probability)
    )


def build_params(
    days: int,
    users: int,
    seed: int,
    start_date: date = DEFAULT_START_DATE,
    events_per_day: int | None = None,
    corrupt: bool = False,
) -> WorldParams:
    """Validate user input and derive the world's volume."""
    if not isinstance(days, int) or days < 1 or days > 366:
        raise GeneratorError(f"--days must be between 1 and 366, got {days!r}")
    if not isinstance(users, int) or users < 100:
        raise GeneratorError(f"--users must be at least 100, got {users!r}")
    if users > 20_000_000:
        raise GeneratorError(f"--users must be at most 20000000, got {users!r}")
    if not isinstance(seed, int) or seed < 0 or seed >= 2**63:
        raise GeneratorError(f"--seed must be a non-negative integer below 2**63, got {seed!r}")
    if events_per_day is not None and not 1_000 <= events_per_day <= 50_000_000:
        raise GeneratorError(
            f"--events-per-day must be between 1000 and 50000000, got {events_per_day!r}"
        )
    behaviour = Behaviour()
    if events_per_day is None:
        sessions_per_day = users * SESSIONS_PER_USER_PER_DAY
        effective_users = users
    else:
        sessions_per_day = events_per_day / expected_events_per_session(behaviour)
        logged_in_sessions = sessions_per_day * (1.0 - behaviour.anonymous_session_share)
        effective_users = max(
            users, math.ceil(logged_in_sessions / MAX_LOGGED_IN_SESSIONS_PER_USER_PER_DAY)
        )
    return WorldParams(
        days=days,
        users=int(effective_users),
        seed=seed,
        start_date=start_date,
        events_per_day=events_per_day,
        corrupt=corrupt,
        users_requested=users,
        sessions_per_day=float(sessions_per_day),
        behaviour=behaviour,
    )


# Each component draws from its own stream so that changing one part of the model does not
# reshuffle every other part of the world.
STREAMS = (
    "users",
    "devices",
    "catalog",
    "sessions",
    "funnel",
    "browse",
    "promotions",
    "text",
    "ids",
    "delivery",
    "corrupt",
    "search",
)


def rng_streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }
