"""Where the durable lake lives, and the few operations the platform needs on it.

Without ``LAKE_URL`` the lake is the folder ``DATA_DIR/lake`` and the published versions are
under ``DATA_DIR/published``, as before: a batch or a version is put in place with one
``rename``, atomic on a POSIX filesystem.

With ``LAKE_URL=s3://bucket/prefix`` the durable zones move to the bucket: ``raw/`` (events and
operational extractions), ``quarantine/`` and ``published/``. The working part stays under
``DATA_DIR``: batches being written (``lake/_staging``), batches waiting for their gate
(``lake/raw/_pending``), the warehouse, dbt's target, the quality reports, Airflow.

S3 has no rename of a folder, and a listing shows a folder's objects while they are still being
uploaded. So on S3 whatever a reader may see is guarded by one small object written last; one
PUT is atomic (a reader gets the whole old object or the whole new one) and S3 is strongly
consistent for reads after a write and for listings (AWS since December 2020; MinIO always):

* a batch folder (raw events, an extraction, a quarantine batch) is *committed* once its marker
  exists (its ``_manifest.json``, or an empty ``_SUCCESS``). Readers list only committed
  folders. Replacing a folder removes the marker first, so a reader sees the old folder, no
  folder, or the new one; a crash midway leaves the folder absent (re-run it), as a crash
  between the two renames of the local swap does;
* a published version is complete once its ``manifest.json`` exists, and is *served* once the
  pointer object ``published/CURRENT`` names it (:mod:`dataplatform.publish.versions`).

DuckDB reads the bucket through s3fs registered as an fsspec filesystem
(:func:`register_lake_filesystem`): its own ``httpfs`` extension would have to be downloaded at
run time, which these machines cannot do. Credentials and endpoint come from the standard AWS
variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``,
``AWS_ENDPOINT_URL``), so boto3, s3fs and the AWS CLI agree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Union

from dataplatform.config import parse_lake_url

if TYPE_CHECKING:
    import duckdb
    from upath import UPath

# A place in the lake: a local folder or file, or an object (prefix) in the S3 lake.
LakePath = Union[Path, "UPath"]
SUCCESS_MARKER = "_SUCCESS"


def lake_url() -> str | None:
    """The S3 lake from ``LAKE_URL``, or None when the lake is the local folder."""
    return parse_lake_url(os.environ.get("LAKE_URL"))


def storage_options() -> dict:
    """s3fs's options, from the standard AWS variables. Listings are not cached: a reader must
    see a commit marker the moment it exists (and stop seeing a removed one)."""
    options: dict = {"use_listings_cache": False}
    if key := os.environ.get("AWS_ACCESS_KEY_ID"):
        options["key"] = key
        options["secret"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if token := os.environ.get("AWS_SESSION_TOKEN"):
        options["token"] = token
    if region := os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"):
        options["client_kwargs"] = {"region_name": region}
    if endpoint := os.environ.get("AWS_ENDPOINT_URL"):
        # An S3-compatible store (MinIO, a test server): path-style addressing, no bucket DNS.
        options["endpoint_url"] = endpoint
        options["config_kwargs"] = {"s3": {"addressing_style": "path"}}
    return options


def access_errors() -> tuple[type[Exception], ...]:
    """What reading an unreachable or refused lake raises: ``OSError`` (s3fs turns S3's
    refusals and missing objects into ``PermissionError``, ``FileNotFoundError``...) and
    botocore's own errors, which are not ``OSError``s (an endpoint that does not answer)."""
    from botocore.exceptions import BotoCoreError

    return (OSError, BotoCoreError)


def filesystem():
    """The s3fs filesystem of the lake (fsspec keeps one instance per set of options)."""
    import fsspec

    return fsspec.filesystem("s3", **storage_options())


def lake_root(local_lake: Path) -> LakePath:
    """Where the durable lake zones (``raw/``, ``quarantine/``) are: the ``LAKE_URL`` prefix,
    else the local lake folder itself."""
    url = lake_url()
    if url is None:
        return local_lake
    from upath import UPath

    return UPath(url, **storage_options())


