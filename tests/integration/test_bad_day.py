"""A bad day through the real pipeline: the gate stops it, the trusted layer stays exactly as it
was, on-call hears about it on every channel, and publishing resumes with good data.

One small demo world runs through Airflow (``dataplatform.orchestration.run_dates``, the code
behind ``make run``) in one process, day by day, while a real webhook and a real SMTP server
listen on loopback:

1. a good day publishes the first version;
2. record-level bad day: a fifth of the collector's lines arrive truncated; the raw gate fails
   on the quarantine ratio and the batch never reaches the raw zone;
3. business-level bad day: every record is valid, but hundreds of listings appear without any
   listing creation flow (a tracking bug); raw and staging gates pass, the marts gate fails on
   "no day with more listings than drafts started". Its batch is in the raw zone and staged, so
   nothing later may publish until it is corrected (a later day's marts gate sees it too);
4. the collector re-delivers that day correctly: the next good delivery publishes normally,
   after both bad days.

Between days the test records ``published/current``: the version it points at and the sha256
of every file in it. That re-running a published date publishes identical content is shown by
``test_pipeline.py::test_rerunning_a_published_date_publishes_identical_content``.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import html
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from dataplatform.generator import generate_world

REPO = Path(__file__).resolve().parents[2]
START = date(2026, 11, 1)
GOOD, RECORD_BAD, BUSINESS_BAD = (START + timedelta(days=n) for n in range(3))
TRUNCATED_SHARE = 0.2

# Runs the days in one Python process (Airflow starts once) and records, after each step, the
# outcome of every DAG run and what ``published/current`` holds.
DRIVER = """
import hashlib, json, os, shutil, sys
from datetime import date
from pathlib import Path
from dataplatform.orchestration import run_dates

data_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
steps = json.loads(sys.argv[3])

def published():
    current = data_dir / "published" / "current"
    if not current.is_symlink():
        return None
    root = current.resolve()
    return {
        "target": os.readlink(current),
        "files": {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()
        },
    }

record = []
for step in steps:
    if step.get("redeliver"):
        landing = data_dir / "landing" / "events" / f"dt={step['date']}"
        shutil.rmtree(landing)
        shutil.copytree(data_dir / "redelivery" / f"dt={step['date']}", landing)
    results = run_dates([date.fromisoformat(step["date"])])
    record.append({
        "step": step["name"],
        "runs": [
            {"dag_id": r.dag_id, "state": r.state, "failed_tasks": list(r.failed_tasks)}
            for r in results
        ],
        "published": published(),
    })
    out.write_text(json.dumps(record))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Webhook:
    """A Slack-compatible incoming webhook on loopback that keeps every body it receives."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/x"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd on loopback, keeping each message parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        messages = self.messages

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                messages.append(parsed)
                return "250 Message accepted for delivery"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def _body(message: email.message.EmailMessage) -> str:
    """What the reader sees: the text of the body part, markup removed."""
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None
    return html.unescape(re.sub(r"<[^>]+>", "", part.get_content()))


def _read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    data = gzip.decompress(data) if path.name.endswith(".gz") else data
    return data.split(b"\n")[:-1]


def _rewrite_day(landing: Path, change) -> None:
    """Replace a landing day's files with ``change(lines)`` of each, as plain JSONL."""
    for path in sorted(landing.glob("*.jsonl*")):
        lines = change(_read_lines(path))
        path.unlink()
        path.with_name(path.name.removesuffix(".gz")).write_bytes(b"\n".join(lines) + b"\n")


