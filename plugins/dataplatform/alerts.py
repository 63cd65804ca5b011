"""Alerts: every alert is appended to ``alerts/alerts.jsonl``, whatever else delivers it.

``raise_alert`` is the one call a task makes when a person must act: it logs the alert, then
delivers it to a Slack-compatible webhook (``ALERT_WEBHOOK_URL``) and by e-mail
(``ALERT_EMAIL_TO`` plus ``SMTP_*``), each only when configured. A delivery that fails never
raises and never loses the alert: the log says why, and the message waits in
``alerts/outbox.jsonl`` until ``retry_outbox`` (or the next successful delivery) sends it.

Alerts are PII-free by construction: callers put only aggregated values, pseudonymised keys and
already-redacted text into them (``sample`` rows included). Free text is still scrubbed of e-mail
addresses and phone numbers before it is stored or sent, in case a caller slips.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dataplatform.alerting import channels, journal, message
from dataplatform.alerting.scrub import scrub_alert

log = logging.getLogger(__name__)

OUTBOX_NAME = "outbox.jsonl"
DELIVERED = "delivered"
PENDING = "pending"
NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class Alert:
    kind: str  # "gate_failed" | "data_late" | "task_failed"
    dag_id: str
    task_id: str
    logical_date: str
    summary: str
    details: dict = field(default_factory=dict)
    # The Airflow run; the same alert in another run (a re-run of the date) is raised again.
    run_id: str | None = None
    # One per failed expectation: {"expectation", "column", "observed", "expected", "why"?}.
    failures: list[dict] = field(default_factory=list)
    # How many rows broke the rules, and a few of them: pseudonymised, PII-free.
    offending_rows: int | None = None
    sample: list[dict] = field(default_factory=list)
    # Label -> URL, e.g. {"Data Docs": ..., "Airflow log": ...}.
    links: dict[str, str] = field(default_factory=dict)

    def key(self) -> str:
        """Identical alerts (same kind, place, date and summary) share a key."""
        return f"{self.kind}|{self.dag_id}|{self.task_id}|{self.logical_date}|{self.summary}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_alert(alerts_file: Path, alert: Alert) -> dict:
    """Append the alert to the alerts log (the delivery of last resort) and return the record."""
    record = {"raised_at": _now(), **asdict(alert)}
    # The lock keeps this append from landing in a file that raise_alert is replacing.
    with journal.locked(alerts_file.parent):
        journal.append(alerts_file, [record])
    return record


def read_alerts(alerts_file: Path) -> list[dict]:
    return journal.read(alerts_file)


def _default_alerts_file() -> Path:
    from dataplatform.config import load_settings

    return load_settings().alerts_file


def _first_raised(alerts_file: Path, key: str, run_id: str | None) -> dict | None:
    for record in journal.read(alerts_file):
        if "alert_id" in record and record.get("key") == key and record.get("run_id") == run_id:
            return record
    return None


def _set_delivery(alerts_file: Path, outcomes: dict[str, dict[str, str]]) -> None:
    """Write each alert's new per-channel outcome (``{alert_id: {channel: outcome}}``)."""

    def update(record: dict) -> dict:
        new = outcomes.get(record.get("alert_id", ""))
        if not new:
            return record
        return {**record, "delivery": {**record.get("delivery", {}), **new}}

    journal.rewrite(alerts_file, update)


