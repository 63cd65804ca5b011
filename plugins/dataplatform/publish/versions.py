"""Published versions: ``published/versions/<version_id>/`` and the ``current`` pointer.

A version is written whole before anything points at it, and never modified afterwards; its
``manifest.json`` is written last and marks it complete. ``current`` names the version served:

* local (``DATA_DIR/published``): a version is written under a temporary name and renamed into
  place; ``current`` is a symbolic link replaced with one ``rename``;
* S3 (``LAKE_URL``): a version's objects are uploaded under ``published/versions/<id>/``, its
  manifest last; ``current`` is the object ``published/CURRENT`` holding the version id,
  replaced with one PUT (atomic, and strongly consistent for the next read).

Either way a reader resolves ``current`` once and then reads that version only, so it sees the
old version or the new one, never a mix; a publish that fails before the switch leaves
``current`` and what it names untouched; rollback is one more switch. A reader holding an old
version's file keeps reading it: versions are never modified. On S3 a reader opens a role's
database from a local copy (:func:`role_database`): DuckDB cannot ATTACH a database file through
an fsspec filesystem (it takes ``s3://`` for a path that needs the ``httpfs`` extension).

**Segments.** The tables that grow with history are not copied into every version: they are
Parquet *segments* under ``published/segments/<role>/<table>/<fingerprint>.parquet``, named by
their content and shared between versions, and the role file holds a view over its version's
segments (:mod:`dataplatform.publish.publish` says how they are cut). Segments are never
modified either; the manifest lists each version's (``segments``), so retention deletes a
segment once no kept version lists it. The views name their segments by absolute path (a DuckDB
view cannot name a file relative to its database file), so a role file opened directly works
from any working directory as long as ``DATA_DIR`` stays where it was published: after moving
it, or with the lake on S3, open the path :func:`role_database` gives, a copy in the cache whose
views name the segments where they are now (on S3, downloaded next to it).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dataplatform import storage
from dataplatform.sql import quote_identifier, sql_literal
from dataplatform.storage import LakePath

ROLES = ("analyst", "data_scientist", "pii_reader")
RETAIN_VERSIONS = 30
MANIFEST = "manifest.json"
POINTER = "CURRENT"  # the pointer object on S3 (locally: the symbolic link ``current``)
SEGMENTS = "segments"  # under the published root: <role>/<table>/<fingerprint>.parquet
# Read-only for the owner and the role's group: a team maps each role to an OS group (README).
ROLE_FILE_MODE = stat.S_IRUSR | stat.S_IRGRP


class VersionError(ValueError):
    """A version that does not exist, or a published layer in an unexpected state."""


@dataclass(frozen=True)
class PublishedLayout:
    root: Path  # the local folder DATA_DIR/published (with LAKE_URL: its download cache)

    @property
    def store(self) -> LakePath:
        """Where the versions and the pointer live: ``root``, or ``LAKE_URL/published``."""
        return storage.published_root(self.root)

    @property
    def remote(self) -> bool:
        return storage.is_remote(self.store)

    @property
    def versions(self) -> LakePath:
        return self.store / "versions"

    @property
    def current(self) -> LakePath:
        return self.store / POINTER if self.remote else self.root / "current"

    def version_dir(self, version_id: str) -> LakePath:
        return self.versions / version_id

    @property
    def cache(self) -> Path:
        """Local copies of role databases downloaded from S3, by version (never modified)."""
        return self.root / "cache"


def current_version(layout: PublishedLayout) -> str | None:
    if layout.remote:
        try:
            return storage.read_object(layout.current).decode().strip() or None
        except FileNotFoundError:
            return None
    if not layout.current.is_symlink():
        return None
    return Path(os.readlink(layout.current)).name


def list_versions(layout: PublishedLayout) -> list[dict]:
    """Every published version's manifest, oldest first, with ``current`` marked."""
    current = current_version(layout)
    found = []
    for manifest in layout.versions.glob(f"*/{MANIFEST}"):
        content = json.loads(manifest.read_text())
        content["current"] = manifest.parent.name == current
        found.append(content)
    return sorted(found, key=lambda m: m["published_at"])


def read_manifest(layout: PublishedLayout, version_id: str) -> dict:
    path = layout.version_dir(version_id) / MANIFEST
    if not path.exists():
        known = ", ".join(m["version_id"] for m in list_versions(layout)) or "none"
        raise VersionError(f"no published version {version_id!r} (published: {known})")
    return json.loads(path.read_text())


def point_current_at(layout: PublishedLayout, version_id: str) -> None:
    """Atomically make ``current`` point at a complete version (publish and rollback)."""
    if not (layout.version_dir(version_id) / MANIFEST).exists():
        read_manifest(layout, version_id)  # raises with the list of versions
    if layout.remote:
        storage.write_object(layout.current, f"{version_id}\n".encode())
        return
    link = layout.root / f".current.{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(Path("versions") / version_id, link)
    os.replace(link, layout.current)