def _truncate_some(lines: list[bytes]) -> list[bytes]:
    rng = random.Random(7)
    return [line[: len(line) // 2] if rng.random() < TRUNCATED_SHARE else line for line in lines]


def _listings_without_drafts(data_dir: Path, day: date) -> None:
    """Add valid listing_created events for drafts never started: more than every draft started
    in the three days before, so listings_created exceeds what the creation flow can explain."""
    landing = data_dir / "landing" / "events"
    started = sum(
        line.count(b'"listing_creation_started"')
        for back in range(3)
        for path in (landing / f"dt={day - timedelta(days=back)}").glob("*.jsonl*")
        for line in _read_lines(path)
    )
    folder = landing / f"dt={day}"
    template = next(
        json.loads(line)
        for path in sorted(folder.glob("*.jsonl*"))
        for line in _read_lines(path)
        if b'"listing_created"' in line
    )
    extra = []
    for n in range(started + 50):
        event = json.loads(json.dumps(template))
        event["event_id"] = f"bad00000-0000-4000-8000-{n:012d}"
        event["properties"]["listing_id"] = 900_000_000 + n
        event["properties"]["draft_id"] = f"never-started-{n}"
        extra.append(json.dumps(event).encode())
    (folder / "part-9999.jsonl").write_bytes(b"\n".join(extra) + b"\n")


@pytest.fixture(scope="module")
def bad_days(tmp_path_factory):
    """Run the five steps once; yield the data dir, the driver's record and the peers."""
    data_dir = tmp_path_factory.mktemp("bad_day")
    generate_world(data_dir, days=3, users=800, seed=5, start_date=START)
    landing = data_dir / "landing" / "events"
    redelivery = data_dir / "redelivery" / f"dt={BUSINESS_BAD}"
    redelivery.parent.mkdir()
    subprocess.run(["cp", "-r", str(landing / f"dt={BUSINESS_BAD}"), str(redelivery)], check=True)
    _rewrite_day(landing / f"dt={RECORD_BAD}", _truncate_some)
    _listings_without_drafts(data_dir, BUSINESS_BAD)

    webhook, mailbox = Webhook(), Mailbox()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALERT_", "SMTP_", "RAW_GATE_")) and "proxy" not in key.lower()
    }
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "AIRFLOW_HOME": str(data_dir / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": str(REPO / "plugins"),
            "ALERT_WEBHOOK_URL": webhook.url,
            "ALERT_EMAIL_TO": "oncall@example.org",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mailbox.port),
        }
    )
    steps = [
        {"name": "good", "date": str(GOOD)},
        {"name": "record_bad", "date": str(RECORD_BAD)},
        {"name": "business_bad", "date": str(BUSINESS_BAD)},
        {"name": "redelivered", "date": str(BUSINESS_BAD), "redeliver": True},
    ]
    out = data_dir / "steps.json"
    try:
        driver = subprocess.run(
            [sys.executable, "-c", DRIVER, str(data_dir), str(out), json.dumps(steps)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        assert driver.returncode == 0, driver.stdout[-3000:] + driver.stderr[-3000:]
        record = {step["step"]: step for step in json.loads(out.read_text())}
        yield data_dir, record, webhook, mailbox
    finally:
        webhook.close()
        mailbox.close()


def _runs(step: dict) -> dict[str, dict]:
    return {run["dag_id"]: run for run in step["runs"]}


def _gate_alert(data_dir: Path, dag_id: str, task_id: str, day: date) -> dict:
    alerts = [
        json.loads(line)
        for line in (data_dir / "alerts" / "alerts.jsonl").read_text().splitlines()
        if line.strip()
    ]
    found = [
        a
        for a in alerts
        if (a["kind"], a["dag_id"], a["task_id"], a["logical_date"])
        == ("gate_failed", dag_id, task_id, str(day))
    ]
    assert len(found) == 1, [(a["kind"], a["dag_id"], a["task_id"]) for a in alerts]
    return found[0]


def test_good_days_publish(bad_days):
    _, record, _, _ = bad_days
    for step in ("good", "redelivered"):
        runs = record[step]["runs"]
        assert [r["state"] for r in runs] == ["success"] * 3, (step, runs)
    first, after_bad_days = (record[s]["published"] for s in ("good", "redelivered"))
    assert first and after_bad_days
    # current moved to a new version, named after the day it published
    assert str(GOOD) in first["target"] and str(BUSINESS_BAD) in after_bad_days["target"]
    assert first["files"] != after_bad_days["files"]


@pytest.mark.parametrize(
    ("step", "before", "dag_id", "task_id", "day", "column", "check_observed"),
    [
        (
            "record_bad",
            "good",
            "ingest_events",
            "raw_gate",
            RECORD_BAD,
            "quarantine_ratio",
            lambda observed: TRUNCATED_SHARE / 2 < observed < TRUNCATED_SHARE * 2,
        ),
        (
            "business_bad",
            "good",
            "transform",
            "marts_gate",
            BUSINESS_BAD,
            "listings_without_drafts",
            lambda observed: observed >= 1,
        ),
    ],
    ids=["record_level", "business_level"],
)
def test_a_bad_day_stops_at_its_gate_keeps_the_layer_and_alerts(
    bad_days, step, before, dag_id, task_id, day, column, check_observed
):
    data_dir, record, webhook, mailbox = bad_days

    # The DAG run fails at the gate (what follows it is upstream_failed), and no later DAG
    # runs for that day.
    runs = _runs(record[step])
    assert runs[dag_id]["state"] == "failed"
    assert task_id in runs[dag_id]["failed_tasks"]
    assert list(runs)[-1] == dag_id
    if dag_id == "transform":
        assert "staging_gate" not in runs[dag_id]["failed_tasks"]
        assert "publish" in runs[dag_id]["failed_tasks"]

    # published/current: the same version, byte for byte
    assert record[step]["published"] == record[before]["published"]

    # alerts.jsonl: where, what (observed against expected), and where to look
    alert = _gate_alert(data_dir, dag_id, task_id, day)
    (failure,) = [f for f in alert["failures"] if f["column"] == column]
    assert check_observed(failure["observed"]), failure
    assert failure["expected"]["max_value"] in (0, 0.01)
    docs = alert["links"]["Data Docs"]
    assert docs.startswith("file://") and Path(docs.removeprefix("file://")).exists()
    assert alert["delivery"] == {"webhook": "delivered", "email": "delivered"}

    # The same alert on the webhook and by e-mail, naming the same things.
    expected_text = [dag_id, task_id, str(day), column, "observed", "expected", "Data Docs"]
    where = [f"DAG: {dag_id}", f"Task: {task_id}", f"Logical date: {day}"]
    posted = [b["text"] for b in webhook.bodies if all(w in b["text"] for w in where)]
    assert len(posted) == 1, [b["text"][:200] for b in webhook.bodies]
    for fragment in expected_text:
        assert fragment in posted[0], fragment
    mails = [m for m in mailbox.messages if m["Subject"].endswith(f"{dag_id}.{task_id} {day}")]
    assert len(mails) == 1
    body = _body(mails[0])
    for fragment in expected_text:
        assert fragment in body, fragment
    assert docs in body


def test_the_record_level_bad_batch_never_reaches_the_raw_zone(bad_days):
    data_dir, _, _, _ = bad_days
    raw = data_dir / "lake" / "raw" / "events"
    assert not (raw / f"batch_date={RECORD_BAD}").exists()
    assert (data_dir / "lake" / "raw" / "_pending" / "events" / f"batch_date={RECORD_BAD}").exists()
    assert (raw / f"batch_date={BUSINESS_BAD}").exists()


def test_the_alerts_carry_no_personal_data(bad_days):
    data_dir, _, webhook, mailbox = bad_days
    text = (data_dir / "alerts" / "alerts.jsonl").read_text()
    text += json.dumps(webhook.bodies)
    text += "".join(_body(m) for m in mailbox.messages)
    with sqlite3.connect(data_dir / "source" / "marketplace.sqlite") as con:
        people = con.execute("select email, phone, full_name from users").fetchall()
    for email_address, phone, name in people:
        for value in (email_address, phone, name):
            assert not value or value not in text, value
