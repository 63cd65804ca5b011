"""Airflow UI plugin: the docs sites, served by the api-server behind Airflow's login and linked
from the UI's navigation, so the definition and lineage of a metric are one click from its runs.

* ``/platform-docs/``: front page (the published version, the latest data quality validations)
* ``/platform-docs/dbt/current/``: the dbt docs of the published version (``dbt/<version_id>/``
  for an older one)
* ``/platform-docs/quality/``: the Great Expectations Data Docs

Every Airflow process imports this file when it loads plugins, so it imports nothing heavy: the
docs app (FastAPI, the platform package) is built on its first request, in the api-server.
"""

from typing import Any

from airflow.plugins_manager import AirflowPlugin

DOCS_PREFIX = "/platform-docs"


def _login_dependency() -> Any:
    """A FastAPI dependency: Airflow's own authentication (its session cookie or a bearer token).
    A visitor who is not logged in is sent to the login page, and comes back afterwards."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
    from fastapi import Depends, HTTPException, Request, status
    from fastapi.security import HTTPAuthorizationCredentials

    async def login_required(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008
    ) -> None:
        try:
            await get_user(request, None, credentials)
        except HTTPException as err:
            if err.status_code not in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
                raise
            login = get_auth_manager().get_url_login(next_url=str(request.url))
            raise HTTPException(
                status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": login}
            ) from None

    return Depends(login_required)


class _DocsApp:
    """An ASGI app that builds the docs app on its first request."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self._app is None:
            from dataplatform.config import load_settings
            from dataplatform.docs_site import create_app

            self._app = create_app(load_settings().data_dir, [_login_dependency()])
        await self._app(scope, receive, send)


class PlatformDocsPlugin(AirflowPlugin):
    name = "platform_docs"
    fastapi_apps = [  # noqa: RUF012 (AirflowPlugin's interface is class attributes)
        {"app": _DocsApp(), "url_prefix": DOCS_PREFIX, "name": "Data platform docs sites"}
    ]
    # Embedded in the UI (url_route: an iframe beside the runs, same origin, so the login holds).
    # Airflow 3.3 renders a top-level link *without* url_route as a button that does not open.
    external_views = [  # noqa: RUF012
        {
            "name": "Metric docs",
            "href": f"{DOCS_PREFIX}/dbt/current/",
            "url_route": "metric-docs",
            "nav_top_level": True,
        },
        {
            "name": "Data quality",
            "href": f"{DOCS_PREFIX}/",
            "url_route": "data-quality",
            "nav_top_level": True,
        },
    ]
