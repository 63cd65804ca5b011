"""Publish the audited candidate as a new version: one read-only DuckDB file per role.

Most of a role's objects are small and copied whole into its file. The tables that grow with
history (:data:`SEGMENTED`) are not copied into every version: each is cut into *segments*, the
rows of one bucket of a key that grows with creation (``listing_id // 32768``: new listings land
in the last buckets, old buckets rarely change), every segment a Parquet file named by a
fingerprint of its content (its columns and their types, its row count and the sum of its rows'
hashes, computed in DuckDB over what the role sees) under
``published/segments/<role>/<table>/<fingerprint>.parquet``. A version writes only the segments
no earlier version has, and its role file holds a view over its segments with the table's
columns, names, order and types. Columns that keep changing long after a row is created (a
listing's contacts) are kept apart, one segment for the whole table joined back on the key, so
that their changes do not rewrite the text; a column holding the version id (every row would
change with every version) is not stored and comes back in the view as a constant.

A segment of stable columns is named by its content, so it is reused exactly when its rows are
the same. Reading every row to know it would grow with history: with dbt's manifest, a bucket
whose *signature* (its sources' row hashes, see :mod:`dataplatform.publish.lineage`) an
earlier version recorded is known by the rows and hash sum it recorded, without reading it;
only the buckets whose sources changed (the last days' listings, mostly) are read. The
changing columns' segment is then named by the signature of the whole table, so no publish
reads all of history; it is still written whole when any of them changed. A bucket read that
only got new rows keeps its segments and gets one of the new rows. Without a usable
lineage every row is read, as the content alone tells. The manifest lists each table's
segments; :mod:`dataplatform.publish.versions` says how readers find them and when retention
deletes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from dataplatform import lake, storage
from dataplatform.config import REPO_ROOT
from dataplatform.gates.runner import result_path
from dataplatform.privacy import prepare_session
from dataplatform.publish.lineage import (
    Lineage,
    bucket_signatures,
    digest,
    read_lineage,
    table_columns,
)
from dataplatform.publish.versions import (
    MANIFEST,
    RETAIN_VERSIONS,
    ROLE_FILE_MODE,
    ROLES,
    SEGMENTS,
    PublishedLayout,
    current_version,
    list_versions,
    local_segments_root,
    point_current_at,
    prune,
    segment_files,
    segments_view_sql,
)
from dataplatform.sql import quote_identifier, sql_literal
from dataplatform.storage import LakePath

log = logging.getLogger(__name__)


def code_version() -> str:
    """The git commit of the code that built the data, marked dirty if the tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(REPO_ROOT),
                "status",
                "--porcelain",
                "--",
                "dags",
                "plugins",
                "dbt_project",
                "expectations",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def input_checksums(data_dir: Path, up_to: date) -> dict[str, str]:
    """sha256 of every landing file and extraction that the version's inputs include (committed
    batches only: a batch's manifest is its commit marker). Keys are the same whether the lake
    is local or on S3, so the same inputs and code give the same version id on either."""
    from dataplatform.extract.operational import operational_dir

    lake_dir = data_dir / "lake"
    checksums: dict[str, str] = {}
    events = lake.raw_events_dir(lake_dir).glob(f"batch_date=*/{lake.MANIFEST_NAME}")
    for manifest in sorted(events, key=str):
        content = json.loads(manifest.read_text())
        if date.fromisoformat(content["batch_date"]) <= up_to:
            for entry in content["files"]:
                checksums[entry["file"]] = entry["sha256"]
    extractions = operational_dir(lake_dir).glob(f"*/extracted_date=*/{lake.MANIFEST_NAME}")
    for manifest in sorted(extractions, key=str):
        body = manifest.read_bytes()
        if date.fromisoformat(json.loads(body)["extracted_date"]) <= up_to:
            folder = manifest.parent
            key = f"lake/raw/operational/{folder.parent.name}/{folder.name}"
            checksums[key] = hashlib.sha256(body).hexdigest()
    return checksums


