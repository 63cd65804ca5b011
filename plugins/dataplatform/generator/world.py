"""generate_world: the one entry point the CLI, the tests and the benchmarks call."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from dataplatform.generator.catalog import make_catalog
from dataplatform.generator.delivery import Delivery, plan_delivery
from dataplatform.generator.opdb import DatabaseWriter
from dataplatform.generator.params import (
    DEFAULT_START_DATE,
    GeneratorError,
    WorldParams,
    build_params,
    rng_streams,
)
from dataplatform.generator.serialize import (
    EventColumns,
    WrittenFile,
    properties_json,
    session_fragments,
    write_landing,
)
from dataplatform.generator.simulate import SimulatedWorld, simulate
from dataplatform.generator.strings import uuid4_bytes
from dataplatform.generator.truth import compute_truth, landing_truth
from dataplatform.generator.users import Devices, Users, make_devices, make_users

OWNED_SUBDIRS = ("landing", "source", "world")
OPDB_PATH = "source/marketplace.sqlite"
TRUTH_PATH = "world/truth.json"
PARAMS_PATH = "world/params.json"
CORRUPTION_PATH = "world/corruption.json"


@dataclass(frozen=True)
class WorldSummary:
    data_dir: Path
    start_date: date
    days: int
    users: int
    events: int  # distinct events generated (valid and clock-skewed)
    lines: int  # event lines written to the clean landing files, re-deliveries included
    files: int  # clean landing files
    injected: int  # corruption cases recorded in world/corruption.json (0 without --corrupt)
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        return (
            f"world {self.start_date.isoformat()} +{self.days} days, {self.users:,} users: "
            f"{self.lines:,} event lines ({self.events:,} distinct events) in {self.files} files"
            + (f", {self.injected} corruption cases" if self.injected else "")
            + f", {self.seconds:.1f} s, {self.events_per_s:,.0f} events/s -> {self.data_dir}"
        )


def write_json(path: Path, body: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _prepare(data_dir: Path) -> None:
    """Remove the previous world's folders (only those the generator owns)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in OWNED_SUBDIRS:
            target = data_dir / name
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.exists():
                shutil.rmtree(target)
            target.mkdir()
    except OSError as exc:
        raise GeneratorError(
            f"cannot write the demo world under {data_dir}: {exc.strerror or exc}. "
            "Choose a writable --data-dir (or DATA_DIR)."
        ) from exc


def _build(
    params: WorldParams, data_dir: Path, progress: Callable[[str], None]
) -> tuple[dict, int, int, int]:
    streams = rng_streams(params.seed)
    catalog = make_catalog()
    users = make_users(params, streams["users"])
    devices = make_devices(params, users, streams["devices"])
    database = DatabaseWriter(data_dir / OPDB_PATH, users, catalog)
    try:
        world = simulate(params, users, devices, catalog, streams)
        progress(f"simulated {world.log.n:,} events in {world.sessions.n:,} sessions")
        database.finish(world.listings)
        truth, delivery, files = _write_events(
            params, data_dir, streams, world, users, devices, progress
        )
        database.wait()
    except BaseException:
        database.cancel()
        raise
    progress(f"operational DB: {users.n:,} users, {world.listings.n:,} listings")
    truth["landing"] = landing_truth(params, delivery, files)
    injected = 0
    if params.corrupt:
        from dataplatform.generator.corrupt import inject_corruption

        cases = inject_corruption(params, data_dir, delivery, files, streams["corrupt"])
        write_json(data_dir / CORRUPTION_PATH, cases)
        injected = len(cases["cases"])
        progress(f"corruption: {injected} cases recorded in {CORRUPTION_PATH}")
    return truth, world.log.n, len(delivery.line_event), injected


def _write_events(
    params: WorldParams,
    data_dir: Path,
    streams: dict[str, np.random.Generator],
    world: SimulatedWorld,
    users: Users,
    devices: Devices,
    progress: Callable[[str], None],
) -> tuple[dict, Delivery, list[WrittenFile]]:
    """Landing files and ground truth. Independent steps run on worker threads: Arrow, numpy,
    DuckDB and zlib release the GIL for their heavy work."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="prepare") as helpers:
        session_uuid = uuid4_bytes(streams["ids"], world.sessions.n)
        event_uuid = uuid4_bytes(streams["ids"], world.log.n)
        fragments = helpers.submit(session_fragments, world.sessions, session_uuid, users, devices)
        properties = helpers.submit(properties_json, world.log, world.draft_uuid, users, params)
        delivery = plan_delivery(params, world.log, streams["delivery"])
        truth_job = helpers.submit(compute_truth, params, world, devices, delivery)
        event_device = world.sessions.device[world.log.session]
        columns = EventColumns(
            event_uuid=event_uuid,
            type_code=world.log.type_code,
            written_ts=delivery.written_ts,
            session=world.log.session,
            zone=devices.zone[event_device],
            utc_style=devices.utc_style[event_device],
            session_fragment=fragments.result(),
            properties=properties.result(),
        )
        del event_device
        files = write_landing(
            data_dir,
            delivery,
            columns,
            lambda day, lines, n_files: progress(f"dt={day}: {lines:,} lines in {n_files} files"),
        )
        truth = truth_job.result()
    return truth, delivery, files


def generate_world(
    data_dir: Path,
    days: int,
    users: int,
    seed: int,
    start_date: date = DEFAULT_START_DATE,
    events_per_day: int | None = None,
    corrupt: bool = False,
    progress: Callable[[str], None] | None = None,
) -> WorldSummary:
    """Generate the demo world under data_dir, replacing any previous one.

    Raises GeneratorError for problems the caller can fix (bad arguments, unwritable folder).
    """
    started = time.perf_counter()
    params = build_params(days, users, seed, start_date, events_per_day, corrupt)
    data_dir = Path(data_dir)
    _prepare(data_dir)
    report = progress or (lambda _message: None)
    try:
        truth, n_events, n_lines, injected = _build(params, data_dir, report)
    except OSError as exc:
        raise GeneratorError(f"writing the demo world under {data_dir} failed: {exc}") from exc
    write_json(data_dir / PARAMS_PATH, params.to_json())
    write_json(data_dir / TRUTH_PATH, truth)
    return WorldSummary(
        data_dir=data_dir,
        start_date=params.start_date,
        days=params.days,
        users=params.users,
        events=n_events,
        lines=n_lines,
        files=truth["landing"]["totals"]["files"],
        injected=injected,
        seconds=time.perf_counter() - started,
    )
