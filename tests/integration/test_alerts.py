"""Alert delivery against real peers on loopback: an HTTP webhook and an SMTP server.

No mocks: the webhook is ``http.server`` in a thread, the mail server is aiosmtpd, and "down" is a
port nobody listens on (refused) or a socket that never answers (timeout).
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dataplatform.alerting import channels, journal
from dataplatform.alerts import Alert, raise_alert, read_alerts, record_alert, retry_outbox

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "scheduled__2026-11-02T00:00:00+00:00"
AIRFLOW_LOG = (
    "http://localhost:8080/dags/ingest_events/runs/"
    "scheduled__2026-11-02T00%3A00%3A00%2B00%3A00/tasks/raw_gate?try_number=1"
)
DATA_DOCS = "file:///srv/data/docs/gx/validations/raw_events-2026-11-02.html"
ENV_VARS = (
    "ALERT_WEBHOOK_URL",
    "ALERT_EMAIL_TO",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_STARTTLS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


# --- peers --------------------------------------------------------------------------------------


def free_port() -> int:
    """A port with no listener: connecting to it is refused until a server takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebhookServer:
    """Records every POST body; answers with ``status``; ``on_post`` runs before it answers."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict] = []
        self.status = 200
        self.on_post: Callable[[], None] | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                server.received.append({"path": self.path, "body": body})
                if server.on_post:
                    server.on_post()
                self.send_response(server.status)
                self.end_headers()
                self.wfile.write(b"ok" if server.status < 300 else b"server error")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return webhook_url(self.port)

    @property
    def bodies(self) -> list[dict]:
        return [request["body"] for request in self.received]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def webhook_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/services/T000/B000/not-a-real-token"


class MailServer:
    """aiosmtpd on loopback; keeps each message with its envelope and any AUTH used."""

    def __init__(self, port: int | None = None, *, auth: bool = False) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope) -> str:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                server.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
                return "250 Message accepted for delivery"

        def authenticator(smtp, session, envelope, mechanism, auth_data) -> AuthResult:
            server.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=True)

        extra = {"authenticator": authenticator, "auth_require_tls": False} if auth else {}
        self.port = port or free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **extra)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def body_text(message: EmailMessage) -> str:
    """What the reader sees: the text of the (only) body part, markup removed."""
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None
    return html.unescape(re.sub(r"<[^>]+>", "", part.get_content()))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets counts: no channel settings or proxies from the machine."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookServer]:
    server = WebhookServer()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", server.url)
    yield server
    server.close()


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    server = MailServer()
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org, data-team@example.org")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    yield server
    server.close()


@pytest.fixture
def alerts_file(tmp_path: Path) -> Path:
    return tmp_path / "alerts" / "alerts.jsonl"


@pytest.fixture
def started() -> Iterator[list]:
    """Servers a test starts mid-way (a peer coming back); closed at the end."""
    servers: list = []
    yield servers
    for server in servers:
        server.close()


def gate_alert(run_id: str | None = RUN_ID, **overrides) -> Alert:
    fields = {
        "kind": "gate_failed",
        "dag_id": "ingest_events",
        "task_id": "raw_gate",
        "logical_date": "2026-11-02",
        "summary": "raw gate failed for batch 2026-11-02: 2 of 14 expectations",
        "details": {"validation_result": "/srv/data/gates/raw_events-2026-11-02.json"},
        "run_id": run_id,
        "failures": [
            {
                "expectation": "expect_column_values_to_not_be_null",
                "column": "anonymous_id",
                "observed": 0.0731,
                "expected": {"column": "anonymous_id", "mostly": 0.99},
            },
            {
                "expectation": "expect_column_max_to_be_between",
                "column": "clock_skew_minutes",
                "observed": 187,
                "expected": {"column": "clock_skew_minutes", "max_value": 60},
                "why": "events from the future mean a broken client clock",
            },
        ],
        "offending_rows": 1234,
        "sample": [
            {"event_id": "00000000-0000-4000-8000-000000000007", "user_key": "pk_3f9a1c"},
            {"event_id": "00000000-0000-4000-8000-000000000009", "user_key": "pk_77d0be"},
        ],
        "links": {"Data Docs": DATA_DOCS, "Airflow log": AIRFLOW_LOG},
    }
    return Alert(**{**fields, **overrides})


def outbox(alerts_file: Path) -> list[dict]:
    return read_alerts(alerts_file.parent / "outbox.jsonl")


ACTIONABLE = (
    "ingest_events",
    "raw_gate",
    "2026-11-02",
    RUN_ID,
    "expect_column_values_to_not_be_null on anonymous_id: observed 0.0731, expected mostly=0.99",
    "expect_column_max_to_be_between on clock_skew_minutes: observed 187, expected max_value=60",
    "Offending rows: 1,234 (sample of 2",
    "00000000-0000-4000-8000-000000000007",
    "pk_77d0be",
    DATA_DOCS,
    AIRFLOW_LOG,
)


# --- delivery -----------------------------------------------------------------------------------


def test_delivers_to_webhook_and_email_with_what_a_person_needs(
    webhook: WebhookServer, mail: MailServer, alerts_file: Path
) -> None:
    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"] == {"webhook": "delivered", "email": "delivered"}
    assert record["duplicate"] is False
    assert [r["delivery"] for r in read_alerts(alerts_file)] == [record["delivery"]]

    [request] = webhook.received
    assert request["path"] == "/services/T000/B000/not-a-real-token"
    payload = request["body"]
    for needed in ACTIONABLE:
        assert needed in payload["text"], needed
    blocks = json.dumps(payload["blocks"])
    assert payload["blocks"][0]["type"] == "header"
    assert "gate_failed" in payload["blocks"][0]["text"]["text"]
    for needed in ("`ingest_events`", "`raw_gate`", "2026-11-02", "observed 187", "max_value=60"):
        assert needed in blocks, needed
    assert f"<{DATA_DOCS}|Data Docs>" in blocks
    assert f"<{AIRFLOW_LOG}|Airflow log>" in blocks

    [(sender, recipients, message)] = mail.messages
    assert message["Subject"] == "[data alert] gate_failed ingest_events.raw_gate 2026-11-02"
    assert sender == message["From"] == "dataplatform@localhost"
    assert recipients == ["oncall@example.org", "data-team@example.org"]
    body = body_text(message)
    for needed in ACTIONABLE:
        assert needed in body, needed
    assert "events from the future mean a broken client clock" in body
    assert not outbox(alerts_file)


def test_alert_is_logged_before_it_is_sent(webhook: WebhookServer, alerts_file: Path) -> None:
    seen_while_sending: list[list[dict]] = []
    webhook.on_post = lambda: seen_while_sending.append(read_alerts(alerts_file))

    record = raise_alert(gate_alert(), alerts_file)

    [[logged]] = seen_while_sending
    assert logged["alert_id"] == record["alert_id"]
    assert logged["delivery"]["webhook"] == "pending"
    assert read_alerts(alerts_file)[0]["delivery"]["webhook"] == "delivered"


def test_alert_is_logged_when_no_channel_is_configured(alerts_file: Path) -> None:
    record = raise_alert(gate_alert(), alerts_file)

    [logged] = read_alerts(alerts_file)
    assert logged["alert_id"] == record["alert_id"]
    assert logged["summary"] == gate_alert().summary
    assert logged["failures"] == gate_alert().failures
    assert logged["delivery"] == {"webhook": "not configured", "email": "not configured"}
    assert not (alerts_file.parent / "outbox.jsonl").exists()


def test_smtp_login_and_sender_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, started: list, alerts_file: Path
) -> None:
    server = MailServer(auth=True)
    started.append(server)
    for name, value in {
        "ALERT_EMAIL_TO": "oncall@example.org",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(server.port),
        "SMTP_USER": "alerts",
        "SMTP_PASSWORD": "s3cret-pass",
        "SMTP_FROM": "data-alerts@example.org",
        "SMTP_STARTTLS": "false",
    }.items():
        monkeypatch.setenv(name, value)

    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"]["email"] == "delivered"
    assert server.logins == [("alerts", "s3cret-pass")]
    [(sender, recipients, message)] = server.messages
    assert sender == message["From"] == "data-alerts@example.org"
    assert recipients == ["oncall@example.org"]


def test_legacy_record_alert_still_logs_and_is_not_taken_for_a_delivery(
    webhook: WebhookServer, alerts_file: Path
) -> None:
    legacy = Alert(
        kind="task_failed",
        dag_id="ingest_events",
        task_id="ingest",
        logical_date="2026-11-02",
        summary="ingest_events.ingest failed for 2026-11-02: OSError: disk full",
        details={"try_number": 2},
    )
    record_alert(alerts_file, legacy)
    raised = raise_alert(legacy, alerts_file)

    logged = read_alerts(alerts_file)
    assert [r["summary"] for r in logged] == [legacy.summary, legacy.summary]
    assert "delivery" not in logged[0]
    assert raised["duplicate"] is False
    assert len(webhook.received) == 1
    assert "try_number: 2" in webhook.bodies[0]["text"]


# --- dedupe -------------------------------------------------------------------------------------


def test_identical_alert_in_the_same_run_is_delivered_once(
    webhook: WebhookServer, mail: MailServer, alerts_file: Path
) -> None:
    first = raise_alert(gate_alert(), alerts_file)
    again = raise_alert(gate_alert(), alerts_file)

    assert again["duplicate"] is True
    assert again["alert_id"] == first["alert_id"]
    assert again["delivery"] == {"webhook": "delivered", "email": "delivered"}
    assert len(read_alerts(alerts_file)) == 1
    assert len(webhook.received) == 1
    assert len(mail.messages) == 1


def test_same_alert_in_another_run_is_delivered_again(
    webhook: WebhookServer, alerts_file: Path
) -> None:
    first = raise_alert(gate_alert(run_id=RUN_ID), alerts_file)
    rerun = raise_alert(gate_alert(run_id="manual__2026-11-03T08:15:00+00:00"), alerts_file)

    assert rerun["duplicate"] is False
    assert rerun["alert_id"] != first["alert_id"]
    assert len(read_alerts(alerts_file)) == 2
    assert len(webhook.received) == 2


def test_a_different_alert_in_the_same_run_is_not_a_duplicate(
    webhook: WebhookServer, alerts_file: Path
) -> None:
    raise_alert(gate_alert(), alerts_file)
    other = raise_alert(gate_alert(task_id="operational_gate"), alerts_file)

    assert other["duplicate"] is False
    assert len(webhook.received) == 2


def test_dedupe_holds_across_processes(webhook: WebhookServer, alerts_file: Path) -> None:
    """Another process raises the same alert while this one holds the alerts lock and logs the
    same alert first: the other process must wait, then find it and send nothing."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from dataplatform.alerts import Alert, raise_alert\n"
        "alert = Alert(**json.loads(sys.argv[1]))\n"
        "print('ready', flush=True)\n"
        "print(json.dumps(raise_alert(alert, Path(sys.argv[2]))))\n"
    )
    alert = gate_alert()
    fields = {name: getattr(alert, name) for name in alert.__dataclass_fields__}
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "plugins")}
    with journal.locked(alerts_file.parent):
        other = subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(fields), str(alerts_file)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # ample time to log and send, were it not waiting for the lock
        assert not alerts_file.exists()
        winner = {"alert_id": "raised-by-this-process", "key": alert.key(), "run_id": RUN_ID}
        journal.append(alerts_file, [winner])
    out, err = other.communicate(timeout=60)

    assert other.returncode == 0, err
    result = json.loads(out)
    assert result["duplicate"] is True
    assert result["alert_id"] == "raised-by-this-process"
    assert read_alerts(alerts_file) == [winner]
    assert webhook.received == []


