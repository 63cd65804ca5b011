"""Delivery channels: a Slack-compatible webhook and e-mail, through Airflow's provider hooks.

Settings come from the environment (the webhook URL and SMTP password are secrets and never leave
it: the outbox stores the rendered message, not where it goes). Each hook is handed a
``Connection`` built here from those variables instead of looking one up: a lookup goes through
the task's secrets backends, which exist only inside a running task, while ``raise_alert`` must
also work from tests and the command line.

Every failure surfaces as ``DeliveryError`` with a short reason that is safe to store: no URL
token, no password.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WEBHOOK = "webhook"
EMAIL = "email"
CHANNELS: tuple[str, ...] = (WEBHOOK, EMAIL)
# The variable that switches each channel on.
SWITCHES: dict[str, str] = {WEBHOOK: "ALERT_WEBHOOK_URL", EMAIL: "ALERT_EMAIL_TO"}

# Short, so that an unreachable peer delays a failing task by seconds, not minutes.
TIMEOUT_SECONDS = 5.0

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class DeliveryError(Exception):
    """A message was not delivered. ``unreachable``: the peer could not be reached at all, so
    other messages to it will fail the same way right now."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


def configured(env: Mapping[str, str]) -> list[str]:
    """The channels switched on in ``env``, in delivery order."""
    return [channel for channel in CHANNELS if env.get(SWITCHES[channel], "").strip()]


def send(channel: str, message: dict, env: Mapping[str, str]) -> None:
    """Send a message rendered by ``message.for_channel``; raise ``DeliveryError`` on failure."""
    if channel not in configured(env):
        raise DeliveryError(f"{SWITCHES.get(channel, channel)} is not set")
    if channel == WEBHOOK:
        post_webhook(env[SWITCHES[WEBHOOK]].strip(), message["payload"])
    elif channel == EMAIL:
        send_email(env[SWITCHES[EMAIL]], message["subject"], message["body"], env)
    else:
        raise DeliveryError(f"unknown channel {channel!r}")


def _with_connection(hook_class: type, connection: Any) -> type:
    """A subclass of ``hook_class`` that uses ``connection`` instead of looking one up."""

    class _Bound(hook_class):  # type: ignore[misc, valid-type]
        def get_connection(self, conn_id: str) -> Any:
            return connection

    return _Bound


def _redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return " ".join(text.split())[:300]


def _mask_in_task_logs(*secrets: str | None) -> None:
    """Airflow masks these in task logs; outside a task this only registers them."""
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        if secret and len(secret) >= 5:
            mask_secret(secret)


def post_webhook(url: str, payload: dict, timeout: float | None = None) -> None:
    """POST ``payload`` as JSON with the HTTP provider's ``HttpHook``; any 2xx is delivered."""
    import requests
    from airflow.providers.http.hooks.http import HttpHook
    from airflow.sdk import Connection

    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DeliveryError("ALERT_WEBHOOK_URL must be an http(s) URL")
    # Slack-style webhook URLs carry their token in the path.
    token = parts.path + (f"?{parts.query}" if parts.query else "")
    _mask_in_task_logs(url, token if len(token) > 1 else None)
    # HttpHook uses a host that contains "://" as the whole base URL, so the full webhook URL
    # (path and query included) is posted to as it is.
    connection = Connection(conn_id="dataplatform_alert_webhook", conn_type="http", host=url)
    hook = _with_connection(HttpHook, connection)(method="POST", http_conn_id=connection.conn_id)
    try:
        response = hook.run(
            endpoint=None,
            json=payload,
            extra_options={"timeout": timeout, "check_response": False},
        )
    except requests.exceptions.Timeout:
        raise DeliveryError(f"timed out after {timeout:g}s", unreachable=True) from None
    except requests.exceptions.ConnectionError as err:
        reason = "connection refused" if "refused" in str(err).lower() else "cannot connect"
        where = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        raise DeliveryError(f"{reason} ({where})", unreachable=True) from None
    except Exception as err:
        raise DeliveryError(f"{type(err).__name__}: {_redact(str(err), [url, token])}") from None
    if not 200 <= response.status_code < 300:
        body = _redact(response.text or "", [url, token])[:100]
        raise DeliveryError(f"HTTP {response.status_code} {response.reason}: {body}".rstrip(": "))


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        raw_port = env.get("SMTP_PORT", "").strip() or "25"
        try:
            port = int(raw_port)
        except ValueError:
            raise DeliveryError(f"SMTP_PORT must be a port number, got {raw_port!r}") from None
        raw_tls = env.get("SMTP_STARTTLS", "").strip().lower()
        if raw_tls not in _TRUE | _FALSE:
            raise DeliveryError(f"SMTP_STARTTLS must be true or false, got {raw_tls!r}")
        return cls(
            host=env.get("SMTP_HOST", "").strip() or "localhost",
            port=port,
            user=env.get("SMTP_USER") or None,
            password=env.get("SMTP_PASSWORD") or None,
            sender=env.get("SMTP_FROM", "").strip() or "dataplatform@localhost",
            starttls=raw_tls in _TRUE,
        )


def _html_body(body: str) -> str:
    return f'<pre style="font-family: monospace; white-space: pre-wrap">{html.escape(body)}</pre>'


def send_email(to: str, subject: str, body: str, env: Mapping[str, str]) -> None:
    """Send with the SMTP provider's ``SmtpHook``. Its ``send_email_smtp`` only builds HTML
    bodies, so the plain text goes in a ``<pre>`` block: every mail client shows it as written."""
    import smtplib

    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk import Connection

    smtp = SmtpSettings.from_env(env)
    _mask_in_task_logs(smtp.password)
    extra = {
        "from_email": smtp.sender,
        "timeout": max(1, round(TIMEOUT_SECONDS)),
        # The hook retries 5 times by default; the outbox is the retry here, so fail fast.
        "retry_limit": 0,
        # Implicit TLS (SMTPS, port 465) is the hook's default; these settings mean plain SMTP,
        # upgraded with STARTTLS only when asked.
        "disable_ssl": True,
        "disable_tls": not smtp.starttls,
    }
    connection = Connection(
        conn_id="dataplatform_alert_smtp",
        conn_type="smtp",
        host=smtp.host,
        port=smtp.port,
        login=smtp.user,
        password=smtp.password,
        extra=json.dumps(extra),
    )
    hook = _with_connection(SmtpHook, connection)(smtp_conn_id=connection.conn_id)
    where = f"{smtp.host}:{smtp.port}"
    try:
        with hook as client:
            client.send_email_smtp(
                to=to, subject=subject, html_content=_html_body(body), from_email=smtp.sender
            )
    except ConnectionRefusedError:
        raise DeliveryError(f"connection refused ({where})", unreachable=True) from None
    except TimeoutError:
        raise DeliveryError(
            f"timed out after {TIMEOUT_SECONDS:g}s ({where})", unreachable=True
        ) from None
    except smtplib.SMTPAuthenticationError as err:
        raise DeliveryError(f"authentication failed at {where}: {err.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused as err:
        raise DeliveryError(f"recipients refused by {where}: {sorted(err.recipients)}") from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as err:
        reason = _redact(str(err), [smtp.password or ""]) or type(err).__name__
        raise DeliveryError(f"cannot reach {where}: {reason}", unreachable=True) from None
    except Exception as err:
        reason = _redact(str(err), [smtp.password or ""])
        raise DeliveryError(f"{type(err).__name__} at {where}: {reason}") from None
