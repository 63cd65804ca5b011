"""Task bodies of the DAGs: the thin Airflow-facing layer over the platform's plain functions.

Each function takes the run's logical date (``ds``), calls the platform, and turns an outcome a
user must act on into an alert plus ``AirflowFailException`` (no retry: retrying cannot help).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import NoReturn

from airflow.sdk.exceptions import AirflowFailException

from dataplatform.alerts import Alert, raise_alert
from dataplatform.config import load_settings


class AlertedFailure(AirflowFailException):
    """A failure whose alert was already raised; the generic failure callback stays quiet."""

    alerted = True


def _run_context() -> tuple[str | None, dict[str, str]]:
    """The run id and the task log link inside a running task; nothing elsewhere (tests)."""
    from airflow.sdk import get_current_context

    try:
        context = get_current_context()
    except RuntimeError:
        return None, {}
    return context.get("run_id"), {"Airflow log": context["ti"].log_url}


def _fail(alert: Alert) -> NoReturn:
    run_id, links = _run_context()
    alert = dataclasses.replace(
        alert, run_id=alert.run_id or run_id, links={**links, **alert.links}
    )
    raise_alert(alert, load_settings().alerts_file)
    raise AlertedFailure(alert.summary)


def _gate_alert(result, label: str, ds: str, dag_id: str, task_id: str) -> Alert:
    """A failed gate as an alert: each expectation with observed versus expected, and links."""
    return Alert(
        kind="gate_failed",
        dag_id=dag_id,
        task_id=task_id,
        logical_date=ds,
        summary=f"{label} failed for {ds}: "
        f"{len(result.failures)} of {result.evaluated} expectations",
        details={
            "failures": [f.describe() for f in result.failures],
            "metrics": result.metrics,
            "validation_result": result.result_path,
        },
        failures=[asdict(f) for f in result.failures],
        offending_rows=result.offending_rows,
        sample=result.sample,
        links={
            label: url
            for label, url in (
                ("Data Docs", result.docs_url),
                (
                    "Validation result",
                    Path(result.result_path).as_uri() if result.result_path else None,
                ),
            )
            if url
        },
    )


def check_landing(ds: str, dag_id: str, task_id: str) -> dict:
    """Succeed when the day's landing folder exists. Before the deadline a missing folder fails
    the try (Airflow retries); after it, the data is late: alert, and fail for good."""
    from dataplatform.landing import LandingMissing, list_batch

    settings = load_settings()
    day = date.fromisoformat(ds)
    try:
        files = list_batch(settings.landing_dir, day)
    except LandingMissing as missing:
        day_end = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)
        deadline = day_end + timedelta(hours=settings.landing_deadline_hours)
        if datetime.now(timezone.utc) < deadline:
            raise RuntimeError(f"{missing}; waiting until {deadline:%Y-%m-%d %H:%M} UTC") from None
        _fail(
            Alert(
                kind="data_late",
                dag_id=dag_id,
                task_id=task_id,
                logical_date=ds,
                summary=f"events for {ds} have not landed by the deadline "
                f"{deadline:%Y-%m-%d %H:%M} UTC",
                details={"expected_folder": str(missing).split(":")[0]},
            )
        )
    return {"files": len(files), "bytes": sum(f.size_bytes for f in files)}


def ingest_events(ds: str) -> dict:
    from dataplatform.ingest.batch import ingest_batch

    result = ingest_batch(load_settings().data_dir, date.fromisoformat(ds))
    summary = result.to_json()
    summary.pop("files")
    return summary


def raw_gate(ds: str, dag_id: str, task_id: str) -> dict:
    """Validate the pending batch; publish it to the raw zone only if every expectation held."""
    from dataplatform.gates.raw import run_raw_gate
    from dataplatform.ingest.batch import promote_batch

    settings = load_settings()
    day = date.fromisoformat(ds)
    result = run_raw_gate(settings.data_dir, day)
    if not result.success:
        _fail(_gate_alert(result, "raw gate", ds, dag_id, task_id))
    promote_batch(settings.data_dir, day)
    return {"success": True, "evaluated": result.evaluated, "metrics": result.metrics}


def extract_operational(ds: str, dag_id: str, task_id: str) -> dict:
    """Extract the day's changes; an unreadable source is one clear alert, not a traceback."""
    from dataplatform.extract.operational import SourceError, extract_all, safe_url

    settings = load_settings()
    try:
        extractions = extract_all(settings.source_db_url, settings.lake_dir, date.fromisoformat(ds))
    except SourceError as err:
        _fail(
            Alert(
                kind="task_failed",
                dag_id=dag_id,
                task_id=task_id,
                logical_date=ds,
                summary=f"operational extraction failed for {ds}: {err}",
                details={"source": safe_url(settings.source_db_url)},
            )
        )
    return {e.table: {"rows": e.rows, "since": e.since, "until": e.until} for e in extractions}


