"""The docs sites' web app and the process management behind ``make up``/``make down``, on real
files and real processes (the browser test covers them end to end, through Airflow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dataplatform import stack
from dataplatform.docs_site import (
    CDN_ASSETS,
    DocsLayout,
    create_app,
    latest_validations,
    missing_assets,
    prune_dbt_docs,
)
from dataplatform.publish.versions import MANIFEST, point_current_at


def publish_version(data_dir: Path, version_id: str, docs: str | None) -> None:
    version = data_dir / "published" / "versions" / version_id
    version.mkdir(parents=True)
    published_at = f"2026-11-0{len(list(version.parent.iterdir()))}T00:00:00+00:00"
    (version / MANIFEST).write_text(
        json.dumps(
            {"version_id": version_id, "logical_date": "2026-11-01", "published_at": published_at}
        )
    )
    if docs is not None:
        site = DocsLayout(data_dir).dbt_docs(version_id)
        site.mkdir(parents=True)
        (site / "index.html").write_text(docs)


def validation(
    data_dir: Path, suite: str, run_time: str, failed: int, asset: str = "", results=()
) -> None:
    """A validation result and its page, where Great Expectations' stores put them."""
    stamp = run_time.replace("-", "").replace(":", "").replace("+0000", "Z")
    relative = Path(suite, asset, "__none__", stamp, f"metrics-{suite}")
    result = DocsLayout(data_dir).validations / relative.with_suffix(".json")
    result.parent.mkdir(parents=True)
    result.write_text(
        json.dumps(
            {
                "suite_name": suite,
                "success": failed == 0,
                "meta": {"run_id": {"run_name": None, "run_time": run_time}},
                "statistics": {"evaluated_expectations": 5, "unsuccessful_expectations": failed},
                "results": list(results),
            }
        )
    )
    page = DocsLayout(data_dir).data_docs / "validations" / relative.with_suffix(".html")
    page.parent.mkdir(parents=True)
    page.write_text(f"<h1>{suite} at {run_time}</h1>")


def test_dbt_docs_follow_the_published_current_version(tmp_path):
    publish_version(tmp_path, "2026-11-01-aaaa", "<p>docs of aaaa</p>")
    publish_version(tmp_path, "2026-11-02-bbbb", "<p>docs of bbbb</p>")
    layout = DocsLayout(tmp_path).published
    client = TestClient(create_app(tmp_path))

    point_current_at(layout, "2026-11-02-bbbb")
    assert client.get("/dbt/current/").text == "<p>docs of bbbb</p>"
    assert client.get("/dbt/current/").headers["cache-control"] == "no-cache"
    point_current_at(layout, "2026-11-01-aaaa")  # a rollback moves the docs with the data
    assert client.get("/dbt/current/").text == "<p>docs of aaaa</p>"
    assert client.get("/dbt/2026-11-02-bbbb/index.html").text == "<p>docs of bbbb</p>"
    front = client.get("/").text
    assert "2026-11-01-aaaa" in front and "dbt/2026-11-02-bbbb/" in front
    assert client.get("/dbt/2026-11-03-none/").status_code == 404


