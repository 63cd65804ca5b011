"""What a person reads: one alert rendered as plain text, as Slack blocks and as an e-mail subject.

Every rendering says where (DAG, task, logical date, run), what failed (each expectation with
observed versus expected), how much (offending rows and a small sample) and where to look next
(links), so the reader can act without opening five tools first.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataplatform.alerts import Alert

MAX_SAMPLE_ROWS = 5
MAX_VALUE_CHARS = 200
MAX_ROW_CHARS = 400
# Slack rejects a whole message when one block is over its limit, so clip rather than hope.
SLACK_HEADER_CHARS = 150
SLACK_SECTION_CHARS = 3000
SLACK_TEXT_CHARS = 12000

# Keys of an expectation's kwargs that say nothing about the rule itself.
_NOT_A_BOUND = frozenset({"column", "batch_id"})


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return _clip(shown, MAX_VALUE_CHARS)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe_failure(failure: dict) -> str:
    """``expectation on column: observed X, expected Y (why)`` for one failed expectation."""
    expected = failure.get("expected")
    if isinstance(expected, dict):
        shown_expected = ", ".join(
            f"{key}={_show(value)}" for key, value in expected.items() if key not in _NOT_A_BOUND
        )
    else:
        shown_expected = _show(expected)
    column = failure.get("column")
    where = f" on {column}" if column else ""
    why = f" ({failure['why']})" if failure.get("why") else ""
    return (
        f"{failure.get('expectation', 'expectation')}{where}: "
        f"observed {_show(failure.get('observed'))}, expected {shown_expected or 'n/a'}{why}"
    )


def failure_lines(alert: Alert) -> list[str]:
    if alert.failures:
        return [describe_failure(failure) for failure in alert.failures]
    # Callers written before ``Alert.failures`` existed put ready-made strings into details.
    legacy = alert.details.get("failures") if isinstance(alert.details, dict) else None
    return [_show(item) for item in legacy] if isinstance(legacy, list) else []


def _detail_lines(alert: Alert) -> list[str]:
    """Scalar details only: nested metrics are long and already summarised by the failures."""
    details = alert.details if isinstance(alert.details, dict) else {}
    return [
        f"{key}: {_show(value)}"
        for key, value in details.items()
        if key != "failures" and isinstance(value, str | int | float | bool)
    ]


def _sample_rows(alert: Alert) -> list[str]:
    return [
        _clip(json.dumps(row, default=str, ensure_ascii=False), MAX_ROW_CHARS)
        for row in alert.sample[:MAX_SAMPLE_ROWS]
    ]


def _offending_heading(alert: Alert) -> str | None:
    if alert.offending_rows is None and not alert.sample:
        return None
    count = f"{alert.offending_rows:,}" if alert.offending_rows is not None else "unknown"
    shown = len(_sample_rows(alert))
    return f"Offending rows: {count}" + (f" (sample of {shown}, pseudonymised)" if shown else "")


def subject(alert: Alert) -> str:
    """``[data alert] gate_failed ingest_events.raw_gate 2026-11-02``: sortable in an inbox."""
    return _one_line(
        f"[data alert] {alert.kind} {alert.dag_id}.{alert.task_id} {alert.logical_date}"
    )


def text(alert: Alert) -> str:
    """The whole alert as plain text (the e-mail body, and the webhook's fallback text)."""
    lines = [
        f"Data alert: {alert.kind}",
        f"DAG: {alert.dag_id}",
        f"Task: {alert.task_id}",
        f"Logical date: {alert.logical_date}",
    ]
    if alert.run_id:
        lines.append(f"Run: {alert.run_id}")
    lines += ["", alert.summary]
    failures = failure_lines(alert)
    if failures:
        lines += ["", "Failed expectations:", *(f"  - {line}" for line in failures)]
    heading = _offending_heading(alert)
    if heading:
        lines += ["", heading, *(f"  {row}" for row in _sample_rows(alert))]
    details = _detail_lines(alert)
    if details:
        lines += ["", "Details:", *(f"  {line}" for line in details)]
    if alert.links:
        lines += ["", "Links:", *(f"  {label}: {url}" for label, url in alert.links.items())]
    return "\n".join(lines) + "\n"


def _slack_escape(value: str) -> str:
    """Slack reads ``<``, ``>`` and ``&`` as markup; a backtick would end a code span early."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(value: str) -> str:
    quoted = _slack_escape(value).replace("`", "'")
    return f"`{quoted}`"


def _section(markdown: str) -> dict:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(markdown, SLACK_SECTION_CHARS)},
    }


def slack_payload(alert: Alert) -> dict:
    """An incoming-webhook body: ``text`` for notifications and text-only receivers (Mattermost,
    Rocket.Chat read only that), ``blocks`` for Slack's layout."""
    where = [
        {"type": "mrkdwn", "text": f"*DAG*\n{_code(alert.dag_id)}"},
        {"type": "mrkdwn", "text": f"*Task*\n{_code(alert.task_id)}"},
        {"type": "mrkdwn", "text": f"*Logical date*\n{_slack_escape(alert.logical_date)}"},
    ]
    if alert.run_id:
        where.append({"type": "mrkdwn", "text": f"*Run*\n{_code(alert.run_id)}"})
    header = _clip(
        f"Data alert: {alert.kind} in {alert.dag_id}.{alert.task_id}", SLACK_HEADER_CHARS
    )
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        {"type": "section", "fields": where},
        _section(_slack_escape(alert.summary)),
    ]
    failures = failure_lines(alert)
    if failures:
        items = "\n".join(f"• {_slack_escape(line)}" for line in failures)
        blocks.append(_section(f"*Failed expectations*\n{items}"))
    heading = _offending_heading(alert)
    if heading:
        rows = _sample_rows(alert)
        sample = "\n```" + _slack_escape("\n".join(rows)).replace("`", "'") + "```" if rows else ""
        blocks.append(_section(f"*{_slack_escape(heading)}*{sample}"))
    details = _detail_lines(alert)
    if details:
        blocks.append(_section("*Details*\n" + "\n".join(f"• {_slack_escape(d)}" for d in details)))
    if alert.links:
        links = " · ".join(
            f"<{url.replace('&', '&amp;')}|{_slack_escape(label)}>"
            for label, url in alert.links.items()
        )
        blocks.append(_section(f"*Links*: {links}"))
    return {"text": _clip(_slack_escape(text(alert)), SLACK_TEXT_CHARS), "blocks": blocks}


def for_channel(channel: str, alert: Alert) -> dict:
    """The rendered message a channel sends; it is what the outbox keeps for a retry."""
    if channel == "webhook":
        return {"payload": slack_payload(alert)}
    if channel == "email":
        return {"subject": subject(alert), "body": text(alert)}
    raise ValueError(f"unknown alert channel {channel!r}")