def operational_gate(ds: str, dag_id: str, task_id: str) -> dict:
    from dataplatform.extract.operational import promote_extractions
    from dataplatform.gates.operational import run_operational_gate

    settings = load_settings()
    day = date.fromisoformat(ds)
    result = run_operational_gate(settings.data_dir, day)
    if not result.success:
        _fail(_gate_alert(result, "operational gate", ds, dag_id, task_id))
    promote_extractions(settings.lake_dir, day)
    return {"success": True, "evaluated": result.evaluated, "metrics": result.metrics}


def transform_date(ds: str | None, conf: dict | None, triggering_events: dict | None) -> str:
    """The landing date a transform run adds: from the run's conf (make run, backfills), else
    from the asset events that triggered it (the newest batch), else the logical date."""
    if conf and conf.get("date"):
        return str(conf["date"])
    dates = [
        event.extra["batch_date"]
        for events in (triggering_events or {}).values()
        for event in events
        if getattr(event, "extra", None) and event.extra.get("batch_date")
    ]
    if dates:
        return max(dates)
    if ds:
        return ds
    raise AirflowFailException("no date to transform: pass conf {'date': 'YYYY-MM-DD'}")


def dbt_layer(run_date: str, layers: Sequence[str], dag_id: str, task_id: str) -> dict:
    """Build the given dbt layers' models for the date's new batch; the gates check the data."""
    from dataplatform.transform.dbt import DbtError, DbtPaths, dbt_args, run_dbt

    settings = load_settings()
    args = dbt_args(
        "build",
        select=[f"path:models/{layer}" for layer in layers],
        run_date=date.fromisoformat(run_date),
        version_id=planned_version_id(run_date),
        data_tests=False,
        paths=DbtPaths.under(settings.data_dir),
    )
    try:
        result = run_dbt(args, settings.data_dir)
    except DbtError as err:
        _fail(
            Alert(
                kind="task_failed",
                dag_id=dag_id,
                task_id=task_id,
                logical_date=run_date,
                summary=f"dbt build of {', '.join(layers)} failed for {run_date}",
                details={"error": str(err)[:2000]},
            )
        )
    return {"seconds": round(result.seconds, 2), "nodes": len(result.nodes)}


def planned_version_id(run_date: str) -> str:
    from dataplatform.publish.publish import plan_version

    return plan_version(load_settings().data_dir, date.fromisoformat(run_date))[0]


def publish(run_date: str) -> dict:
    """Publish the audited candidate as a new version and point ``current`` at it."""
    from dataplatform.publish.publish import audit_record, plan_version, publish_candidate
    from dataplatform.transform.dbt import DbtPaths

    settings = load_settings()
    day = date.fromisoformat(run_date)
    paths = DbtPaths.under(settings.data_dir)
    version_id, manifest = plan_version(settings.data_dir, day)
    manifest.update(audit_record(settings.data_dir, day, paths.target / "manifest.json"))
    path = publish_candidate(
        settings.data_dir,
        paths.warehouse,
        version_id,
        manifest,
        dbt_manifest=paths.target / "manifest.json",
    )
    return {"version_id": version_id, "path": str(path)}


def dbt_docs(run_date: str, version_id: str, dag_id: str, task_id: str) -> dict:
    """Write the dbt docs site of the version just published (``docs/dbt/<version_id>/``)."""
    from dataplatform.docs_site import generate_dbt_docs
    from dataplatform.transform.dbt import DbtError

    settings = load_settings()
    try:
        site = generate_dbt_docs(settings.data_dir, version_id, date.fromisoformat(run_date))
    except DbtError as err:
        _fail(
            Alert(
                kind="task_failed",
                dag_id=dag_id,
                task_id=task_id,
                logical_date=run_date,
                summary=f"dbt docs of published version {version_id} failed for {run_date}",
                details={"error": str(err)[:2000]},
            )
        )
    return {"version_id": version_id, "site": str(site / "index.html")}


def warehouse_gate(run_date: str, layer: str, dag_id: str, task_id: str) -> dict:
    """The gate after a dbt layer ('staging' or 'marts'): a failure stops the publish."""
    from dataplatform.gates.warehouse import run_marts_gate, run_staging_gate
    from dataplatform.transform.dbt import DbtPaths

    settings = load_settings()
    day = date.fromisoformat(run_date)
    warehouse = DbtPaths.under(settings.data_dir).warehouse
    gate = run_staging_gate if layer == "staging" else run_marts_gate
    result = gate(settings.data_dir, warehouse, day)
    if not result.success:
        _fail(_gate_alert(result, f"{layer} gate", run_date, dag_id, task_id))
    return {"success": True, "evaluated": result.evaluated, "metrics": result.metrics}
