"""The marketplace data platform: plain functions that the Airflow DAGs in ``dags/`` wire together.

Nothing here imports Airflow except :mod:`dataplatform.orchestration`, so every module can be
used and tested without a scheduler.
"""