# --- failures, outbox and retry -----------------------------------------------------------------


def test_webhook_answering_500_is_recorded_queued_and_retried(
    webhook: WebhookServer, alerts_file: Path
) -> None:
    webhook.status = 500

    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"]["webhook"].startswith("failed: HTTP 500")
    assert read_alerts(alerts_file)[0]["delivery"] == record["delivery"]
    [queued] = outbox(alerts_file)
    assert queued["alert_id"] == record["alert_id"]
    assert queued["channel"] == "webhook"
    assert queued["message"]["payload"] == webhook.bodies[0]

    webhook.status = 200
    assert retry_outbox(alerts_file.parent) == 1

    assert outbox(alerts_file) == []
    assert read_alerts(alerts_file)[0]["delivery"]["webhook"] == "delivered"
    assert len(webhook.received) == 2
    assert webhook.bodies[1] == webhook.bodies[0]


def test_webhook_refusing_connections_is_queued_until_it_comes_back(
    monkeypatch: pytest.MonkeyPatch, started: list, alerts_file: Path
) -> None:
    port = free_port()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook_url(port))

    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"]["webhook"].startswith("failed: connection refused")
    assert "not-a-real-token" not in json.dumps(read_alerts(alerts_file))
    assert retry_outbox(alerts_file.parent) == 0  # still down: stays queued
    [queued] = outbox(alerts_file)
    assert queued["tries"] == 2
    assert queued["reason"].startswith("connection refused")

    server = WebhookServer(port)
    started.append(server)
    assert retry_outbox(alerts_file.parent) == 1

    assert outbox(alerts_file) == []
    assert read_alerts(alerts_file)[0]["delivery"]["webhook"] == "delivered"
    [body] = server.bodies
    assert body == queued["message"]["payload"]
    assert "observed 187, expected max_value=60" in body["text"]


