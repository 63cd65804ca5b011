"""Landing events → lake raw zone, gated.

Reads `landing/events/dt=<ds>/`, validates every record against the event contract, writes valid
records to the raw zone as Parquet (Hive-partitioned by batch and event date) and rejected ones to
the quarantine with a reason. The raw gate (Great Expectations) then checks the batch as a whole;
only a batch that passes becomes visible in the raw zone and updates the `raw_events` asset, which
schedules the transform. A missing landing folder is retried until the deadline
(`LANDING_DEADLINE_HOURS` after the day ends), then raised as a *data late* alert.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from dataplatform.assets import RAW_EVENTS
from dataplatform.dag_defaults import default_args
from dataplatform.schedules import daily


@dag(
    schedule=daily(),  # manual runs of a date cover that date too (dataplatform.schedules)
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=True,
    max_active_runs=1,
    tags=["lake", "events", "gate"],
    doc_md=__doc__,
    default_args=default_args(retries=2),
)
def ingest_events():
    @task(retries=12, retry_delay=timedelta(minutes=30))
    def wait_for_landing(ds=None, dag=None, ti=None) -> dict:
        from dataplatform.tasks import check_landing

        return check_landing(ds, dag.dag_id, ti.task_id)

    @task
    def ingest(ds=None) -> dict:
        from dataplatform.tasks import ingest_events

        return ingest_events(ds)

    @task(outlets=[RAW_EVENTS])
    def raw_gate(ds=None, dag=None, ti=None, outlet_events=None) -> dict:
        from dataplatform.tasks import raw_gate

        result = raw_gate(ds, dag.dag_id, ti.task_id)
        outlet_events[RAW_EVENTS].extra = {"batch_date": ds}  # the transform adds this batch
        return result

    wait_for_landing() >> ingest() >> raw_gate()


ingest_events()
