"""Copy the candidate's role schemas into one read-only DuckDB file per role, as a new version."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from dataplatform import lake, storage
from dataplatform.config import REPO_ROOT
from dataplatform.gates.runner import result_path
from dataplatform.privacy import prepare_session
from dataplatform.publish.versions import (
    MANIFEST,
    RETAIN_VERSIONS,
    ROLES,
    PublishedLayout,
    point_current_at,
    prune,
)
from dataplatform.storage import LakePath

# Read-only for the owner and the role's group: a team maps each role to an OS group (README).
ROLE_FILE_MODE = stat.S_IRUSR | stat.S_IRGRP


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


def _role_objects(con: duckdb.DuckDBPyConnection, role: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ? order by table_name",
        [role],
    ).fetchall()
    return [name for (name,) in rows]


def write_role_database(warehouse: Path, role: str, target: Path) -> list[str]:
    """Materialise the role's access views into a standalone database file.

    The warehouse is opened as the main database (not attached): in a process where dbt still
    holds it open, DuckDB shares that instance instead of refusing a second handle."""
    with duckdb.connect(str(warehouse)) as con:
        prepare_session(con)  # the access views pseudonymise with the session's key
        con.execute(f"attach '{target}' as role_db")
        try:
            names = _role_objects(con, role)
            for name in names:
                con.execute(f'create table role_db.main."{name}" as select * from {role}."{name}"')
        finally:
            con.execute("detach role_db")
    return names


def publish_candidate(
    data_dir: Path,
    warehouse: Path,
    version_id: str,
    manifest: dict,
    keep: int = RETAIN_VERSIONS,
) -> LakePath:
    """Publish the candidate as ``version_id`` and switch ``current`` to it.

    The role files are written into a local folder first. Locally that folder is renamed into
    place; on S3 it is uploaded, the manifest last, and only then does ``current`` move: a
    publish that fails at any point before the switch leaves what readers see untouched."""
    layout = PublishedLayout(data_dir / "published")
    final = layout.version_dir(version_id)
    if (final / MANIFEST).exists():
        # Same inputs and code: the content is already published; only the pointer moves.
        point_current_at(layout, version_id)
        return final
    staging = layout.root / "versions" / f".{version_id}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    tables = {}
    for role in ROLES:
        path = staging / f"{role}.duckdb"
        tables[role] = write_role_database(warehouse, role, path)
        os.chmod(path, ROLE_FILE_MODE)
    body = {
        "version_id": version_id,
        "published_at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        "tables": tables,
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
    prune(layout, keep)
    return final
