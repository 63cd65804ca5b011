"""Alert delivery behind ``dataplatform.alerts.raise_alert``: one job per module.

- ``scrub``: removes e-mail addresses and phone numbers from an alert's free text;
- ``message``: renders an alert for a person (plain text, Slack blocks, e-mail subject);
- ``channels``: sends to the webhook and over SMTP through Airflow's provider hooks;
- ``journal``: the alert log and the outbox as JSON lines, safe across processes.

PII rule: callers put only aggregated values, or samples whose user keys are already
pseudonymised and whose free text is already redacted, into an alert. ``scrub`` is a last line of
defence against a mistake, not the mechanism that makes alerts PII-free.

Flush the outbox by hand with ``python -m dataplatform.alerting flush``.
"""