def published_root(local_published: Path) -> LakePath:
    """Where the published versions and the ``current`` pointer are: ``LAKE_URL/published``,
    else the local folder ``DATA_DIR/published``."""
    root = lake_root(local_published)
    return local_published if root is local_published else root / "published"


def is_remote(place: LakePath) -> bool:
    return not isinstance(place, Path)


def register_lake_filesystem(con: duckdb.DuckDBPyConnection) -> None:
    """Let a DuckDB connection read ``s3://`` paths of the lake (no-op for a local lake).

    The registration belongs to the database instance, so every cursor of the connection, and
    every connection sharing the instance, sees it; registering twice is an error in DuckDB,
    hence the check."""
    if lake_url() is None or "s3" in con.list_filesystems():
        return
    con.register_filesystem(filesystem())


def replace_folder(new: Path, target: LakePath, marker: str = SUCCESS_MARKER) -> None:
    """Put the local folder ``new`` at ``target``, replacing what was there; ``new`` is gone
    afterwards. Local: two renames. S3: uncommit, delete, upload, commit (``marker`` last)."""
    if not is_remote(target):
        _swap_local(new, target)
        return
    fs, base = target.fs, target.path
    _remove_object(fs, f"{base}/{marker}")  # uncommitted first: readers stop seeing the old one
    _remove_prefix(fs, base)
    if not (new / marker).is_file():
        (new / marker).write_bytes(b"")
    upload_folder(new, target, last=marker)
    shutil.rmtree(new, ignore_errors=True)


def _swap_local(new: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    trash = new.with_name(new.name + ".old")
    if target.exists():
        os.rename(target, trash)
    os.rename(new, target)
    shutil.rmtree(trash, ignore_errors=True)


def upload_folder(local: Path, target: LakePath, last: str) -> None:
    """Copy a local folder to ``target``, the file ``last`` after every other one (the marker
    that makes the rest count). Objects already there are overwritten."""
    fs, base = target.fs, target.path
    files = sorted(
        p for p in local.rglob("*") if p.is_file() and p.relative_to(local) != Path(last)
    )
    if files:  # uploaded concurrently
        fs.put(
            [str(p) for p in files], [f"{base}/{p.relative_to(local).as_posix()}" for p in files]
        )
    fs.put_file(str(local / last), f"{base}/{last}")


def write_object(target: LakePath, data: bytes) -> None:
    """Replace one file or object whole: a reader gets the old content or the new one. S3: one
    PUT. Local: write aside, then rename over."""
    if is_remote(target):
        target.fs.pipe_file(target.path, data)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    aside.write_bytes(data)
    os.replace(aside, target)


def read_object(source: LakePath) -> bytes:
    """One file or object whole, in one read: one replaced meanwhile (``write_object``) gives
    its old content or its new one. S3: one GET (a buffered read checks the object's ETag
    between its requests and fails with FileExpired when it was replaced in between)."""
    if is_remote(source):
        return source.fs.cat_file(source.path)
    return source.read_bytes()


def download(source: LakePath, target: Path) -> Path:
    """Copy an object to a local file, whole or not at all (written aside, then renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        source.fs.get_file(source.path, str(aside))
        os.replace(aside, target)
    finally:
        aside.unlink(missing_ok=True)
    return target


def remove_tree(place: LakePath, first: str | None = None) -> None:
    """Delete a folder or prefix; ``first`` (a marker) goes before the rest, so that a reader
    never sees a half-deleted folder as committed."""
    if not is_remote(place):
        shutil.rmtree(place)
        return
    if first:
        _remove_object(place.fs, f"{place.path}/{first}")
    _remove_prefix(place.fs, place.path)


def _remove_object(fs, path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        fs.rm_file(path)


def _remove_prefix(fs, path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        fs.rm(path, recursive=True)