def test_nothing_outside_the_sites_is_served(tmp_path):
    publish_version(tmp_path, "v1", "<p>docs</p>")
    point_current_at(DocsLayout(tmp_path).published, "v1")
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    DocsLayout(tmp_path).data_docs.mkdir(parents=True)
    client = TestClient(create_app(tmp_path))
    for path in (
        "/quality/../../secret.txt",
        "/quality/%2e%2e/%2e%2e/secret.txt",
        "/dbt/..%2f..%2f..%2fsecret.txt/",
        "/dbt/current/..%2f..%2f..%2f..%2fsecret.txt",
        "/dbt/v1/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "TOP-SECRET-CONTENT" not in response.text, path


def test_the_front_page_lists_the_latest_validations_newest_first(tmp_path):
    validation(tmp_path, "raw_events_batch", "2026-11-22T10:00:00+00:00", failed=0)
    validation(tmp_path, "marts", "2026-11-22T11:00:00+00:00", failed=2, asset="active_users")
    found = latest_validations(DocsLayout(tmp_path))
    assert [(v.suite, v.success, v.failed) for v in found] == [
        ("marts", False, 2),
        ("raw_events_batch", True, 0),
    ]
    client = TestClient(create_app(tmp_path))
    front = client.get("/").text
    assert front.index("marts") < front.index("raw_events_batch")
    assert "FAILED" in front and "3 of 5 met" in front
    page = client.get(f"/quality/{found[0].page}")
    assert page.status_code == 200 and "marts at" in page.text


def _outcome(success: bool, column: str, observed, **bounds) -> dict:
    """One expectation's outcome in a validation result, as Great Expectations stores it."""
    return {
        "success": success,
        "expectation_config": {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"batch_id": "raw_batch-batch_metrics", "column": column, **bounds},
            "meta": {"why": "a reason"},
        },
        "result": {"observed_value": observed},
    }


def test_failed_validations_come_first_with_what_failed(tmp_path):
    client = TestClient(create_app(tmp_path))
    validation(tmp_path, "raw_events_batch", "2026-11-22T09:00:00+00:00", failed=0)
    front = client.get("/").text
    assert "The latest 1 validations passed" in front and "FAILED" not in front

    failing = [
        _outcome(False, "quarantine_ratio", 0.2, min_value=0.0, max_value=0.01),
        _outcome(True, "duplicate_ratio", 0.001, max_value=0.01),
    ]
    validation(tmp_path, "marts", "2026-11-22T10:00:00+00:00", failed=1, asset="m", results=failing)
    validation(tmp_path, "staging", "2026-11-22T11:00:00+00:00", failed=0)
    (failed,) = [v for v in latest_validations(DocsLayout(tmp_path)) if not v.success]
    assert failed.failures == (
        "expect_column_max_to_be_between on quarantine_ratio: observed 0.2, "
        "expected min_value=0.0, max_value=0.01",
    )
    front = client.get("/").text
    block = front[front.index("id='failed-validations'") : front.index("id='validations'")]
    assert "1 of the latest 3 validations FAILED" in block
    assert "marts / m" in block and failed.failures[0] in block
    assert "duplicate_ratio" not in block and "staging" not in block
    assert f"href='quality/{failed.page}'" in block  # its Data Docs page, one click away
    assert "<tr class='failed'><td>marts / m</td>" in front


BOOTSTRAP_CDN = "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"
FONT_AWESOME_CDN = "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css"
POPPER_CDN = "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
BOOTSTRAP_JS_CDN = "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"


