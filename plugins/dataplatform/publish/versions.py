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
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dataplatform import storage
from dataplatform.storage import LakePath

ROLES = ("analyst", "data_scientist", "pii_reader")
RETAIN_VERSIONS = 30
MANIFEST = "manifest.json"
POINTER = "CURRENT"  # the pointer object on S3 (locally: the symbolic link ``current``)


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
            return layout.current.read_text().strip() or None
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
    to open read-only. On S3 the file is downloaded once into the cache: versions never change,
    and the version is resolved once, so the file is that version's, whatever is published
    meanwhile."""
    if role not in ROLES:
        raise VersionError(f"no role {role!r} (roles: {', '.join(ROLES)})")
    version_id = version_id or current_version(layout)
    if version_id is None:
        raise VersionError(f"nothing is published under {layout.store} yet")
    read_manifest(layout, version_id)  # a complete version, or a clear error
    source = layout.version_dir(version_id) / f"{role}.duckdb"
    if not layout.remote:
        return source
    local = layout.cache / version_id / f"{role}.duckdb"
    if not local.is_file():
        storage.download(source, local)
    return local


def prune(layout: PublishedLayout, keep: int = RETAIN_VERSIONS) -> list[str]:
    """Delete the oldest versions beyond ``keep``; never the current one. A version's manifest
    goes first, so that a half-deleted version is never listed."""
    current = current_version(layout)
    versions = [m["version_id"] for m in list_versions(layout)]
    removable = [v for v in versions[: max(0, len(versions) - keep)] if v != current]
    for version_id in removable:
        storage.remove_tree(layout.version_dir(version_id), first=MANIFEST)
        shutil.rmtree(layout.cache / version_id, ignore_errors=True)
    return removable
