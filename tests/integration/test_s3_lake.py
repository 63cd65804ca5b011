"""The lake on S3, end to end, against a real S3 API: moto's server on loopback.

A small demo world runs through Airflow with ``LAKE_URL=s3://lake/platform``: ingest, raw gate,
extraction, dbt (reading the raw Parquet from the bucket through s3fs), the gates, publish. The
server enforces IAM, so one object write can be made to fail for real (an explicit Deny on
``PutObject`` of one role's file): a publish that fails midway must leave ``published/CURRENT``
and the version it names untouched, and a reader resolving ``CURRENT`` while a version is being
published sees the old version or the new one, never a mix. The segments a version lists are in
the bucket, and a local copy of a role's database reads them downloaded next to it. The user's
commands read the bucket too: ``accounting`` counts the raw and quarantined records in it, and
the demo summary names places that exist.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dataplatform.orchestration import DagRunResult
from dataplatform.publish.versions import (
    PublishedLayout,
    VersionError,
    current_version,
    list_versions,
    role_database,
    segment_files,
)

REPO = Path(__file__).resolve().parents[2]
DAYS, USERS, SEED = 2, 1500, 5
BUCKET, PREFIX = "lake", "platform"
REGION = "us-east-1"
SPEC_TABLES = {
    "active_users_daily",
    "listings_daily",
    "listing_funnel_daily",
    "contacts_daily",
    "promotion_revenue_daily",
    "category_quality_daily",
    "experiment_results",
}
ROLE_FILES = ("analyst.duckdb", "data_scientist.duckdb", "pii_reader.duckdb")
PLANTED_USER = "planted-uncommitted-user"
# The body of the publish task (dataplatform.tasks.publish) without importing Airflow: a
# separate process from the reader's, started in seconds.
PUBLISH = """
import sys
from datetime import date
from pathlib import Path
from dataplatform.publish.publish import plan_version, publish_candidate
from dataplatform.transform.dbt import DbtPaths
data_dir, day = Path(sys.argv[1]), date.fromisoformat(sys.argv[2])
version_id, manifest = plan_version(data_dir, day)
print(publish_candidate(data_dir, DbtPaths.under(data_dir).warehouse, version_id, manifest))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class S3Server:
    endpoint: str
    admin: dict[str, str]  # IAM administrator: the test's own inspection and IAM changes
    platform: dict[str, str]  # what the platform runs with: s3:* on the bucket

    def client(self, service: str, who: dict[str, str] | None = None):
        import boto3

        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION, **(who or self.admin)
        )

    def keys(self, prefix: str) -> dict[str, str]:
        """Every object under ``prefix`` (relative to the lake), with its ETag."""
        s3 = self.client("s3")
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"{PREFIX}/{prefix}"
        ):
            for item in page.get("Contents", []):
                found[item["Key"].removeprefix(f"{PREFIX}/")] = item["ETag"]
        return found

    def read(self, key: str) -> bytes:
        return self.client("s3").get_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}")["Body"].read()


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto's S3 (and IAM) server on a free loopback port, with the bucket and two IAM users;
    from then on it checks every request's signature and permissions."""
    import boto3

    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {endpoint}")
                time.sleep(0.2)
        bootstrap = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
        boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **bootstrap).create_bucket(
            Bucket=BUCKET
        )
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, **bootstrap)

        def user(name: str, action: str, resource: str) -> dict[str, str]:
            iam.create_user(UserName=name)
            statement = {"Effect": "Allow", "Action": action, "Resource": resource}
            iam.put_user_policy(
                UserName=name,
                PolicyName="access",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
            key = iam.create_access_key(UserName=name)["AccessKey"]
            return {
                "aws_access_key_id": key["AccessKeyId"],
                "aws_secret_access_key": key["SecretAccessKey"],
            }

        admin = user("admin", "*", "*")
        platform = user(
            "dataplatform", "s3:*", [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
        )
        # From now on every request must be signed by a known key and be allowed by IAM.
        request = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=b"0",
            headers={"Content-Type": "text/plain"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()
        yield S3Server(endpoint, admin, platform)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def lake_env(s3: S3Server) -> dict[str, str]:
    return {
        "LAKE_URL": f"s3://{BUCKET}/{PREFIX}/",  # a trailing slash, as docker-compose.yml has it
        "AWS_ENDPOINT_URL": s3.endpoint,
        "AWS_ACCESS_KEY_ID": s3.platform["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": s3.platform["aws_secret_access_key"],
        "AWS_REGION": REGION,
    }


def pipeline_env(data_dir: Path, s3: S3Server) -> dict[str, str]:
    return {
        **os.environ,
        **lake_env(s3),
        "DATA_DIR": str(data_dir),
        "AIRFLOW_HOME": str(data_dir / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(REPO / "plugins"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def run_cli(data_dir: Path, s3: S3Server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataplatform", *args],
        env=pipeline_env(data_dir, s3),
        capture_output=True,
        text=True,
        timeout=600,
    )


def deny_put(s3: S3Server, key_pattern: str | None) -> None:
    """An explicit Deny of PutObject on ``key_pattern`` for the platform's user (None: lift)."""
    iam = s3.client("iam")
    if key_pattern is None:
        iam.delete_user_policy(UserName="dataplatform", PolicyName="deny-put")
        return
    statement = {
        "Effect": "Deny",
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/{PREFIX}/{key_pattern}",
    }
    iam.put_user_policy(
        UserName="dataplatform",
        PolicyName="deny-put",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


def admin_fs(s3: S3Server):
    """The test's own view of the bucket (the administrator's login, not the platform's)."""
    import s3fs

    return s3fs.S3FileSystem(
        endpoint_url=s3.endpoint,
        key=s3.admin["aws_access_key_id"],
        secret=s3.admin["aws_secret_access_key"],
        skip_instance_cache=True,
    )


def plant_uncommitted_users(s3: S3Server, day: date) -> str:
    """A users extraction without its commit marker (as a crashed upload leaves one), holding
    one invented user; returns its key."""
    fs = admin_fs(s3)
    committed = sorted(fs.glob(f"{BUCKET}/{PREFIX}/raw/operational/users/*/*.parquet"))[0]
    with fs.open(committed, "rb") as handle:
        one = pq.read_table(handle).slice(0, 1)
    one = one.set_column(0, "user_id", [[PLANTED_USER]])
    key = f"raw/operational/users/extracted_date={day.isoformat()}/part-00000.parquet"
    with fs.open(f"{BUCKET}/{PREFIX}/{key}", "wb") as handle:
        pq.write_table(one, handle)
    return key


@dataclass
class Scenario:
    data_dir: Path
    days: list[date]
    first: str = ""  # the version published for day 1
    second: str = ""  # the version published for day 2, after the failed attempt
    objects_after_day1: dict[str, str] = field(default_factory=dict)
    failed_run: subprocess.CompletedProcess | None = None
    after_failure: dict = field(default_factory=dict)
    reader_saw: list[tuple[str | None, object]] = field(default_factory=list)
    rollback: subprocess.CompletedProcess | None = None
    current_after_rollback: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _reader(layout: PublishedLayout, stop: threading.Event, seen: list) -> None:
    """Resolve CURRENT, open that version's data scientist file, read the version id dbt
    stamped in it; again and again until told to stop."""
    while not stop.is_set():
        try:
            version = current_version(layout)
            path = role_database(layout, "data_scientist", version)
            with duckdb.connect(str(path), read_only=True) as con:
                stamped = con.execute(
                    "select distinct version_id from category_training_set"
                ).fetchall()
            seen.append((version, [v for (v,) in stamped]))
        except (VersionError, OSError, duckdb.Error) as err:
            seen.append((None, f"{type(err).__name__}: {err}"))
        time.sleep(0.2)


@pytest.fixture(scope="module")
def scenario(s3_server, tmp_path_factory) -> Scenario:
    data_dir = tmp_path_factory.mktemp("s3-lake")
    started = time.perf_counter()
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "dataplatform.generator",
            "--data-dir",
            str(data_dir),
            "--days",
            str(DAYS),
            "--users",
            str(USERS),
            "--seed",
            str(SEED),
        ],
        env=pipeline_env(data_dir, s3_server),
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    days = sorted(
        date.fromisoformat(p.name.removeprefix("dt="))
        for p in (data_dir / "landing" / "events").glob("dt=*")
    )
    found = Scenario(data_dir=data_dir, days=days)
    found.seconds["generate"] = time.perf_counter() - started

    with pytest.MonkeyPatch.context() as env:
        for name, value in lake_env(s3_server).items():
            env.setenv(name, value)
        layout = PublishedLayout(data_dir / "reader")

        # Day 1: the whole pipeline on S3.
        started = time.perf_counter()
        first = run_cli(data_dir, s3_server, "run", "--date", days[0].isoformat())
        assert first.returncode == 0, first.stdout + first.stderr
        found.seconds["day 1"] = time.perf_counter() - started
        found.first = current_version(layout)
        found.objects_after_day1 = s3_server.keys("")

        # An extraction whose upload never committed: dbt must not read it.
        plant_uncommitted_users(s3_server, days[0] - timedelta(days=1))

        # Day 2, first attempt: the upload of one role file is refused by S3.
        deny_put(s3_server, "published/versions/*/data_scientist.duckdb")
        started = time.perf_counter()
        found.failed_run = run_cli(data_dir, s3_server, "run", "--date", days[1].isoformat())
        found.seconds["day 2, failing"] = time.perf_counter() - started
        deny_put(s3_server, None)
        found.after_failure = {
            "current": current_version(layout),
            "objects": s3_server.keys(""),
            "versions": [m["version_id"] for m in list_versions(layout)],
        }

        # Publish again (what the publish task runs, on the candidate the failed run left in
        # the warehouse), with a reader resolving CURRENT all along.
        stop = threading.Event()
        reader = threading.Thread(target=_reader, args=(layout, stop, found.reader_saw))
        reader.start()
        started = time.perf_counter()
        try:
            retry = subprocess.run(
                [sys.executable, "-c", PUBLISH, str(data_dir), days[1].isoformat()],
                env=pipeline_env(data_dir, s3_server),
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            time.sleep(0.5)  # at least one read after the switch
            stop.set()
            reader.join(timeout=60)
        assert retry.returncode == 0, retry.stdout + retry.stderr
        found.seconds["publish again"] = time.perf_counter() - started
        found.second = current_version(layout)

        found.rollback = run_cli(data_dir, s3_server, "versions", "rollback", found.first)
        found.current_after_rollback = current_version(layout)
    print("seconds:", {k: round(v, 1) for k, v in found.seconds.items()})
    return found


def test_raw_quarantine_and_published_objects_are_in_the_bucket(scenario):
    day = scenario.days[0].isoformat()
    objects = scenario.objects_after_day1
    raw = [k for k in objects if k.startswith(f"raw/events/batch_date={day}/event_date=")]
    assert raw and all(k.endswith(".parquet") for k in raw)
    assert f"raw/events/batch_date={day}/_manifest.json" in objects
    assert f"quarantine/events/batch_date={day}/_SUCCESS" in objects
    for table in ("users", "listings", "categories"):
        folder = f"raw/operational/{table}/extracted_date={day}"
        assert f"{folder}/_manifest.json" in objects
        assert any(k.startswith(f"{folder}/part-") for k in objects), table
    assert objects["published/CURRENT"]
    for name in (*ROLE_FILES, "manifest.json"):
        assert f"published/versions/{scenario.first}/{name}" in objects
    assert scenario.first.startswith(day)


def test_nothing_durable_is_left_under_data_dir(scenario):
    lake = scenario.data_dir / "lake"
    for zone in ("raw/events", "raw/operational", "quarantine"):
        assert not [p for p in (lake / zone).rglob("*") if p.is_file()], zone
    # Batches wait for their gate locally; a promoted batch leaves nothing behind.
    assert not [p for p in (lake / "raw" / "_pending").rglob("*") if p.is_file()]
    assert not (scenario.data_dir / "published" / "versions").exists() or not [
        p for p in (scenario.data_dir / "published" / "versions").rglob("*") if p.is_file()
    ]
    assert not (scenario.data_dir / "published" / "current").exists()


def _fetched(scenario, s3_server, reader: str, role: str) -> tuple[PublishedLayout, Path]:
    """The second day's version of ``role``'s database, as a reader with its own cache
    (``DATA_DIR/<reader>``) fetches it from the bucket."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in lake_env(s3_server).items():
            env.setenv(name, value)
        layout = PublishedLayout(scenario.data_dir / reader)
        return layout, role_database(layout, role, scenario.second)


def test_the_published_analyst_database_opens_with_the_spec_tables(scenario, s3_server):
    _, path = _fetched(scenario, s3_server, "reader-analyst", "analyst")
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {name for (name,) in con.execute("show tables").fetchall()}
        assert tables >= SPEC_TABLES
        activity = dict(
            con.execute(
                "select activity_date::varchar, dau from active_users_daily where platform = 'all'"
            ).fetchall()
        )
    for day in scenario.days:
        assert activity.get(day.isoformat(), 0) > 0, activity


def test_the_segments_a_version_lists_are_in_the_bucket_and_read_from_a_local_copy(
    scenario, s3_server
):
    manifest = json.loads(s3_server.read(f"published/versions/{scenario.second}/manifest.json"))
    assert set(manifest["segments"]) == {"data_scientist", "pii_reader"}
    listed = segment_files([manifest])
    assert listed and {f"published/{name}" for name in listed} <= set(
        s3_server.keys("published/segments/")
    )
    layout, path = _fetched(scenario, s3_server, "reader-segments", "pii_reader")
    with duckdb.connect(str(path), read_only=True) as con:
        (definition,) = con.execute(
            "select sql from duckdb_views() where view_name = 'listing_facts'"
        ).fetchone()
        rows = con.execute("select count(*) from listing_facts").fetchone()[0]
    # the copy's view reads the segments downloaded next to it, not the bucket
    assert str(layout.cache.resolve()) in definition and "s3://" not in definition
    listing_facts = manifest["segments"]["pii_reader"]["listing_facts"]
    assert rows == sum(s["rows"] for s in listing_facts["groups"][0]["segments"]) > 0


def test_a_publish_that_fails_midway_leaves_current_and_its_version_untouched(scenario):
    failed = scenario.failed_run
    assert failed.returncode != 0, failed.stdout
    # It failed where it was made to: S3 refused the upload of a role's file to publish.
    alerts = [
        json.loads(line)
        for line in (scenario.data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()
    ]
    assert [a["task_id"] for a in alerts] == ["publish"], alerts
    assert "Access Denied" in alerts[0]["summary"], alerts[0]["summary"]
    after = scenario.after_failure
    assert after["current"] == scenario.first
    assert after["versions"] == [scenario.first]
    before = scenario.objects_after_day1
    for key, etag in before.items():
        if key.startswith(f"published/versions/{scenario.first}/") or key == "published/CURRENT":
            assert after["objects"][key] == etag, key
    # Midway: the attempt had uploaded a role file when S3 refused the next one; without its
    # manifest that version is neither listed nor pointed at.
    attempted = {
        key.split("/")[2]
        for key in after["objects"]
        if key.startswith("published/versions/") and key.split("/")[2] != scenario.first
    }
    assert len(attempted) == 1
    (version,) = attempted
    assert f"published/versions/{version}/analyst.duckdb" in after["objects"]
    assert f"published/versions/{version}/data_scientist.duckdb" not in after["objects"]
    assert f"published/versions/{version}/manifest.json" not in after["objects"]
    # Published again, it is that same version: the attempt's leftovers were overwritten.
    assert scenario.second == version


def test_a_reader_during_a_publish_sees_the_old_or_the_new_version_never_a_mix(scenario):
    seen = scenario.reader_saw
    errors = [detail for version, detail in seen if version is None]
    assert not errors, errors[:3]
    assert {version for version, _ in seen} == {scenario.first, scenario.second}
    # Resolved once, the pointer, the manifest and the data in the file agree on the version.
    assert all(stamped == [version] for version, stamped in seen), seen[:3]
    order = [version for version, _ in seen]
    switch = order.index(scenario.second)
    assert set(order[:switch]) == {scenario.first} and set(order[switch:]) == {scenario.second}


def test_dbt_reads_only_committed_folders(scenario, s3_server):
    _, path = _fetched(scenario, s3_server, "reader-pii", "pii_reader")
    with duckdb.connect(str(path), read_only=True) as con:
        users = con.execute("select count(*) from users").fetchone()[0]
        planted = con.execute(
            "select count(*) from users where user_id = ?", [PLANTED_USER]
        ).fetchone()[0]
    assert users > 0 and planted == 0


def test_rollback_rewrites_the_pointer(scenario):
    assert scenario.rollback.returncode == 0, scenario.rollback.stderr
    assert scenario.current_after_rollback == scenario.first
    assert scenario.second != scenario.first


def _records_in(path: Path) -> int:
    """The records of a landing file (JSON lines, maybe gzipped), counted without the ingest."""
    content = path.read_bytes()
    if path.name.endswith(".gz"):
        content = gzip.decompress(content)
    return content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)


def _bucket_counts(s3: S3Server, pattern: str) -> dict[str, int]:
    """Rows per ``source_file`` of the Parquet objects matching ``pattern`` in the lake."""
    fs = admin_fs(s3)
    counts: dict[str, int] = {}
    for key in fs.glob(f"{BUCKET}/{PREFIX}/{pattern}"):
        with fs.open(key, "rb") as handle:
            column = pq.read_table(handle, columns=["source_file"]).column("source_file")
        for value in column.to_pylist():
            counts[value] = counts.get(value, 0) + 1
    return counts


ACCOUNTING_ROW = re.compile(
    r"^(?P<batch>\d{4}-\d{2}-\d{2}) +(?P<read>[\d,]+) +(?P<raw>[\d,]+) +(?P<quarantined>[\d,]+)"
    r" +(?P<ok>yes|NO) +(?P<state>\S+) +(?P<file>\S+)$"
)


def test_accounting_counts_raw_and_quarantine_in_the_bucket(scenario, s3_server):
    out = run_cli(scenario.data_dir, s3_server, "accounting")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [m.groupdict() for m in map(ACCOUNTING_ROW.match, out.stdout.splitlines()) if m]
    landed = sorted(
        p.relative_to(scenario.data_dir).as_posix()
        for p in (scenario.data_dir / "landing" / "events").glob("dt=*/*.jsonl*")
    )
    assert sorted(r["file"] for r in rows) == landed, out.stdout
    raw = _bucket_counts(s3_server, "raw/events/batch_date=*/event_date=*/*.parquet")
    quarantined = _bucket_counts(s3_server, "quarantine/events/batch_date=*/*.parquet")
    assert sum(raw.values()) > 0
    for row in rows:
        read, in_raw, in_quarantine = (
            int(row[k].replace(",", "")) for k in ("read", "raw", "quarantined")
        )
        # read = raw + quarantined, each side counted independently of the command
        assert read == _records_in(scenario.data_dir / row["file"]), row
        assert in_raw == raw.get(row["file"], 0), row
        assert in_quarantine == quarantined.get(row["file"], 0), row
        assert read == in_raw + in_quarantine and row["ok"] == "yes", row
        assert row["state"] == "published", row
    assert "0 unbalanced" in out.stdout

    one_day = run_cli(scenario.data_dir, s3_server, "accounting", "--date", rows[0]["batch"])
    assert one_day.returncode == 0, one_day.stderr
    assert {m["batch"] for m in map(ACCOUNTING_ROW.match, one_day.stdout.splitlines()) if m} == {
        rows[0]["batch"]
    }


def test_accounting_with_a_wrong_lake_key_says_so_in_one_line(scenario, s3_server):
    env = {**pipeline_env(scenario.data_dir, s3_server), "AWS_SECRET_ACCESS_KEY": "not-the-key"}
    out = subprocess.run(
        [sys.executable, "-m", "dataplatform", "accounting"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    print(out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("error: ") and f"s3://{BUCKET}/{PREFIX}" in lines[0], lines


def _places(text: str) -> list[str]:
    """Every local path (absolute) and s3:// URL in ``text``, shell braces expanded."""
    places = []
    for token in re.findall(r"(?<![^\s(])(?:s3:/)?/(?:\{[^}]*\}|[^\s(),;{])+", text):
        if "{" in token:
            head, rest = token.split("{", 1)
            choices, tail = rest.split("}", 1)
            places += [head + choice + tail for choice in choices.split(",")]
        else:
            places.append(token)
    return places


def test_the_demo_summary_names_places_that_exist(scenario, s3_server, capsys):
    from dataplatform.config import load_settings
    from dataplatform.summary import print_summary

    results = [
        DagRunResult("ingest_events", day, "success", 1.0, (), scenario.data_dir / "log")
        for day in scenario.days
    ]
    with pytest.MonkeyPatch.context() as env:
        for name, value in pipeline_env(scenario.data_dir, s3_server).items():
            env.setenv(name, value)
        print_summary(load_settings(), results, 1.0)
    printed = capsys.readouterr().out
    print(printed)  # shown with pytest -rA: what a user reads at the end of make demo
    places = _places(printed)
    remote = [p for p in places if p.startswith("s3://")]
    # the raw zone, the quarantine and the current version's role databases, in the bucket
    assert f"s3://{BUCKET}/{PREFIX}/raw/events" in remote, printed
    assert f"s3://{BUCKET}/{PREFIX}/quarantine/events" in remote, printed
    current = current_version_in(s3_server)
    for role_file in ROLE_FILES:
        url = f"s3://{BUCKET}/{PREFIX}/published/versions/{current}/{role_file}"
        assert url in remote, printed
    fs = admin_fs(s3_server)
    for url in remote:
        assert fs.exists(url.removeprefix("s3://")), f"printed, not in the bucket: {url}"
    for path in (p for p in places if not p.startswith("s3://")):
        assert Path(path).exists(), f"printed, does not exist: {path}\n{printed}"
    assert "versions fetch" in printed, "how to get a local copy of a role's database"


def current_version_in(s3: S3Server) -> str:
    return s3.read("published/CURRENT").decode().strip()


def test_the_stacks_docs_server_serves_the_current_version_from_the_bucket(scenario, s3_server):
    """What the compose ``docs`` service runs, with the lake on S3: the current version comes
    from ``published/CURRENT`` in the bucket, its dbt docs and the reports from DATA_DIR."""
    port = _free_port()
    log = scenario.data_dir / "docs-server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "dataplatform", "docs", "--serve"),
                *("--host", "127.0.0.1", "--port", str(port)),
            ],
            env=pipeline_env(scenario.data_dir, s3_server),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=5) as response:
                    front = response.read().decode()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the docs server did not answer:\n{log.read_text()}")
                time.sleep(0.5)
        current = scenario.current_after_rollback
        assert f"Published version <code>{current}</code>: <a id='dbt-docs-current'" in front
        assert f"{scenario.second}, logical date" in front  # listed from the bucket
        with urllib.request.urlopen(f"{base}/dbt/current/", timeout=30) as response:
            assert response.status == 200
            assert b"dbt" in response.read()
        assert "<table id='validations'>" in front
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
