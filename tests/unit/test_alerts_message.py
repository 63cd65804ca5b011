"""Rendering an alert for people: plain text, Slack payload, e-mail subject."""

from __future__ import annotations

import json

from dataplatform.alerting import message
from dataplatform.alerts import Alert


def alert(**overrides) -> Alert:
    fields = {
        "kind": "gate_failed",
        "dag_id": "extract_operational",
        "task_id": "operational_gate",
        "logical_date": "2026-11-02",
        "summary": "operational gate failed for 2026-11-02: 1 of 9 expectations",
    }
    return Alert(**{**fields, **overrides})


def test_subject_names_kind_place_and_date_on_one_line() -> None:
    assert message.subject(alert(task_id="operational\ngate")) == (
        "[data alert] gate_failed extract_operational.operational gate 2026-11-02"
    )


def test_failures_from_callers_that_predate_the_failures_field_are_listed() -> None:
    legacy = alert(details={"failures": ["expect_x on price: observed -1, expected min_value=0"]})
    assert "  - expect_x on price: observed -1, expected min_value=0" in message.text(legacy)


def test_failure_shows_observed_against_expected_without_noise() -> None:
    line = message.describe_failure(
        {
            "expectation": "expect_column_values_to_be_in_set",
            "column": "currency",
            "observed": ["XXX", "ZZZ"],
            "expected": {"column": "currency", "batch_id": "b1", "value_set": ["EUR", "PLN"]},
        }
    )
    assert line == (
        'expect_column_values_to_be_in_set on currency: observed ["XXX", "ZZZ"], '
        'expected value_set=["EUR", "PLN"]'
    )


def test_sample_is_capped_and_count_is_shown() -> None:
    rows = [{"listing_id": n} for n in range(20)]
    text = message.text(alert(offending_rows=20000, sample=rows))
    assert "Offending rows: 20,000 (sample of 5, pseudonymised)" in text
    assert '{"listing_id": 4}' in text
    assert '{"listing_id": 5}' not in text


def test_slack_markup_characters_are_escaped() -> None:
    payload = message.slack_payload(alert(summary="share < 0.05 & rising > 2%"))
    assert "share &lt; 0.05 &amp; rising &gt; 2%" in json.dumps(payload["blocks"])
    assert "share &lt; 0.05 &amp; rising &gt; 2%" in payload["text"]


def test_slack_blocks_stay_within_slack_limits() -> None:
    huge = alert(
        dag_id="d" * 200,
        failures=[{"expectation": "e" * 500, "observed": "o" * 500, "expected": {}}] * 40,
    )
    blocks = message.slack_payload(huge)["blocks"]
    assert len(blocks[0]["text"]["text"]) <= message.SLACK_HEADER_CHARS
    assert all(len(b["text"]["text"]) <= message.SLACK_SECTION_CHARS for b in blocks if "text" in b)
