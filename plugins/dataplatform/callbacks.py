"""Airflow callbacks; they read only the context they are given, so DAG files stay light."""

from __future__ import annotations

from typing import Any


def alert_on_failure(context: dict[str, Any]) -> None:
    """Record a task failure as an alert (gates and late data record their own, richer ones)."""
    from dataplatform.alerts import Alert, raise_alert
    from dataplatform.config import load_settings

    ti = context["ti"]
    exception = context.get("exception")
    if getattr(exception, "alerted", False):
        return
    raise_alert(
        Alert(
            kind="task_failed",
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            logical_date=str(context.get("ds")),
            summary=f"{ti.dag_id}.{ti.task_id} failed for {context.get('ds')}: "
            f"{type(exception).__name__ if exception else 'unknown error'}: {exception}",
            details={"try_number": getattr(ti, "try_number", None)},
            run_id=context.get("run_id"),
            links={"Airflow log": ti.log_url},
        ),
        load_settings().alerts_file,
    )