def make_version_id(logical_date: date, checksums: dict[str, str], code: str) -> str:
    """Same inputs and code give the same id: re-publishing a date is recognisable as such."""
    digest = hashlib.sha256(json.dumps([checksums, code], sort_keys=True).encode()).hexdigest()
    return f"{logical_date.isoformat()}-{digest[:10]}"


def plan_version(data_dir: Path, logical_date: date) -> tuple[str, dict]:
    """The version a run of ``logical_date`` publishes, and its manifest fields. dbt stamps the
    id on the training set and publish names the version with it: one derivation for both."""
    checksums = input_checksums(data_dir, logical_date)
    code = code_version()
    manifest = {
        "logical_date": logical_date.isoformat(),
        "code_version": code,
        "inputs": checksums,
    }
    return make_version_id(logical_date, checksums, code), manifest


# The gates that audit a candidate, by suite.
AUDIT_SUITES = ("raw_events_batch", "raw_operational", "staging_events", "marts")


def audit_record(data_dir: Path, logical_date: date, dbt_manifest: Path) -> dict:
    """What audited the candidate: the hash of the dbt manifest that built it, and the outcome
    of each gate of the date (a missing result is recorded as such, never assumed passed)."""
    try:
        manifest_sha256 = hashlib.sha256(dbt_manifest.read_bytes()).hexdigest()
    except OSError:
        manifest_sha256 = None
    gates = {}
    for suite in AUDIT_SUITES:
        path = result_path(data_dir / "quality", logical_date.isoformat(), suite)
        try:
            gate = json.loads(path.read_text())["gate"]
            gates[suite] = {
                "success": bool(gate["success"]),
                "evaluated": gate["evaluated"],
                "failed": len(gate["failures"]),
                "result": path.relative_to(data_dir).as_posix(),
            }
        except (OSError, ValueError, KeyError, TypeError):
            gates[suite] = {"success": None, "result": None}
    return {"dbt_manifest_sha256": manifest_sha256, "gates": gates}


@dataclass(frozen=True)
class Segmenting:
    """How a table that grows with history is cut into segments."""

    key: str  # an integer that grows with creation: old buckets rarely get rows or change
    bucket: int  # key values per segment
    changing: tuple[str, ...] = ()  # columns that change long after a row is created
    stamps: tuple[str, ...] = ()  # columns holding one value per version (the version id)
    # Tables of the view's lineage kept by the same key, with a row_hash (see
    # dataplatform.publish.lineage); those of them that feed only the changing columns (and never
    # add or drop a row) are left out of the signatures of the other columns.
    sources: tuple[str, ...] = ()
    changing_sources: tuple[str, ...] = ()


# listing_id is assigned in creation order. 32,768 listings are about 4 days at 1 M events a
# day, 10 hours at 10 M: late events (3 days) touch the last few buckets, and a view reads a
# few hundred files after a year at 10 M, not thousands. A listing's contacts change as long as
# it lives, the columns about its first 7 days for 10 days (late events); the rest (its text
# above all) never, once created.
LISTING_BUCKET = 32768
LISTING_CHANGING = (
    "changed_within_7_days",
    "category_id_after_7_days",
    "contacts",
    "first_contact_at",
    "contacts_within_7_days",
    "contacted_within_7_days",
)
LISTING_SOURCES = ("int_listing_lifecycle", "int_listing_training_texts", "int_listing_contacts")
SEGMENTED: dict[str, Segmenting] = {
    "listing_facts": Segmenting(
        "listing_id",
        LISTING_BUCKET,
        changing=LISTING_CHANGING,
        sources=LISTING_SOURCES,
        changing_sources=("int_listing_contacts",),
    ),
    "category_training_set": Segmenting(
        "listing_id",
        LISTING_BUCKET,
        changing=("category_id",),
        stamps=("version_id",),
        sources=LISTING_SOURCES,
    ),
}
# Part of every fingerprint: a change to how segments are written changes their names.
SEGMENT_FORMAT = 1
# Types Parquet does not hold exactly (DuckDB writes a HUGEINT as a DOUBLE): such a table is
# copied whole instead.
NOT_IN_PARQUET = ("HUGEINT", "UHUGEINT", "BIT", "VARINT", "BIGNUM")
ALL_ROWS = "all"  # the bucket of a segment that holds the whole table (its changing columns)
# A bucket that keeps getting new rows (the newest listings', late ones) gets a segment of them
# each time, up to this many segments; then it is written again whole, as one.
MAX_ARRIVALS = 8
INTEGER_KEYS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


