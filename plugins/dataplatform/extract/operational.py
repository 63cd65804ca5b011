"""Incremental extraction of the operational database through SQLAlchemy.

Each logical date D extracts the rows changed in ``(watermark, end of D]``, where the watermark is
the upper bound of the latest published extraction before D. Every extraction is kept, so the
raw zone holds every version of a row that was seen (the history of a listing's category); the
current state is the latest version per key.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dataplatform import lake


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str
    columns: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    incremental: bool = True  # False: the table is small and has no updated_at; snapshot it


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "users",
            "user_id",
            (
                "user_id",
                "email",
                "phone",
                "full_name",
                "country",
                "signup_at",
                "is_seller",
                "updated_at",
            ),
            timestamps=("signup_at", "updated_at"),
        ),
        TableSpec(
            "listings",
            "listing_id",
            (
                "listing_id",
                "seller_id",
                "category_id",
                "title",
                "description",
                "price",
                "currency",
                "status",
                "created_at",
                "updated_at",
            ),
            timestamps=("created_at", "updated_at"),
        ),
        TableSpec(
            "categories", "category_id", ("category_id", "parent_id", "name"), incremental=False
        ),
    )
}
CHUNK_ROWS = 200_000


class SourceError(RuntimeError):
    """The operational database cannot be read as the contract says; the message says why."""


def operational_dir(lake_dir: Path) -> lake.LakePath:
    return lake.durable_root(lake_dir) / "raw" / "operational"


def extraction_dir(lake_dir: Path, table: str, day: date) -> lake.LakePath:
    return operational_dir(lake_dir) / table / f"extracted_date={day.isoformat()}"


def pending_extraction_dir(lake_dir: Path, table: str, day: date) -> Path:
    return lake_dir / "raw" / "_pending" / "operational" / table / f"extracted_date={day}"


def safe_url(url: str) -> str:
    """The URL without its password, fit for logs, manifests and alerts."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _watermark(lake_dir: Path, table: str, day: date) -> datetime | None:
    """Upper bound of the latest published extraction before ``day`` (None: extract all)."""
    best: tuple[date, datetime] | None = None
    for manifest in (operational_dir(lake_dir) / table).glob(f"*/{lake.MANIFEST_NAME}"):
        content = json.loads(manifest.read_text())
        extracted = date.fromisoformat(content["extracted_date"])
        if extracted < day and (best is None or extracted > best[0]):
            best = (extracted, datetime.fromisoformat(content["until"]))
    return best[1] if best else None


def _changed_since(dialect: str, column: sa.ColumnElement) -> sa.ColumnElement:
    # SQLite keeps timestamps as text in several ISO spellings; datetime() normalises them to
    # 'YYYY-MM-DD HH:MM:SS' so that the bounds compare as instants, not as strings.
    return sa.func.datetime(column) if dialect == "sqlite" else column


def _bound(dialect: str, moment: datetime) -> object:
    if dialect == "sqlite":
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return moment


def _check_columns(inspector: sa.Inspector, spec: TableSpec) -> None:
    if not inspector.has_table(spec.name):
        raise SourceError(f"the operational database has no table {spec.name!r}")
    present = {c["name"] for c in inspector.get_columns(spec.name)}
    missing = [c for c in spec.columns if c not in present]
    if missing:
        raise SourceError(
            f"table {spec.name!r} lacks column(s) {', '.join(missing)} of the contract; "
            "the source schema changed: update the extraction or fix the source"
        )


def _normalise(frame: pd.DataFrame, spec: TableSpec) -> pa.Table:
    for column in spec.timestamps:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    if "is_seller" in frame:
        frame["is_seller"] = frame["is_seller"].astype("boolean")
    if "price" in frame:
        frame["price"] = pd.to_numeric(frame["price"]).astype("float64")
    return pa.Table.from_pandas(frame, preserve_index=False)


@dataclass(frozen=True)
class Extraction:
    table: str
    extracted_date: str
    since: str | None
    until: str
    rows: int


def extract_table(engine: sa.Engine, lake_dir: Path, spec: TableSpec, day: date) -> Extraction:
    """Extract one table's changes for ``day`` into its pending folder (replacing a re-run's)."""
    until = datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone.utc)
    since = _watermark(lake_dir, spec.name, day) if spec.incremental else None
    dialect = engine.dialect.name
    table = sa.table(spec.name, *(sa.column(c) for c in spec.columns))
    query = sa.select(*table.columns)
    if spec.incremental:
        changed = _changed_since(dialect, table.c.updated_at)
        query = query.where(changed <= _bound(dialect, until))
        if since is not None:
            query = query.where(changed > _bound(dialect, since))
    query = query.order_by(table.c[spec.key])

    stage = lake.new_staging_dir(lake_dir, f"operational-{spec.name}-{day}")
    rows = 0
    with engine.connect() as con:
        for number, frame in enumerate(pd.read_sql(query, con, chunksize=CHUNK_ROWS)):
            pq.write_table(_normalise(frame, spec), stage / f"part-{number:05d}.parquet")
            rows += len(frame)
    extraction = Extraction(
        table=spec.name,
        extracted_date=day.isoformat(),
        since=since.isoformat() if since else None,
        until=until.isoformat(),
        rows=rows,
    )
    manifest = {**extraction.__dict__, "key": spec.key, "columns": list(spec.columns)}
    (stage / lake.MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    lake.replace_dir(stage, pending_extraction_dir(lake_dir, spec.name, day))
    shutil.rmtree(stage, ignore_errors=True)
    return extraction


def extract_all(source_url: str, lake_dir: Path, day: date) -> list[Extraction]:
    """Extract every table for ``day``; a source the contract cannot read raises SourceError."""
    try:
        url = make_url(source_url)
        in_memory = url.database in (None, "", ":memory:")
        is_file_db = url.get_backend_name() == "sqlite" and not in_memory
        if is_file_db and not Path(url.database).is_file():
            raise SourceError(
                f"the operational database file {url.database} does not exist; "
                "generate the demo world (make world) or set SOURCE_DB_URL"
            )
        engine = sa.create_engine(url)
    except SourceError:
        raise
    except Exception as err:  # a malformed URL or a missing driver
        raise SourceError(f"cannot use SOURCE_DB_URL {safe_url(source_url)}: {err}") from None
    try:
        inspector = sa.inspect(engine)
        for spec in TABLES.values():
            _check_columns(inspector, spec)
        return [extract_table(engine, lake_dir, spec, day) for spec in TABLES.values()]
    except sa.exc.SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise SourceError(
            f"cannot read the operational database {safe_url(source_url)}: {reason}"
        ) from None
    finally:
        engine.dispose()


def promote_extractions(lake_dir: Path, day: date) -> None:
    for spec in TABLES.values():
        lake.replace_dir(
            pending_extraction_dir(lake_dir, spec.name, day),
            extraction_dir(lake_dir, spec.name, day),
            marker=lake.MANIFEST_NAME,
        )
