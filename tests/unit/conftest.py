"""Fixtures of the demo world generator's tests: small worlds, built once per test session."""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dataplatform.generator import generate_world

GENERATOR_TEST_WORLD = {"days": 4, "users": 1000, "seed": 20261101, "start_date": date(2026, 11, 1)}


@dataclass(frozen=True)
class GeneratorLine:
    """One line of a clean landing file, as a consumer reads it."""

    file: str  # relative to the data dir
    number: int  # 1-based
    raw: bytes
    event: dict
    dt: date  # the landing folder's date
    occurred: datetime  # aware

    @property
    def skewed(self) -> bool:
        """More than 1 hour after the end of the landing day: invalid by contract."""
        day_end = datetime.combine(self.dt + timedelta(days=1), datetime.min.time(), UTC)
        return self.occurred > day_end + timedelta(hours=1)


def generator_read_file(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


@functools.cache
def generator_clean_lines(data_dir: Path) -> list[GeneratorLine]:
    """Every line of the clean landing files listed in truth.json, in file and line order.

    Cached: each world is read once per test session (worlds are never modified).
    """
    truth = json.loads((data_dir / "world/truth.json").read_text(encoding="utf-8"))
    lines = []
    for entry in truth["landing"]["files"]:
        payload = generator_read_file(data_dir / entry["path"])
        dt = date.fromisoformat(entry["path"].split("dt=")[1][:10])
        for number, raw in enumerate(payload.split(b"\n")[:-1], start=1):
            event = json.loads(raw)
            occurred = datetime.fromisoformat(event["occurred_at"])
            lines.append(GeneratorLine(entry["path"], number, raw, event, dt, occurred))
    return lines


def _world(tmp_path_factory: pytest.TempPathFactory, name: str, **overrides: object) -> Path:
    path = tmp_path_factory.mktemp(name)
    generate_world(path, **(GENERATOR_TEST_WORLD | overrides))
    return path


@pytest.fixture(scope="session")
def generator_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory, "generator_world")


@pytest.fixture(scope="session")
def generator_world_again(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory, "generator_world_again")


@pytest.fixture(scope="session")
def generator_world_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory, "generator_world_other_seed", seed=7)


@pytest.fixture(scope="session")
def generator_long_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Few users over 30 days: long enough for the 7- and 28-day windows to matter."""
    return _world(tmp_path_factory, "generator_long_world", days=30, users=900, seed=3)


@pytest.fixture(scope="session")
def generator_corrupt_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _world(tmp_path_factory, "generator_corrupt_world", corrupt=True)


@pytest.fixture(scope="session")
def generator_lines(generator_world: Path) -> list[GeneratorLine]:
    return generator_clean_lines(generator_world)


@pytest.fixture(scope="session")
def generator_truth(generator_world: Path) -> dict:
    return json.loads((generator_world / "world/truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def generator_event_schema() -> dict:
    path = Path(__file__).parents[2] / "plugins/dataplatform/contract/event.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def generator_corrupt_lines(generator_corrupt_world: Path) -> list[GeneratorLine]:
    return generator_clean_lines(generator_corrupt_world)


@pytest.fixture(scope="session")
def generator_line_reader():
    """Reads every clean landing line of a generated world (see generator_clean_lines)."""
    return generator_clean_lines


@pytest.fixture(scope="session")
def generator_reader():
    """Reads a landing file's bytes, decompressing .gz."""
    return generator_read_file