@dataclass
class _Group:
    """Some of a table's columns (the key first among them), segment by segment."""

    columns: list[str]
    segments: list[dict] = field(default_factory=list)  # file, fingerprint, bucket, rows


@dataclass
class _SegmentedTable:
    role: str
    name: str
    rule: Segmenting
    columns: list[tuple[str, str]]  # the table's columns and their types, in order
    constants: dict[str, str | None]  # stamped columns, not stored: their one value as text
    groups: list[_Group]
    buckets_read: int = 0  # buckets whose stable columns were read (not known by signature)
    # A segment of a bucket's new rows: the files of the bucket's earlier rows, left out.
    after: dict[str, list[str]] = field(default_factory=dict)

    def spec(self) -> dict:
        """What the manifest records, and what its view is made from."""
        return {
            "key": self.rule.key,
            "columns": [list(column) for column in self.columns],
            "constants": self.constants,
            "groups": [{"columns": g.columns, "segments": g.segments} for g in self.groups],
        }


def _role_objects(con: duckdb.DuckDBPyConnection, role: str) -> list[str]:
    # The schema as a literal, not a prepared parameter: with a parameter DuckDB cannot push
    # the filter down, and the first such query of a process took 0.65 s on a 360 MB
    # warehouse (3 ms with the literal).
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = "
        f"current_database() and table_schema = {sql_literal(role)} order by table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _columns_sql(names: list[str]) -> str:
    return ", ".join(quote_identifier(n) for n in names)


@dataclass(frozen=True)
class _Bucket:
    number: int | str | None  # key // bucket size; None: rows without a key; ALL_ROWS
    rows: int
    unique: bool  # the key names one row each
    sums: dict[str, int]  # the sum of the rows' hashes, by set of columns


@dataclass(frozen=True)
class TableLineage:
    """What a segmented table's lineage tells of its rows without reading them (see
    :mod:`dataplatform.publish.lineage`)."""

    stable: dict[int | None, str]  # per bucket, the signature of its stable columns' rows
    whole: str  # the signature of all of its rows (the changing columns' sources included)
    stamp: str  # the value of its stamped columns (the version id), which signatures leave out
    known: dict[str, list[dict]]  # by signature, the segments earlier versions wrote of it
    # The current version's spec of the table, when this publish can read its segments (under
    # ``root``): a bucket that only got new rows keeps its segments, and one of the new rows is
    # added.
    previous: dict | None = None
    root: str = ""


def _segment(role: str, name: str, identity: list, bucket: int | str | None, rows: int) -> dict:
    fingerprint = digest(identity)[:32]
    return {
        "file": f"{SEGMENTS}/{role}/{name}/{fingerprint}.parquet",
        "fingerprint": fingerprint,
        "bucket": bucket,
        "rows": rows,
    }


def _content_identity(
    rule: Segmenting,
    types: dict[str, str],
    names: list[str],
    number: int | str | None,
    rows: int,
    sums: list[str],
) -> list:
    """What names a segment: its columns and their types, its bucket, its rows and the sums of
    their hashes (by set of columns)."""
    return [
        SEGMENT_FORMAT,
        rule.key,
        rule.bucket,
        [[c, types[c]] for c in names],
        number,
        rows,
        sums,
    ]


def _buckets_where(key: str, size: int, numbers: list[int | None]) -> str:
    """Rows in the buckets ``numbers``; the lower bound lets DuckDB skip the older row groups
    (``//`` truncates: the bound holds for positive buckets only)."""
    integers = [n for n in numbers if n is not None]
    parts = []
    if integers:
        low = min(integers)
        bound = f" and {key} >= {low * size}" if low > 0 else ""
        parts.append(f"({key} // {size} in ({', '.join(map(str, integers))}){bound})")
    if None in numbers:
        parts.append(f"{key} is null")
    return " or ".join(parts)


