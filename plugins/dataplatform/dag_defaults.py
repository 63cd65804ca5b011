"""What every DAG of the platform shares: owner, retries, and the failure alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dataplatform.callbacks import alert_on_failure

OWNER = "data-platform"


def default_args(retries: int = 2) -> dict[str, Any]:
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": alert_on_failure,
    }