def raise_alert(alert: Alert, alerts_file: Path | None = None) -> dict:
    """Log the alert, then deliver it on every configured channel; return its record.

    The record's ``delivery`` says per channel "delivered", "failed: <reason>" or "not
    configured". An alert with the same key and run id as one already raised is neither logged
    nor sent again: its first record comes back with ``duplicate`` True.
    """
    alerts_file = alerts_file or _default_alerts_file()
    folder = alerts_file.parent
    alert = scrub_alert(alert)
    env = dict(os.environ)
    active = channels.configured(env)
    record = {
        "raised_at": _now(),
        **asdict(alert),
        "alert_id": uuid.uuid4().hex,
        "key": alert.key(),
        "delivery": {c: PENDING if c in active else NOT_CONFIGURED for c in channels.CHANNELS},
    }
    # Check and append under one lock: two processes raising the same alert log it once.
    with journal.locked(folder):
        first = _first_raised(alerts_file, record["key"], alert.run_id)
        if first is None:
            journal.append(alerts_file, [record])
    if first is not None:
        log.info("alert %s already raised in this run; not sent again", first["alert_id"])
        return {**first, "duplicate": True}

    outcomes: dict[str, str] = {}
    queued: list[dict] = []
    for channel in active:
        rendered: dict = {}
        try:
            rendered = message.for_channel(channel, alert)
            channels.send(channel, rendered, env)
        # Any error at all: an alert is raised because something already went wrong, and a
        # delivery problem must not replace that failure or lose the alert.
        except Exception as err:
            reason = err.reason if isinstance(err, channels.DeliveryError) else repr(err)
            outcomes[channel] = f"failed: {reason}"
            log.warning("alert %s not delivered by %s: %s", record["alert_id"], channel, reason)
            if rendered:
                queued.append(_outbox_entry(record, alerts_file, channel, rendered, reason))
        else:
            outcomes[channel] = DELIVERED
            log.info("alert %s delivered by %s", record["alert_id"], channel)
    if outcomes:
        with journal.locked(folder):
            journal.append(folder / OUTBOX_NAME, queued)
            _set_delivery(alerts_file, {record["alert_id"]: outcomes})
        record["delivery"].update(outcomes)
    # A channel that works now is the moment to send what it missed earlier.
    working = {channel for channel, outcome in outcomes.items() if outcome == DELIVERED}
    if working:
        try:
            _flush(folder, only=working, wait=False)
        except Exception:  # a bonus for older alerts; must not fail this one
            log.warning("outbox flush after alert %s failed", record["alert_id"], exc_info=True)
    return {**record, "duplicate": False}


def _outbox_entry(
    record: dict, alerts_file: Path, channel: str, rendered: dict, reason: str
) -> dict:
    now = _now()
    return {
        "outbox_id": uuid.uuid4().hex,
        "alert_id": record["alert_id"],
        "alerts_file": alerts_file.name,
        "channel": channel,
        "message": rendered,
        "reason": reason,
        "queued_at": now,
        "tries": 1,
        "last_try_at": now,
    }


def retry_outbox(alerts_dir: Path | None = None) -> int:
    """Re-send every queued delivery in ``alerts_dir`` (default: ``DATA_DIR/alerts``) with the
    channel settings in the environment now; drop the delivered ones from the outbox, mark them
    delivered in the alerts log, and return how many were delivered."""
    alerts_dir = alerts_dir or _default_alerts_file().parent
    return _flush(alerts_dir, only=None, wait=True)


def _flush(folder: Path, only: set[str] | None, wait: bool) -> int:
    outbox = folder / OUTBOX_NAME
    with journal.locked(folder, journal.FLUSH_LOCK, wait=wait) as acquired:
        if not acquired:
            return 0  # another process is flushing right now
        with journal.locked(folder):
            entries = journal.read(outbox)
        env = dict(os.environ)
        results: dict[str, str] = {}
        down: dict[str, str] = {}  # channel -> why; one timeout per channel is enough
        for entry in entries:
            channel = entry.get("channel", "")
            if only is not None and channel not in only:
                continue
            if channel in down:
                results[entry["outbox_id"]] = down[channel]
                continue
            try:
                channels.send(channel, entry["message"], env)
            except Exception as err:
                reason = err.reason if isinstance(err, channels.DeliveryError) else repr(err)
                results[entry["outbox_id"]] = f"failed: {reason}"
                if isinstance(err, channels.DeliveryError) and err.unreachable:
                    down[channel] = f"failed: {reason}"
            else:
                results[entry["outbox_id"]] = DELIVERED
        if not results:
            return 0
        now = _now()

        def update_outbox(entry: dict) -> dict | None:
            outcome = results.get(entry.get("outbox_id", ""))
            if outcome is None:
                return entry  # queued after our snapshot, or another channel's
            if outcome == DELIVERED:
                return None
            return {
                **entry,
                "reason": outcome.removeprefix("failed: "),
                "tries": entry.get("tries", 1) + 1,
                "last_try_at": now,
            }

        by_file: dict[str, dict[str, dict[str, str]]] = {}
        for entry in entries:
            outcome = results.get(entry["outbox_id"])
            if outcome is not None:
                per_alert = by_file.setdefault(entry.get("alerts_file", "alerts.jsonl"), {})
                per_alert.setdefault(entry["alert_id"], {})[entry["channel"]] = outcome
        with journal.locked(folder):
            journal.rewrite(outbox, update_outbox)
            for name, outcomes in by_file.items():
                _set_delivery(folder / name, outcomes)
    delivered = sum(outcome == DELIVERED for outcome in results.values())
    if delivered:
        log.info("outbox: %d queued alert deliveries sent", delivered)
    return delivered