def fingerprint_segments(
    con: duckdb.DuckDBPyConnection,
    role: str,
    name: str,
    rule: Segmenting,
    lineage: TableLineage | None = None,
) -> _SegmentedTable | None:
    """Cut ``role.name`` into segments, with their fingerprints. None when the table cannot be
    segmented (no integer key, a type Parquet does not hold): it is then copied whole.

    Segments of stable columns are named by their content: by bucket of the key, its rows,
    whether the key names one row each, and the sum of the rows' hashes over the columns stored
    together. With its ``lineage``, only the buckets whose signature no earlier version recorded
    are read, and the changing columns' segment is named by the whole table's signature
    (:func:`_segments_by_lineage`); otherwise every row is read."""
    columns = table_columns(con, role, name)
    types = dict(columns)
    if types.get(rule.key) not in INTEGER_KEYS or any(
        t in type_ for type_ in types.values() for t in NOT_IN_PARQUET
    ):
        return None
    changing = [c for c, _ in columns if c in rule.changing and c != rule.key]
    stamps = [c for c, _ in columns if c in rule.stamps and c != rule.key and c not in changing]
    stable = [c for c, _ in columns if c not in changing and c not in stamps]  # with the key
    if lineage is not None and changing:
        table = _segments_by_lineage(con, role, name, rule, columns, changing, stamps, lineage)
        if table is not None:
            return table
    key = quote_identifier(rule.key)
    source = f"{role}.{quote_identifier(name)}"
    sums = {"changing": [rule.key, *changing], "stable": stable}
    sums |= {f"stamp {s}": [s] for s in stamps}
    stamp_values = [
        f"{aggregate}({quote_identifier(s)}){cast}"
        for s in stamps
        for aggregate, cast in (("min", "::varchar"), ("max", "::varchar"), ("count", ""))
    ]
    buckets, seen = [], {s: [] for s in stamps}
    for number, rows, unique, *values in con.execute(
        f"select {key} // {rule.bucket}, count(*), "
        f"count({key}) = count(*) and count(distinct {key}) = count(*), "
        + ", ".join([*(f"sum(hash({_columns_sql(c)}))" for c in sums.values()), *stamp_values])
        + f" from {source} group by 1 order by 1 nulls last"
    ).fetchall():
        buckets.append(_Bucket(number, rows, unique, dict(zip(sums, values, strict=False))))
        for index, stamp in enumerate(stamps):
            seen[stamp].append((rows, *values[len(sums) + 3 * index :][:3]))
    # A stamp stays out of the segments if the whole table holds one value of it (the view puts
    # it back); otherwise it is stored with the columns that change.
    constants: dict[str, str | None] = {}
    for stamp, per_bucket in seen.items():
        values = {low for _, low, _, _ in per_bucket} | {high for _, _, high, _ in per_bucket}
        if len(values) <= 1 and all(rows == filled for rows, _, _, filled in per_bucket):
            constants[stamp] = next(iter(values), None)
    changing += [s for s in stamps if s not in constants]
    changing_sums = ["changing", *(f"stamp {s}" for s in stamps if s not in constants)]
    buckets = buckets or [_Bucket(None, 0, True, {})]  # empty: one empty segment keeps the types
    split = bool(changing) and all(b.unique for b in buckets)

    def group(names: list[str], sets: list[str], buckets: list[_Bucket]) -> _Group:
        found = _Group(names)
        for bucket in buckets:
            sums = [str(bucket.sums.get(s) or 0) for s in sets]
            identity = _content_identity(rule, types, names, bucket.number, bucket.rows, sums)
            found.segments.append(_segment(role, name, identity, bucket.number, bucket.rows))
        return found

    stored = [c for c, _ in columns if c not in constants]
    if not split:
        # Nothing to keep apart, or the changing columns could not be joined back on the key.
        groups = [group(stored, ["stable", *changing_sums], buckets)]
        return _SegmentedTable(role, name, rule, columns, constants, groups, len(buckets))
    # The changing columns change anywhere: one segment for the whole table (hash sums add up).
    whole = _Bucket(
        ALL_ROWS,
        sum(b.rows for b in buckets),
        True,
        {s: sum(b.sums.get(s) or 0 for b in buckets) for s in changing_sums},
    )
    groups = [
        group([c for c in stored if c not in changing], ["stable"], buckets),
        group([c for c in stored if c == rule.key or c in changing], changing_sums, [whole]),
    ]
    return _SegmentedTable(role, name, rule, columns, constants, groups, len(buckets))