def role_database(layout: PublishedLayout, role: str, version_id: str | None = None) -> Path:
    """A local path of ``role``'s database in ``version_id`` (default: the current version),
    to open read-only. Locally that is the version's own file, unless its views name segments
    under another ``DATA_DIR`` (moved since): then, as on S3, a copy in the cache whose views
    name the segments where they are (on S3 the file and its segments are downloaded once:
    versions never change, and the version is resolved once, so the file is that version's,
    whatever is published meanwhile)."""
    if role not in ROLES:
        raise VersionError(f"no role {role!r} (roles: {', '.join(ROLES)})")
    version_id = version_id or current_version(layout)
    if version_id is None:
        raise VersionError(f"nothing is published under {layout.store} yet")
    manifest = read_manifest(layout, version_id)  # a complete version, or a clear error
    source = layout.version_dir(version_id) / f"{role}.duckdb"
    tables = manifest.get("segments", {}).get(role, {})
    here = local_segments_root(layout.root)
    if not layout.remote and (not tables or manifest.get("segments_root") == here):
        return source
    local = layout.cache / version_id / f"{role}.duckdb"
    if local.is_file():
        return local
    if layout.remote:
        _download_missing(
            [(layout.store / name, layout.cache / name) for name in segment_files([manifest], role)]
        )
        here = local_segments_root(layout.cache)
    local.parent.mkdir(parents=True, exist_ok=True)
    aside = local.with_name(f".{local.name}.{uuid.uuid4().hex}")
    try:
        if layout.remote:
            storage.download(source, aside)
        else:
            shutil.copyfile(source, aside)
        os.chmod(aside, stat.S_IRUSR | stat.S_IWUSR)
        point_views_at(aside, tables, here)
        os.chmod(aside, ROLE_FILE_MODE)
        os.replace(aside, local)
    finally:
        aside.unlink(missing_ok=True)
    return local


def prune(layout: PublishedLayout, keep: int = RETAIN_VERSIONS) -> list[str]:
    """Delete the oldest versions beyond ``keep``; never the current one. A version's manifest
    goes first, so that a half-deleted version is never listed. Then every segment that no kept
    version lists (those of the deleted versions, and any a failed publish left) is deleted.
    Publishes run one at a time (the transform DAG's ``max_active_runs=1``): a publish's new
    segments are listed by its manifest before it prunes."""
    current = current_version(layout)
    manifests = list_versions(layout)
    versions = [m["version_id"] for m in manifests]
    removable = [v for v in versions[: max(0, len(versions) - keep)] if v != current]
    for version_id in removable:
        storage.remove_tree(layout.version_dir(version_id), first=MANIFEST)
        shutil.rmtree(layout.cache / version_id, ignore_errors=True)
    kept = segment_files(m for m in manifests if m["version_id"] not in removable)
    _remove_unlisted(layout.store, kept)
    if layout.remote:
        _remove_unlisted(layout.cache, kept)
    return removable


# Segments: file names relative to the published root (or to the cache, for local copies).


def local_segments_root(root: Path) -> str:
    """What the role files' views put before a segment's name: the absolute published root."""
    return str(root.resolve())


def listed_segments(
    manifests: Iterable[dict], role: str | None = None
) -> Iterator[tuple[str, str, dict]]:
    """(role, table, segment) for every segment the manifests list (of ``role`` only)."""
    for manifest in manifests:
        for name, tables in manifest.get("segments", {}).items():
            if role is None or name == role:
                for table, spec in tables.items():
                    for group in spec["groups"]:
                        for segment in group["segments"]:
                            yield name, table, segment


def segment_files(manifests: Iterable[dict], role: str | None = None) -> set[str]:
    """Every segment the manifests list (of ``role`` only, if given), relative to the root."""
    return {segment["file"] for _, _, segment in listed_segments(manifests, role)}


def segments_view_sql(table: dict, root: str) -> str:
    """The query of a segmented table's view: its columns, in order and with their types, from
    its groups' segments (``root``/``file``) joined on the key, and its constant columns."""
    key = quote_identifier(table["key"])
    origin: dict[str, str] = {}
    sources = []
    for number, group in enumerate(table["groups"]):
        alias = f"g{number}"
        files = ", ".join(sql_literal(f"{root}/{s['file']}") for s in group["segments"])
        source = f"read_parquet([{files}], hive_partitioning = false) as {alias}"
        sources.append(source if number == 0 else f"join {source} on g0.{key} = {alias}.{key}")
        for column in group["columns"]:
            origin.setdefault(column, alias)
    columns = []
    for name, type_ in table["columns"]:
        if name in table["constants"]:
            value = table["constants"][name]
            expression = "null" if value is None else sql_literal(value)
        else:
            expression = f"{origin[name]}.{quote_identifier(name)}"
        columns.append(f"cast({expression} as {type_}) as {quote_identifier(name)}")
    return f"select {', '.join(columns)} from {' '.join(sources)}"


def point_views_at(database: Path, tables: dict, root: str) -> None:
    """Rewrite a role file's segmented views to read their segments under ``root``."""
    import duckdb

    with duckdb.connect(str(database)) as con:
        for name, table in tables.items():
            query = segments_view_sql(table, root)
            con.execute(f"create or replace view {quote_identifier(name)} as {query}")


def _download_missing(pairs: list[tuple[LakePath, Path]]) -> None:
    """Download the objects whose local copy is missing, a few at a time."""
    missing = [(source, target) for source, target in pairs if not target.is_file()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for done in pool.map(lambda pair: storage.download(*pair), missing):
            os.chmod(done, ROLE_FILE_MODE)


def _remove_unlisted(root: LakePath, listed: set[str]) -> None:
    """Delete the segments under ``root`` that are not in ``listed``."""
    folder = root / SEGMENTS
    if storage.is_remote(folder):
        base = folder.path.rstrip("/")
        try:
            found = folder.fs.find(base)
        except FileNotFoundError:
            return
        names = {key: f"{SEGMENTS}/{key[len(base) + 1 :]}" for key in found}
        unlisted = [key for key, name in names.items() if name not in listed]
        if unlisted:
            folder.fs.rm(unlisted)
        return
    if not folder.is_dir():
        return
    for path in folder.rglob("*.parquet"):
        if not path.name.startswith(".") and path.relative_to(root).as_posix() not in listed:
            path.unlink(missing_ok=True)
