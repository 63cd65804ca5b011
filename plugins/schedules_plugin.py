"""Airflow plugin: registers the daily DAGs' timetable (``dataplatform.schedules``), which the
scheduler, the DAG processor and the api-server need to read the DAGs' serialised schedule.

Every Airflow process imports this file when it loads plugins: it imports only Airflow's
timetables.
"""

from airflow.plugins_manager import AirflowPlugin

from dataplatform.schedules import DailyBatchTimetable


class PlatformSchedulesPlugin(AirflowPlugin):
    name = "platform_schedules"
    timetables = [DailyBatchTimetable]  # noqa: RUF012 (AirflowPlugin's interface)