def _segments_by_lineage(
    con: duckdb.DuckDBPyConnection,
    role: str,
    name: str,
    rule: Segmenting,
    columns: list[tuple[str, str]],
    changing: list[str],
    stamps: list[str],
    lineage: TableLineage,
) -> _SegmentedTable | None:
    """The table's segments, reading only the buckets whose signature no earlier version
    recorded. A bucket's stable columns are named by their content, as without a lineage: a
    recorded signature gives its segments (their rows and the sums of their rows' hashes), and
    one row per key (a signature is recorded only then); the other buckets are read for them.
    A bucket read whose rows in the current version (``lineage.previous``) are all there, with
    the same count and sum, keeps those segments and gets one of its other rows, up to
    :data:`MAX_ARRIVALS` segments; otherwise it is one segment of all its rows. The changing
    columns (one segment for the whole table) are named by the whole table's signature, so that
    no publish reads all of history. None when the signatures cannot tell (a key naming several
    rows, a stamp that is not the version id on every row, no rows): the content then decides.

    A recorded bucket's stamps are the version id: the signature is recorded only for a bucket
    checked to hold, on every row, the version id that published it, and it replaces that id
    with a placeholder."""
    types = dict(columns)
    stable = [c for c, _ in columns if c not in changing and c not in stamps]
    # What the signature of a bucket says of its stored stable columns, the stamps held apart.
    stored_as = [SEGMENT_FORMAT, [[c, types[c]] for c in stable], ["stamps", *stamps]]
    usable = {n: digest([signature, *stored_as]) for n, signature in lineage.stable.items()}
    found = {n: lineage.known[u] for n, u in usable.items() if u in lineage.known}
    unknown = [n for n in usable if n not in found]
    after: dict[str, list[str]] = {}
    if unknown:
        key = quote_identifier(rule.key)
        columns_of_view = ", ".join(f"v.{quote_identifier(c)}" for c in stable)
        stamped = [
            f"min(v.{quote_identifier(s)})::varchar = {sql_literal(lineage.stamp)} "
            f"and max(v.{quote_identifier(s)})::varchar = {sql_literal(lineage.stamp)} "
            f"and count(v.{quote_identifier(s)}) = count(*)"
            for s in stamps
        ]
        earlier_segments = _previous_segments(lineage.previous, stable, types)
        previous = {
            n: earlier_segments[n]
            for n in unknown
            if 0 < len(earlier_segments.get(n, ())) < MAX_ARRIVALS
        }
        files = [f"{lineage.root}/{s['file']}" for n in previous for s in previous[n]]
        before = (
            f"select {key} as earlier from read_parquet([{', '.join(map(sql_literal, files))}])"
            if files
            else f"select null::{types[rule.key]} as earlier limit 0"
        )
        for number, rows, unique, hashes, earlier, earlier_hashes, *stamp_checks in con.execute(
            f"select v.{key} // {rule.bucket}, count(*), "
            f"count(v.{key}) = count(*) and count(distinct v.{key}) = count(*), "
            f"sum(hash({columns_of_view})), count(b.earlier), "
            f"coalesce(sum(hash({columns_of_view})) filter (where b.earlier is not null), 0)"
            + "".join(f", {check}" for check in stamped)
            + f" from {role}.{quote_identifier(name)} as v left join ({before}) as b "
            f"on v.{key} = b.earlier where {_buckets_where(f'v.{key}', rule.bucket, unknown)} "
            "group by 1"
        ).fetchall():
            if number not in usable or not unique or not all(stamp_checks):
                return None
            kept = previous.get(number, [])
            if (
                kept
                and earlier == sum(s["rows"] for s in kept)
                and earlier_hashes == sum(int(s["sum"]) for s in kept)
            ):
                # The bucket's earlier rows are all there, unchanged: only new rows are written.
                found[number] = list(kept)
                if rows > earlier:
                    sums = [str(hashes - earlier_hashes)]
                    identity = _content_identity(rule, types, stable, number, rows - earlier, sums)
                    added = _segment(role, name, identity, number, rows - earlier)
                    found[number].append(added | {"sum": sums[0]})
                    after[added["file"]] = [f"{lineage.root}/{s['file']}" for s in kept]
            else:
                identity = _content_identity(rule, types, stable, number, rows, [str(hashes)])
                found[number] = [
                    _segment(role, name, identity, number, rows) | {"sum": str(hashes)}
                ]
    if not found:
        return None
    kept = _Group(stable)
    for number in sorted(found, key=lambda n: (n is None, n or 0)):
        for segment in found[number]:
            kept.segments.append(segment | {"signature": usable[number]})
    apart = [rule.key, *changing]
    total = sum(s["rows"] for s in kept.segments)
    identity = [*_content_identity(rule, types, apart, ALL_ROWS, total, []), lineage.whole]
    changed = _Group(apart, [_segment(role, name, identity, ALL_ROWS, total)])
    constants: dict[str, str | None] = dict.fromkeys(stamps, lineage.stamp)
    return _SegmentedTable(
        role, name, rule, columns, constants, [kept, changed], len(unknown), after
    )


