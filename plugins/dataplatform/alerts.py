"""Alerts: every alert is appended to ``alerts/alerts.jsonl``, whatever else delivers it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Alert:
    kind: str  # "gate_failed" | "data_late" | "task_failed"
    dag_id: str
    task_id: str
    logical_date: str
    summary: str
    details: dict = field(default_factory=dict)

    def key(self) -> str:
        """Identical alerts (same kind, place, date and summary) share a key."""
        return f"{self.kind}|{self.dag_id}|{self.task_id}|{self.logical_date}|{self.summary}"


def record_alert(alerts_file: Path, alert: Alert) -> dict:
    """Append the alert to the alerts log (the delivery of last resort) and return the record."""
    record = {
        "raised_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **asdict(alert),
    }
    alerts_file.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, default=str) + "\n"
    # One write of one line with O_APPEND: concurrent tasks never interleave their alerts.
    fd = os.open(alerts_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return record


def read_alerts(alerts_file: Path) -> list[dict]:
    if not alerts_file.exists():
        return []
    return [json.loads(line) for line in alerts_file.read_text().splitlines() if line.strip()]
