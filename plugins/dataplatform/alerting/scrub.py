"""Defensive removal of e-mail addresses and phone numbers from an alert's free text.

Alerts are PII-free by construction (callers pass aggregates and pseudonymised samples); this
catches the mistake where an offending value, copied into a message, is someone's contact detail.
Only strings are scrubbed: numbers stay numbers, so an observed count is never redacted. In free
text a long bare number (9 to 15 digits) is treated as a phone number: redacting a harmless number
costs less than sending a real one to a chat channel.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataplatform.alerts import Alert

EMAIL_PLACEHOLDER = "[redacted email]"
PHONE_PLACEHOLDER = "[redacted phone]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# Digit groups joined by single separators, as people write numbers ("+48 512 345 678",
# "0151/12345678", "06.12.34.56.78", "+49 (0)151 1234567"). The look-arounds keep the match from
# starting or ending inside a word, an identifier, a time or a longer number, so dates, UUIDs and
# run ids are candidates only as a whole and then fail the digit count below.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+])(?<!\d[./:-])"
    r"\+?(?:\(\d{1,4}\)\s?)?\d+(?:[ ./-](?:\(\d{1,4}\)\s?)?\d+)*"
    r"(?![\w:]|[./-]\w)"
)
_DECIMAL = re.compile(r"\d+\.\d+")
# E.164 numbers have at most 15 digits; the marketplace's countries (PL, DE, FR, ES) at least 9.
_PHONE_DIGITS = range(9, 16)


def _phone_or_keep(match: re.Match[str]) -> str:
    candidate = match.group()
    digits = sum(ch.isdigit() for ch in candidate)
    if digits not in _PHONE_DIGITS or _DECIMAL.fullmatch(candidate):
        return candidate
    return PHONE_PLACEHOLDER


def scrub_text(text: str) -> str:
    """``text`` with e-mail addresses and phone-number-like strings replaced by placeholders."""
    return _PHONE_CANDIDATE.sub(_phone_or_keep, _EMAIL.sub(EMAIL_PLACEHOLDER, text))


def scrub_value(value: Any) -> Any:
    """Scrub every string inside ``value`` (dict values, list items); keys are column names."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(item) for item in value]
    return value


def scrub_alert(alert: Alert) -> Alert:
    """The alert with its free-text fields scrubbed. Identifiers (DAG, task, dates, run id) and
    links are built by the platform, not typed by people, and are left as they are."""
    return dataclasses.replace(
        alert,
        summary=scrub_text(alert.summary),
        details=scrub_value(alert.details),
        failures=scrub_value(alert.failures),
        sample=scrub_value(alert.sample),
    )
