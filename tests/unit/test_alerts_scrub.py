"""The defensive scrub: contact details go, everything an on-call person needs stays."""

from __future__ import annotations

import pytest

from dataplatform.alerting.scrub import (
    EMAIL_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    scrub_alert,
    scrub_text,
    scrub_value,
)
from dataplatform.alerts import Alert

# Every style the demo generator writes (dataplatform.generator.pii.phone_numbers), plus two
# common ones from elsewhere.
PHONES = [
    "+48 512 345 678",
    "512 345 678",
    "+48512345678",
    "512-345-678",
    "+49 151 12345678",
    "0151 12345678",
    "+4915112345678",
    "0151/12345678",
    "+33 6 12 34 56 78",
    "06 12 34 56 78",
    "+33612345678",
    "06.12.34.56.78",
    "+34 612 34 56 78",
    "612345678",
    "(555) 123-4567",
    "+49 (0)151 1234567",
]

EMAILS = [
    "jan.kowalski1000042@gmail.com",
    "m_schmidt+ads@web.de",
    "Ana.Garcia@correo.example.es",
]

NOT_CONTACT_DETAILS = [
    "2026-11-02",
    "2026-11-02T10:00:00+00:00",
    "2026-11-02 10:00:00",
    "from 2026-11-01 to 2026-11-02",
    "scheduled__2026-11-02T00:00:00+00:00",
    "00000000-0000-4000-8000-000000000001",
    "8a1c1d9e-2f43-4b4e-9a51-5d7f1c0e2b11",
    "0.123456789",
    "12345678",
    "1,234,567,890 rows",
    "3 of 14 expectations",
    "127.0.0.1",
    "v1.2.3",
    "u0000001",
    "/srv/data/gates/raw_events-2026-11-02.json",
    "http://localhost:8080/dags/x/runs/manual__2026-11-02T00%3A00%3A00%2B00%3A00/tasks/y",
]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize(
    "template", ["{}", "Call me: {}", "tel. {}.", "tel:{}, thanks", "sms {}\n"]
)
def test_phone_numbers_are_redacted(phone: str, template: str) -> None:
    scrubbed = scrub_text(template.format(phone))
    assert phone not in scrubbed
    assert scrubbed == template.format(PHONE_PLACEHOLDER)


@pytest.mark.parametrize("address", EMAILS)
def test_email_addresses_are_redacted(address: str) -> None:
    assert scrub_text(f"Email: {address}.") == f"Email: {EMAIL_PLACEHOLDER}."


@pytest.mark.parametrize("text", NOT_CONTACT_DETAILS)
def test_what_is_not_a_contact_detail_is_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_only_strings_are_scrubbed_numbers_stay_numbers() -> None:
    value = {"count": 512345678, "rows": [{"title": "tel 512 345 678", "price": 120.5}]}
    assert scrub_value(value) == {
        "count": 512345678,
        "rows": [{"title": f"tel {PHONE_PLACEHOLDER}", "price": 120.5}],
    }


def test_alert_free_text_is_scrubbed_identifiers_and_links_are_not() -> None:
    alert = Alert(
        kind="gate_failed",
        dag_id="ingest_events",
        task_id="raw_gate",
        logical_date="2026-11-02",
        summary="title has a@b.example.com",
        details={"note": "call 512 345 678"},
        run_id="manual__2026-11-02T00:00:00+00:00",
        failures=[{"expectation": "e", "observed": ["x@y.example.org"], "expected": {}}],
        sample=[{"title": "+48512345678"}],
        links={"Airflow log": "http://localhost:8080/dags/ingest_events/runs/1"},
    )
    scrubbed = scrub_alert(alert)
    assert scrubbed.summary == f"title has {EMAIL_PLACEHOLDER}"
    assert scrubbed.details == {"note": f"call {PHONE_PLACEHOLDER}"}
    assert scrubbed.failures[0]["observed"] == [EMAIL_PLACEHOLDER]
    assert scrubbed.sample == [{"title": PHONE_PLACEHOLDER}]
    assert (scrubbed.dag_id, scrubbed.run_id, scrubbed.links) == (
        alert.dag_id,
        alert.run_id,
        alert.links,
    )