def test_webhook_that_never_answers_times_out(
    monkeypatch: pytest.MonkeyPatch, alerts_file: Path
) -> None:
    monkeypatch.setattr(channels, "TIMEOUT_SECONDS", 1.0)
    with socket.socket() as silent:  # accepts connections into its backlog, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook_url(silent.getsockname()[1]))
        started_at = time.monotonic()
        record = raise_alert(gate_alert(), alerts_file)
        elapsed = time.monotonic() - started_at

    assert record["delivery"]["webhook"] == "failed: timed out after 1s"
    assert elapsed < 5
    assert len(outbox(alerts_file)) == 1


def test_smtp_server_down_is_queued_until_it_comes_back(
    monkeypatch: pytest.MonkeyPatch, started: list, alerts_file: Path
) -> None:
    port = free_port()
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))

    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"] == {
        "webhook": "not configured",
        "email": f"failed: connection refused (127.0.0.1:{port})",
    }
    [queued] = outbox(alerts_file)
    assert queued["channel"] == "email"

    server = MailServer(port)
    started.append(server)
    assert retry_outbox(alerts_file.parent) == 1

    assert outbox(alerts_file) == []
    assert read_alerts(alerts_file)[0]["delivery"]["email"] == "delivered"
    [(_, recipients, message)] = server.messages
    assert recipients == ["oncall@example.org"]
    assert message["Subject"] == "[data alert] gate_failed ingest_events.raw_gate 2026-11-02"
    assert "observed 0.0731, expected mostly=0.99" in body_text(message)


