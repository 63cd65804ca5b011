"""Settings from environment variables, with the defaults of the embedded single-machine setup."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    source_db_url: str
    alert_webhook_url: str | None
    alert_email_to: str | None
    landing_deadline_hours: float
    # The durable lake (raw zone, quarantine, published versions) on an S3-compatible store,
    # e.g. ``s3://bucket/prefix``; None: they stay under DATA_DIR (docs/scale-out.md).
    lake_url: str | None = None

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing" / "events"

    @property
    def lake_dir(self) -> Path:
        """The local lake folder: the whole lake, or with ``lake_url`` its working part (batches
        being written, and batches waiting for their gate)."""
        return self.data_dir / "lake"

    @property
    def alerts_file(self) -> Path:
        return self.data_dir / "alerts" / "alerts.jsonl"

    @property
    def world_dir(self) -> Path:
        return self.data_dir / "world"


def default_source_db_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'source' / 'marketplace.sqlite'}"


def parse_lake_url(value: str | None) -> str | None:
    """``LAKE_URL`` without its trailing slash; empty means the lake is ``DATA_DIR/lake``."""
    url = (value or "").strip().rstrip("/")
    if not url:
        return None
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    if not url.startswith("s3://") or not bucket:
        raise ConfigError(
            f"LAKE_URL must be an s3:// URL such as s3://bucket/prefix, got {value!r}; "
            "leave it empty to keep the lake under DATA_DIR/lake"
        )
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR") or REPO_ROOT / "data").expanduser()
    if not data_dir.is_absolute():
        data_dir = (Path.cwd() / data_dir).resolve()
    raw_deadline = env.get("LANDING_DEADLINE_HOURS", "6")
    try:
        deadline = float(raw_deadline)
    except ValueError:
        raise ConfigError(
            f"LANDING_DEADLINE_HOURS must be a number of hours, got {raw_deadline!r}"
        ) from None
    return Settings(
        data_dir=data_dir,
        source_db_url=env.get("SOURCE_DB_URL") or default_source_db_url(data_dir),
        alert_webhook_url=env.get("ALERT_WEBHOOK_URL") or None,
        alert_email_to=env.get("ALERT_EMAIL_TO") or None,
        landing_deadline_hours=deadline,
        lake_url=parse_lake_url(env.get("LAKE_URL")),
    )