def test_data_docs_pages_use_local_copies_of_their_cdn_libraries(tmp_path):
    # Where Debian puts them: bootstrap and Font Awesome installed, Popper not.
    assets = tmp_path / "javascript"
    for local, content in (
        ("bootstrap4/css/bootstrap.min.css", ".badge{display:inline-block}"),
        ("bootstrap4/js/bootstrap.min.js", "/* bootstrap */"),
        ("font-awesome/css/font-awesome.min.css", ".fa{font-family:FontAwesome}"),
    ):
        (assets / local).parent.mkdir(parents=True, exist_ok=True)
        (assets / local).write_text(content)
    (tmp_path / "secret.txt").write_text("TOP-SECRET-CONTENT")
    assert missing_assets(assets) == ["libjs-jquery", "libjs-popper.js"]
    assert CDN_ASSETS[BOOTSTRAP_CDN] == "bootstrap4/css/bootstrap.min.css"

    page = DocsLayout(tmp_path / "data").data_docs / "validations" / "s" / "run" / "v.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        f'<html><head><link rel="stylesheet" href="{BOOTSTRAP_CDN}"/>'
        f'<link rel="stylesheet" href="{FONT_AWESOME_CDN}">'
        f'<script src="{POPPER_CDN}" integrity="sha384-p" crossorigin="anonymous"></script>'
        f'<script src="{BOOTSTRAP_JS_CDN}" integrity="sha384-b" crossorigin="anonymous"></script>'
        '</head><body><i class="fas fa-times"></i></body></html>'
    )
    client = TestClient(create_app(tmp_path / "data", asset_root=assets))
    served = client.get("/quality/validations/s/run/v.html")
    assert served.status_code == 200
    up = "../../../../assets/"  # from quality/validations/s/run/ to the app's root
    assert f'href="{up}bootstrap4/css/bootstrap.min.css"' in served.text
    assert f'href="{up}font-awesome/css/font-awesome.min.css"' in served.text
    # Debian's build is not the CDN's file: its tag drops the CDN file's integrity hash.
    assert f'<script src="{up}bootstrap4/js/bootstrap.min.js"></script>' in served.text
    assert ".fas,.far,.fab{" in served.text  # Font Awesome 4 draws the pages' fa 6 icons
    # Popper is not installed: its CDN link stays as it was, so the page still loads.
    assert f'src="{POPPER_CDN}" integrity="sha384-p"' in served.text
    assert page.read_text().count("https://") == 4  # the file itself is left alone

    css = client.get("/assets/bootstrap4/css/bootstrap.min.css")
    assert css.status_code == 200 and css.text == ".badge{display:inline-block}"
    for outside in (
        "/assets/popper.js/umd/popper.min.js",  # not installed
        "/assets/bootstrap4/../../secret.txt",
        "/assets/bootstrap4/..%2f..%2fsecret.txt",
        "/assets/secret.txt",
        "/assets/javascript/bootstrap4/css/bootstrap.min.css",
    ):
        response = client.get(outside)
        assert response.status_code == 404, outside
        assert "TOP-SECRET-CONTENT" not in response.text


def test_docs_of_versions_no_longer_published_are_pruned(tmp_path):
    publish_version(tmp_path, "kept", "<p>kept</p>")
    orphan = DocsLayout(tmp_path).dbt_docs("pruned-by-publish")
    orphan.mkdir(parents=True)
    assert prune_dbt_docs(DocsLayout(tmp_path)) == ["pruned-by-publish"]
    assert not orphan.exists() and DocsLayout(tmp_path).dbt_docs("kept").is_dir()


def _sleeping_group() -> subprocess.Popen:
    """A process in its own group with a child of its own, as the Airflow components have."""
    code = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def test_stop_ends_the_process_groups_it_started(tmp_path):
    layout = stack.StackLayout(tmp_path)
    layout.run_dir.mkdir(parents=True)
    process = _sleeping_group()
    time.sleep(0.5)  # its child is started
    layout.pid_file("scheduler").write_text(f"{process.pid} {stack._process_start(process.pid)}")
    assert stack.running_pid(layout, "scheduler") == process.pid

    assert stack.stop(tmp_path) == ["scheduler"]
    assert process.wait(timeout=5) is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # the child went with it
    assert not layout.pid_file("scheduler").exists()
    assert stack.running_pid(layout, "scheduler") is None


def test_a_recycled_pid_is_not_taken_for_a_component(tmp_path):
    layout = stack.StackLayout(tmp_path)
    layout.run_dir.mkdir(parents=True)
    process = _sleeping_group()
    try:
        # The pid file's start time is not this process's: another process had that pid.
        layout.pid_file("triggerer").write_text(f"{process.pid} 1")
        assert stack.running_pid(layout, "triggerer") is None
        assert stack.stop(tmp_path) == []
        assert process.poll() is None
    finally:
        os.killpg(process.pid, 9)
        process.wait()


def test_make_up_prints_the_login_airflow_generated(tmp_path):
    env = {"AIRFLOW_HOME": str(tmp_path)}
    assert stack.credentials(env) == (
        "admin",
        None,
        tmp_path / "simple_auth_manager_passwords.json.generated",
    )
    (tmp_path / "simple_auth_manager_passwords.json.generated").write_text('{"admin": "s3cr3t"}')
    assert stack.credentials(env)[:2] == ("admin", "s3cr3t")
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = "ana:viewer,bob:admin"
    assert stack.credentials(env)[:2] == ("ana", None)