def _bucket_filter(key: str, bucket: int | str | None, size: int) -> str:
    """Rows of one bucket; the range lets DuckDB skip row groups (``//`` truncates: the range
    is the bucket's for positive buckets only)."""
    if bucket == ALL_ROWS:
        return "true"
    if bucket is None:
        return f"{key} is null"
    bounds = (
        f" and {key} >= {bucket * size} and {key} < {(bucket + 1) * size}" if bucket > 0 else ""
    )
    return f"{key} // {size} = {bucket}{bounds}"


def write_segments(
    con: duckdb.DuckDBPyConnection, table: _SegmentedTable, new: set[str], folder: Path
) -> None:
    """Write the table's segments named in ``new`` under ``folder`` (each one written aside,
    then renamed: a segment's file is complete or absent), read-only like the role files. Each
    segment is read from the view with its bucket's key range, which DuckDB pushes down to the
    tables under the view (reading several buckets into a temporary table first cost more)."""
    key = quote_identifier(table.rule.key)
    size = table.rule.bucket
    source = f"{table.role}.{quote_identifier(table.name)}"
    for group in table.groups:
        columns = _columns_sql(group.columns)
        for segment in (s for s in group.segments if s["file"] in new):
            target = folder / segment["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            aside = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
            where = _bucket_filter(key, segment["bucket"], size)
            if segment["file"] in table.after:
                earlier = ", ".join(map(sql_literal, table.after[segment["file"]]))
                where += f" and {key} not in (select {key} from read_parquet([{earlier}]))"
            order = "" if segment["bucket"] == ALL_ROWS else f" order by {key}"
            con.execute(
                f"copy (select {columns} from {source} where {where}{order}) "
                f"to {sql_literal(str(aside))} (format parquet)"
            )
            os.chmod(aside, ROLE_FILE_MODE)
            os.replace(aside, target)


def write_role_database(
    con: duckdb.DuckDBPyConnection, role: str, target: Path, views: dict[str, str]
) -> list[str]:
    """The role's file: each of its access views copied whole into a table, but those in
    ``views`` (name: query), which become views over their segments."""
    con.execute(f"attach {sql_literal(str(target))} as role_db")
    try:
        names = _role_objects(con, role)
        for name in names:
            qualified = f"role_db.main.{quote_identifier(name)}"
            if name in views:
                con.execute(f"create view {qualified} as {views[name]}")
            else:
                con.execute(
                    f"create table {qualified} as select * from {role}.{quote_identifier(name)}"
                )
    finally:
        con.execute("detach role_db")
    return names


def _known_segments(
    layout: PublishedLayout,
) -> tuple[set[str], dict[tuple[str, str], dict[str, list[dict]]], dict[tuple[str, str], dict]]:
    """The segments published versions list (they exist until no kept version lists them); by
    role and table, the segments of stable columns they recorded by signature; and the current
    version's spec of each segmented table."""
    manifests = list_versions(layout)
    recorded: dict[tuple[str, str], dict[str, list[dict]]] = {}
    current: dict[tuple[str, str], dict] = {}
    pointed = current_version(layout)
    for manifest in manifests:
        for role, tables in manifest.get("segments", {}).items():
            for name, spec in tables.items():
                if manifest["version_id"] == pointed:
                    current[(role, name)] = spec
                by_signature: dict[str, list[dict]] = {}
                for segment in spec["groups"][0]["segments"]:
                    if "signature" in segment and "sum" in segment:
                        by_signature.setdefault(segment["signature"], []).append(segment)
                recorded.setdefault((role, name), {}).update(by_signature)
    return segment_files(manifests), recorded, current


def _previous_segments(
    spec: dict | None, stable: list[str], types: dict[str, str]
) -> dict[int | None, list[dict]]:
    """The stable columns' segments of a table's spec by bucket, when they were stored apart
    (two groups) with the same columns and types as now, each with its hash sum."""
    if not spec or len(spec["groups"]) != 2:
        return {}
    group = spec["groups"][0]
    before = dict(spec["columns"])
    if group["columns"] != stable or any(before.get(c) != types[c] for c in stable):
        return {}
    by_bucket: dict[int | None, list[dict]] = {}
    for segment in group["segments"]:
        if "sum" not in segment:
            return {}
        by_bucket.setdefault(segment["bucket"], []).append(segment)
    return by_bucket


def _table_lineage(
    con: duckdb.DuckDBPyConnection,
    lineages: dict[tuple[str, str], Lineage],
    role: str,
    name: str,
    version_id: str,
    known: dict[str, list[dict]],
    previous: dict | None,
    root: str,
    reads: dict[str, list],
) -> TableLineage | None:
    """What the table's lineage tells, or None when it is not known."""
    rule, lineage = SEGMENTED[name], lineages.get((role, name))
    if lineage is None or not rule.sources:
        return None
    # The version id is stamped into a view's text; publishing stores it apart (a constant).
    placeholders = {version_id: "<version id>"}
    whole = bucket_signatures(
        con, lineage, rule.key, rule.bucket, rule.sources, placeholders, reads
    )
    # The sources that feed only the changing columns are not part of the stable ones' rows.
    stable_sources = tuple(s for s in rule.sources if s not in rule.changing_sources)
    tables = tuple(t for t in lineage.tables if t[1] not in rule.changing_sources)
    stable = bucket_signatures(
        con,
        Lineage(lineage.views, tables),
        rule.key,
        rule.bucket,
        stable_sources,
        placeholders,
        reads,
    )
    if whole is None or stable is None:
        return None
    whole_signature = digest(sorted(whole.items(), key=str))
    return TableLineage(stable, whole_signature, version_id, known, previous, root)


def _upload(files: list[tuple[Path, LakePath]]) -> None:
    """Copy local files to the lake, concurrently."""
    if files:
        fs = files[0][1].fs
        fs.put([str(local) for local, _ in files], [remote.path for _, remote in files])


def publish_candidate(
    data_dir: Path,
    warehouse: Path,
    version_id: str,
    manifest: dict,
    keep: int = RETAIN_VERSIONS,
    dbt_manifest: Path | None = None,
) -> LakePath:
    """Publish the candidate as ``version_id`` and switch ``current`` to it. With the dbt
    manifest that built it, the segmented tables' lineage spares reading their unchanged buckets
    (:mod:`dataplatform.publish.lineage`).

    The new segments and the role files are written into a local folder first. Locally the
    segments are renamed into ``published/segments`` and the folder into place; on S3 the new
    segments are uploaded, then the role files, the manifest last, and only then does
    ``current`` move: a publish that fails at any point before the switch leaves what readers
    see untouched (segments no manifest lists are invisible, and retention deletes them)."""
    layout = PublishedLayout(data_dir / "published")
    final = layout.version_dir(version_id)
    if (final / MANIFEST).exists():
        # Same inputs and code: the content is already published; only the pointer moves.
        point_current_at(layout, version_id)
        return final
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(seconds.get(step, 0.0) + now - clock, 3)
        clock = now

    staging = layout.root / "versions" / f".{version_id}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    known, recorded, current = _known_segments(layout)
    lineages = read_lineage(dbt_manifest)
    source_reads: dict[str, list] = {}  # the same sources, read once for every role's view
    root = str(layout.store) if layout.remote else local_segments_root(layout.root)
    tables: dict[str, list[str]] = {}
    segments: dict[str, dict] = {}
    reused = read = buckets = 0
    # One connection: the warehouse is opened as the main database (not attached), so that in
    # a process where dbt still holds it open, DuckDB shares that instance.
    with duckdb.connect(str(warehouse)) as con:
        prepare_session(con)  # the access views pseudonymise with the session's key
        lap("open")
        segmented: list[_SegmentedTable] = []
        new: set[str] = set()
        for role in ROLES:
            for name in _role_objects(con, role):
                table = SEGMENTED.get(name) and fingerprint_segments(
                    con,
                    role,
                    name,
                    SEGMENTED[name],
                    _table_lineage(
                        con,
                        lineages,
                        role,
                        name,
                        version_id,
                        recorded.get((role, name), {}),
                        # segments on S3 are not read back: a bucket is written again whole
                        None if layout.remote else current.get((role, name)),
                        root,
                        source_reads,
                    ),
                )
                lap("fingerprint")
                if not table:
                    continue
                files = {s["file"] for g in table.groups for s in g.segments}
                read += table.buckets_read
                buckets += len({s["bucket"] for s in table.groups[0].segments})
                if not layout.remote:  # complete once there (renamed into place)
                    known |= {f for f in files if (layout.root / f).is_file()}
                write_segments(con, table, files - known, staging)
                reused += len(files & known)
                new |= files - known
                segmented.append(table)
                lap("write segments")
        if layout.remote:
            _upload([(staging / f, layout.store / f) for f in sorted(new)])
        else:
            for name in sorted(new):
                (layout.root / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / name, layout.root / name)
        shutil.rmtree(staging / SEGMENTS, ignore_errors=True)
        lap("place segments")
        for role in ROLES:
            specs = {t.name: t.spec() for t in segmented if t.role == role}
            views = {name: segments_view_sql(spec, root) for name, spec in specs.items()}
            path = staging / f"{role}.duckdb"
            tables[role] = write_role_database(con, role, path, views)
            os.chmod(path, ROLE_FILE_MODE)
            if specs:
                segments[role] = specs
        lap("role files")
    body = {
        "version_id": version_id,
        "published_at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        "tables": tables,
        "segments": segments,
        "segments_root": root,
        **manifest,
    }
    (staging / MANIFEST).write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    if layout.remote:
        # Objects of an earlier attempt that failed midway are overwritten: no manifest, so
        # nothing listed or pointed at them.
        storage.upload_folder(staging, final, last=MANIFEST)
        shutil.rmtree(staging)
    else:
        os.replace(staging, final)
    point_current_at(layout, version_id)
    lap("switch")
    prune(layout, keep)
    lap("prune")
    log.info(
        "published %s: %d segments written, %d reused; %d of %d buckets read; seconds %s",
        version_id,
        len(new),
        reused,
        read,
        buckets,
        seconds,
    )
    return final
