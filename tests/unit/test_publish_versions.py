"""Published versions: the atomic ``current`` pointer, rollback, retention, open readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dataplatform.publish.publish import publish_candidate
from dataplatform.publish.versions import (
    PublishedLayout,
    VersionError,
    current_version,
    list_versions,
    point_current_at,
    prune,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for role in ("analyst", "data_scientist", "pii_reader"):
            con.execute(f"create schema {role}")
            con.execute(f"create table {role}.metric as select 1 as value, '{role}' as role")
    return path


def _set_value(warehouse: Path, value: int) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for role in ("analyst", "data_scientist", "pii_reader"):
            con.execute(f"update {role}.metric set value = {value}")


def test_publish_writes_one_file_per_role_and_switches_current(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    layout = PublishedLayout(tmp_path / "published")
    assert current_version(layout) == "v1"
    for role in ("analyst", "data_scientist", "pii_reader"):
        with duckdb.connect(str(layout.current / f"{role}.duckdb"), read_only=True) as con:
            assert con.execute("select role from metric").fetchall() == [(role,)]
    manifest = json.loads((layout.current / "manifest.json").read_text())
    assert manifest["version_id"] == "v1" and manifest["tables"]["analyst"] == ["metric"]


def test_a_reader_keeps_its_version_while_a_new_one_is_published(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    layout = PublishedLayout(tmp_path / "published")
    reader = duckdb.connect(str(layout.current / "analyst.duckdb"), read_only=True)
    _set_value(warehouse, 2)
    publish_candidate(tmp_path, warehouse, "v2", {"logical_date": "2026-11-02"})
    assert reader.execute("select value from metric").fetchall() == [(1,)]
    reader.close()
    with duckdb.connect(str(layout.current / "analyst.duckdb"), read_only=True) as con:
        assert con.execute("select value from metric").fetchall() == [(2,)]


def test_rollback_is_atomic_and_refuses_unknown_versions(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    publish_candidate(tmp_path, warehouse, "v2", {"logical_date": "2026-11-02"})
    layout = PublishedLayout(tmp_path / "published")
    point_current_at(layout, "v1")
    assert current_version(layout) == "v1"
    assert os.path.islink(layout.current)
    with pytest.raises(VersionError, match="no published version 'v9'"):
        point_current_at(layout, "v9")
    assert current_version(layout) == "v1"


def test_retention_keeps_the_newest_and_never_the_current(tmp_path, warehouse):
    for number in range(1, 6):
        publish_candidate(tmp_path, warehouse, f"v{number}", {"logical_date": "x"}, keep=100)
    layout = PublishedLayout(tmp_path / "published")
    point_current_at(layout, "v1")
    removed = prune(layout, keep=2)
    assert removed == ["v2", "v3"]
    assert [m["version_id"] for m in list_versions(layout)] == ["v1", "v4", "v5"]


def test_versions_command(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    publish_candidate(tmp_path, warehouse, "v2", {"logical_date": "2026-11-02"})
    env = {**os.environ, "DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO / "plugins")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dataplatform", "versions", *args],
            env=env,
            capture_output=True,
            text=True,
        )

    listing = cli()
    assert listing.returncode == 0 and "* v2" in listing.stdout and "  v1" in listing.stdout
    assert cli("rollback", "v1").returncode == 0
    assert "* v1" in cli("list").stdout
    assert json.loads(cli("show", "v2").stdout)["version_id"] == "v2"
    bad = cli("rollback", "v7")
    assert bad.returncode == 2 and "no published version 'v7'" in bad.stderr
    assert "Traceback" not in bad.stderr