def test_bad_smtp_setting_is_a_failed_delivery_not_an_exception(
    monkeypatch: pytest.MonkeyPatch, alerts_file: Path
) -> None:
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org")
    monkeypatch.setenv("SMTP_PORT", "twenty-five")

    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"]["email"] == (
        "failed: SMTP_PORT must be a port number, got 'twenty-five'"
    )
    assert len(outbox(alerts_file)) == 1


def test_one_channel_down_does_not_stop_the_other(
    monkeypatch: pytest.MonkeyPatch, mail: MailServer, alerts_file: Path
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook_url(free_port()))

    record = raise_alert(gate_alert(), alerts_file)

    assert record["delivery"]["webhook"].startswith("failed: connection refused")
    assert record["delivery"]["email"] == "delivered"
    assert len(mail.messages) == 1
    assert [q["channel"] for q in outbox(alerts_file)] == ["webhook"]


def test_next_successful_delivery_flushes_what_the_channel_missed(
    monkeypatch: pytest.MonkeyPatch, started: list, alerts_file: Path
) -> None:
    port = free_port()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook_url(port))
    missed = raise_alert(gate_alert(run_id="scheduled__2026-11-01T00:00:00+00:00"), alerts_file)
    assert len(outbox(alerts_file)) == 1

    server = WebhookServer(port)
    started.append(server)
    raise_alert(gate_alert(), alerts_file)

    assert len(server.received) == 2
    assert RUN_ID in server.bodies[0]["text"]
    assert "scheduled__2026-11-01" in server.bodies[1]["text"]
    assert outbox(alerts_file) == []
    by_id = {r["alert_id"]: r for r in read_alerts(alerts_file)}
    assert by_id[missed["alert_id"]]["delivery"]["webhook"] == "delivered"


# --- PII ----------------------------------------------------------------------------------------


def test_contact_details_never_leave_in_a_message(
    webhook: WebhookServer, mail: MailServer, alerts_file: Path
) -> None:
    pii = ("jan.kowalski1000042@gmail.com", "+48 512 345 678", "0151/12345678", "06.12.34.56.78")
    alert = gate_alert(
        summary=f"raw gate failed for 2026-11-02: title contains {pii[0]}",
        failures=[
            {
                "expectation": "expect_column_values_to_not_match_regex",
                "column": "title",
                "observed": [f"call {pii[1]}", "road bike 0.123456789"],
                "expected": {"regex": "contact details"},
            }
        ],
        sample=[{"event_id": "00000000-0000-4000-8000-000000000007", "title": f"tel. {pii[2]}"}],
        details={"note": f"seller wrote {pii[3]}"},
    )

    raise_alert(alert, alerts_file)

    [(_, _, message)] = mail.messages
    sent = [
        json.dumps(webhook.bodies, ensure_ascii=False),
        f"{message['Subject']}\n{body_text(message)}",
        alerts_file.read_text(),
    ]
    for where in sent:
        for value in pii:
            assert value not in where
        assert "[redacted email]" in where
        assert "[redacted phone]" in where
        # what is not contact data survives: dates, ids, decimals
        for kept in ("2026-11-02", "00000000-0000-4000-8000-000000000007", "0.123456789"):
            assert kept in where
