"""The daily DAGs' schedule: one run per UTC day, whose data interval is that day, whether the
scheduler, ``make demo`` / ``make run`` or a user (UI, REST API) started it.

Airflow's ``CronDataIntervalTimetable`` gives a *manual* run with logical date D the interval
that ends at D (the day before), while its scheduled run of D covers D to D + 1. When the
scheduler reaches a date that a manual run already holds (``make demo`` records its runs through
``DAG.test()`` with the logical date of each day; a user can trigger a date at midnight), it takes
that run as the last scheduled one, computes D again from its interval, logs "run already exists"
and never schedules another date (apache/airflow#41208; Airflow 3.3 loops on it every second).
Here a manual run of D covers D to D + 1 like the scheduled one, so the scheduler moves on.

Airflow finds this class through ``plugins/schedules_plugin.py`` (a custom timetable must be
registered by a plugin for the scheduler and the api-server to read it back from the DAG's
serialised form); it imports nothing but Airflow's timetables.
"""

from __future__ import annotations

from airflow.timetables.base import DataInterval
from airflow.timetables.interval import CronDataIntervalTimetable
from pendulum import DateTime


class DailyBatchTimetable(CronDataIntervalTimetable):
    """``CronDataIntervalTimetable`` whose manual runs cover the period starting at their
    logical date (the scheduled run's interval), not the period before it."""

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        start = self._align_to_prev(run_after)
        return DataInterval(start=start, end=self._get_next(start))


def daily() -> DailyBatchTimetable:
    """The schedule of the daily DAGs: every day at 00:00 UTC, for the day that starts then."""
    return DailyBatchTimetable("@daily", timezone="UTC")
