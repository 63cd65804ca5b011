"""Published versions: ``published/versions/<version_id>/`` and the ``published/current`` link.

A version is written whole under a temporary name, then renamed into place; ``current`` is a
symbolic link replaced with one ``rename``, so readers see the old version or the new one. A
reader holding an old version's file open keeps reading it: versions are never modified.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ROLES = ("analyst", "data_scientist", "pii_reader")
RETAIN_VERSIONS = 30
MANIFEST = "manifest.json"


class VersionError(ValueError):
    """A version that does not exist, or a published layer in an unexpected state."""


@dataclass(frozen=True)
class PublishedLayout:
    root: Path

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    @property
    def current(self) -> Path:
        return self.root / "current"

    def version_dir(self, version_id: str) -> Path:
        return self.versions / version_id


def current_version(layout: PublishedLayout) -> str | None:
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
    """Atomically make ``current`` point at a published version (publish and rollback)."""
    if not (layout.version_dir(version_id) / MANIFEST).exists():
        read_manifest(layout, version_id)  # raises with the list of versions
    link = layout.root / f".current.{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(Path("versions") / version_id, link)
    os.replace(link, layout.current)


def prune(layout: PublishedLayout, keep: int = RETAIN_VERSIONS) -> list[str]:
    """Delete the oldest versions beyond ``keep``; never the current one."""
    current = current_version(layout)
    versions = [m["version_id"] for m in list_versions(layout)]
    removable = [v for v in versions[: max(0, len(versions) - keep)] if v != current]
    for version_id in removable:
        shutil.rmtree(layout.version_dir(version_id))
    return removable
