"""Runs the behaviour model end to end and returns every event of the world."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from dataplatform.generator.browse import promotions, searches, session_starts, views_and_contacts
from dataplatform.generator.catalog import Catalog
from dataplatform.generator.events import EventLog
from dataplatform.generator.funnel import simulate_funnel
from dataplatform.generator.listings import (
    ListingRows,
    concat_listings,
    make_pool,
    make_pre_world_listings,
)
from dataplatform.generator.params import WorldParams
from dataplatform.generator.sessions import Sessions, make_sessions
from dataplatform.generator.timeutil import DAY_MS
from dataplatform.generator.users import Devices, Users


@dataclass
class SimulatedWorld:
    sessions: Sessions
    log: EventLog
    draft_uuid: np.ndarray
    listings: ListingRows
    n_pre_world_listings: int


def simulate(
    params: WorldParams,
    users: Users,
    devices: Devices,
    catalog: Catalog,
    streams: dict[str, np.random.Generator],
) -> SimulatedWorld:
    sessions = make_sessions(params, users, devices, streams["sessions"])
    old = make_pre_world_listings(params, users, catalog, streams["catalog"])
    funnel = simulate_funnel(
        params, sessions, users, catalog, old.n + 1, streams["funnel"], streams["text"]
    )
    pool = make_pool(old, funnel.new_listings)
    # Searches are independent of views and promotions (own random streams): build them on a
    # second thread. numpy and Arrow release the GIL for the heavy work.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="searches") as helper:
        search_job = helper.submit(
            searches, params, sessions, users, catalog, streams["search"], streams["text"]
        )
        views, contacts = views_and_contacts(params, sessions, pool, streams["browse"])
        promoted = promotions(params, sessions, users, pool, streams["promotions"])
        search = search_job.result()
    tables = {
        # After the funnel: it appends the sessions in which late drafts and fixes happen.
        "session_started": session_starts(sessions),
        "search_performed": search,
        "listing_viewed": views,
        "listing_creation_started": funnel.started,
        "category_suggested": funnel.suggested,
        "listing_created": funnel.created,
        "listing_category_changed": funnel.changed,
        "contact_initiated": contacts,
        "promotion_purchased": promoted,
        "experiment_exposure": funnel.exposure,
    }
    # Nothing happens after the last world day: what would is simply not generated.
    world_end = (params.start_day + params.days) * DAY_MS
    tables = {name: t.keep(t.ts < world_end) for name, t in tables.items()}
    return SimulatedWorld(
        sessions=sessions,
        log=EventLog(tables),
        draft_uuid=funnel.draft_uuid,
        listings=concat_listings(old, funnel.new_listings),
        n_pre_world_listings=old.n,
    )
