"""The docs sites: the dbt docs of every published version, and the data quality reports.

Where they live under ``DATA_DIR``:

* ``docs/dbt/<version_id>/index.html``: dbt's static docs site (``dbt docs generate --static``:
  one self-contained page with the manifest and the catalog inlined). Written after a version is
  published, for that version; kept as long as the version is (``published/versions``). There
  is no second "current" pointer: the server resolves ``published/current`` on every request,
  so a rollback moves the docs with the data.
* ``quality/data_docs/``: the Great Expectations Data Docs site, updated by every gate run
  (``gates/runner.py``), with each validation's JSON under ``quality/validations/``.

:func:`create_app` serves both as one small web app: inside the Airflow api-server (the plugin
``plugins/docs_links_plugin.py`` mounts it behind Airflow's login) or on its own
(``make docs``). Its front page names the published version and lists the latest validations
with links to their reports, failed ones first, so it works without the internet (the Data
Docs index builds its table from a CDN script). The Data Docs pages get their styles and icons
from Debian's copies of the libraries they link (see ``CDN_ASSETS``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dataplatform.publish.versions import PublishedLayout, current_version, list_versions
from dataplatform.transform.dbt import DbtPaths, dbt_args, run_dbt

VERSION_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
LATEST_VALIDATIONS = 20

# The Data Docs pages take bootstrap, jQuery, Popper and Font Awesome from public CDNs: without
# the internet they would render unstyled, without their status icons. Debian's packages put
# the same libraries under /usr/share/javascript (``make system-deps`` installs them), and the
# docs app serves them under ``assets/`` and points the pages at them. A library that is not
# installed keeps its CDN link: the page still loads, styled only when the CDN answers. The
# CDNs' other files (table, date picker and chart scripts, a dark theme) have no Debian package;
# the validation pages do without them.
ASSET_ROOT = Path("/usr/share/javascript")
ASSET_PACKAGES = {  # the folder under ASSET_ROOT: the Debian package that fills it
    "bootstrap4": "libjs-bootstrap4",
    "jquery": "libjs-jquery",
    "popper.js": "libjs-popper.js",
    "font-awesome": "fonts-font-awesome",
}
CDN_ASSETS = {  # what Great Expectations' templates link: the local copy under ASSET_ROOT
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap4/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap4/js/bootstrap.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/umd/popper.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "font-awesome/css/font-awesome.min.css"
    ),
}
# Debian's Font Awesome is 4.7: its icons (fa-times, fa-check-circle, ...) carry the same names,
# but the base class is ``fa`` where the pages write ``fas``/``far``.
FONT_AWESOME_4_SHIM = (
    "<style>.fas,.far,.fab{display:inline-block;font:normal normal normal 14px/1 FontAwesome;"
    "font-size:inherit;text-rendering:auto;-webkit-font-smoothing:antialiased}</style>"
)


@dataclass(frozen=True)
class DocsLayout:
    data_dir: Path

    @property
    def dbt_root(self) -> Path:
        return self.data_dir / "docs" / "dbt"

    def dbt_docs(self, version_id: str) -> Path:
        return self.dbt_root / version_id

    @property
    def dbt_target(self) -> Path:
        """dbt's output folder, the pipeline's own: the build that just ran parsed the project
        there with the same vars, so ``docs generate`` reuses that parse (partial parsing)."""
        return DbtPaths.under(self.data_dir).target

    @property
    def data_docs(self) -> Path:
        return self.data_dir / "quality" / "data_docs"

    @property
    def validations(self) -> Path:
        return self.data_dir / "quality" / "validations"

    @property
    def published(self) -> PublishedLayout:
        return PublishedLayout(self.data_dir / "published")


def dbt_docs_args(version_id: str, run_date: date | None, paths: DbtPaths) -> list[str]:
    """``dbt docs generate --static`` with the same vars as the version's build, so the compiled
    SQL in the docs is the SQL that built it. The data tests are listed in the site as written
    but not compiled: compiling them was half of the command's time (286 tests, 57 models)."""
    args = dbt_args("docs", run_date=run_date, version_id=version_id, paths=paths)
    untested = ["--exclude", "resource_type:test", "resource_type:unit_test"]
    return [args[0], "generate", *args[1:], "--static", *untested]


def generate_dbt_docs(data_dir: Path, version_id: str, run_date: date | None) -> Path:
    """Write the dbt docs of ``version_id`` (built from the working warehouse, which holds that
    version's candidate right after publish). Idempotent: an existing site is kept."""
    layout = DocsLayout(data_dir)
    site = layout.dbt_docs(version_id)
    if (site / "index.html").is_file():
        return site
    run_dbt(dbt_docs_args(version_id, run_date, DbtPaths.under(data_dir)), data_dir)
    staging = site.with_name(f".{version_id}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(layout.dbt_target / "static_index.html", staging / "index.html")
    os.replace(staging, site)  # readers see the whole site or none
    prune_dbt_docs(layout)
    return site


def prune_dbt_docs(layout: DocsLayout) -> list[str]:
    """Delete the docs of versions no longer published (publish keeps the last 30)."""
    published = {p.name for p in layout.published.versions.glob("*") if p.is_dir()}
    removed = []
    for site in layout.dbt_root.glob("*"):
        if site.is_dir() and not site.name.startswith(".") and site.name not in published:
            shutil.rmtree(site)
            removed.append(site.name)
    return removed


def versions_with_docs(layout: DocsLayout) -> list[dict]:
    """Published versions, newest first, each with ``has_docs``."""
    found = []
    for manifest in reversed(list_versions(layout.published)):
        has_docs = (layout.dbt_docs(manifest["version_id"]) / "index.html").is_file()
        found.append({**manifest, "has_docs": has_docs})
    return found


@dataclass(frozen=True)
class Validation:
    suite: str
    run_time: datetime
    success: bool
    evaluated: int
    failed: int
    page: str | None  # the Data Docs page, relative to the Data Docs root
    asset: str | None = None  # the table or view validated
    failures: tuple[str, ...] = ()  # each failed expectation: observed against expected


def latest_validations(layout: DocsLayout, limit: int = LATEST_VALIDATIONS) -> list[Validation]:
    """The newest Great Expectations validation results, newest first. The results store keeps
    each as ``<suite>/[<asset>/]<run name>/<run time>/<batch>.json``; its Data Docs page has the
    same path under ``validations/`` with ``.html``."""
    found = []
    for result in layout.validations.rglob("*.json"):
        try:
            content = json.loads(result.read_text())
            run_time = datetime.fromisoformat(content["meta"]["run_id"]["run_time"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a result being written, or not one of ours
        relative = result.relative_to(layout.validations).with_suffix(".html")
        page = Path("validations") / relative
        stats = content.get("statistics", {})
        batch = content["meta"].get("active_batch_definition") or {}
        asset = batch.get("data_asset_name") or (
            relative.parts[1] if len(relative.parts) > 4 else None
        )
        found.append(
            Validation(
                suite=content.get("suite_name") or relative.parts[0],
                run_time=run_time,
                success=bool(content.get("success")),
                evaluated=int(stats.get("evaluated_expectations", 0)),
                failed=int(stats.get("unsuccessful_expectations", 0)),
                page=page.as_posix() if (layout.data_docs / page).is_file() else None,
                asset=asset,
                failures=_failures(content),
            )
        )
    return sorted(found, key=lambda v: v.run_time, reverse=True)[:limit]


def _failures(content: dict) -> tuple[str, ...]:
    """The failed expectations of a validation result, worded as the gates' alerts word them
    (``gates.runner.Failure.describe``, not imported: it would load DuckDB into the api-server)."""
    described = []
    for outcome in content.get("results") or []:
        if not isinstance(outcome, dict) or outcome.get("success", True):
            continue
        config = outcome.get("expectation_config") or {}
        kwargs = config.get("kwargs") or {}
        details = outcome.get("result") or {}
        if "observed_value" in details:
            observed = repr(details["observed_value"])
        else:
            observed = f"{details.get('unexpected_count') or 0:,} of "
            observed += f"{details.get('element_count') or 0:,} rows"
        columns = [str(kwargs[k]) for k in ("column", "column_A", "column_B") if kwargs.get(k)]
        where = f" on {', '.join(columns)}" if columns else ""
        expected = ", ".join(
            f"{k}={v}"
            for k, v in kwargs.items()
            if v is not None and k not in ("column", "batch_id")
        )
        described.append(
            f"{config.get('type', 'expectation')}{where}: observed {observed}, expected {expected}"
        )
    return tuple(described)


def safe_file(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is a file inside ``root`` (no ``..`` escapes); a folder gives its
    ``index.html``."""
    root = root.resolve()
    try:
        path = (root / relative.lstrip("/")).resolve()
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(root):
        return None
    if path.is_dir():
        path = path / "index.html"
    return path if path.is_file() else None


def front_page(layout: DocsLayout) -> str:
    """The sites' front page: the published version, its docs, older versions, the latest
    validations. Links are relative, so the page works under any mount prefix."""
    current = current_version(layout.published)
    versions = versions_with_docs(layout)
    validations = latest_validations(layout)
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Data platform docs</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;",
        "color:#1d2433}table{border-collapse:collapse;width:100%}th,td{text-align:left;",
        "padding:.3rem .6rem;border-bottom:1px solid #dde}.ok{color:#17803d}.bad{color:#b42318;",
        "font-weight:600}tr.failed{background:#fef3f2}.attention{border:1px solid #fda29b;",
        "background:#fef3f2;border-radius:.4rem;padding:.2rem 1rem;margin-bottom:1rem}",
        ".attention h3{color:#b42318;margin:.6rem 0}",
        "code{background:#f3f4f8;padding:0 .2rem}</style></head><body>",
        "<h1>Data platform docs</h1>",
        "<h2>Metric definitions and lineage</h2>",
    ]
    if current and (layout.dbt_docs(current) / "index.html").is_file():
        parts.append(
            f"<p>Published version <code>{e(current)}</code>: "
            "<a id='dbt-docs-current' href='dbt/current/'>dbt docs of the trusted layer</a> "
            "(every model and column described, with its lineage and tests).</p>"
        )
    elif current:
        parts.append(
            f"<p>Published version <code>{e(current)}</code> has no dbt docs yet: "
            "<code>make docs</code> builds them.</p>"
        )
    else:
        parts.append("<p>Nothing is published yet: run <code>make demo</code>.</p>")
    if versions:
        parts.append("<details><summary>All published versions</summary><ul>")
        for manifest in versions:
            version_id = e(manifest["version_id"])
            label = f"{version_id}, logical date {e(manifest.get('logical_date', '?'))}"
            if manifest["current"]:
                label += " (current)"
            if manifest["has_docs"]:
                parts.append(f"<li><a href='dbt/{version_id}/'>{label}</a></li>")
            else:
                parts.append(f"<li>{label}, no docs</li>")
        parts.append("</ul></details>")
    parts.append("<h2>Data quality (Great Expectations)</h2>")
    if not validations:
        parts.append("<p>No validation has run yet.</p>")
    else:
        parts.append(_failed_validations(validations))
        parts.append(
            "<table id='validations'><tr><th>gate (suite)</th><th>run at (UTC)</th>"
            "<th>result</th><th>expectations</th></tr>"
        )
        for v in validations:
            status = "<span class='ok'>passed</span>" if v.success else "<span class='bad'>"
            status += "" if v.success else "FAILED</span>"
            parts.append(
                f"<tr class='{'passed' if v.success else 'failed'}'><td>{e(_name(v))}</td>"
                f"<td>{_page_link(v)}</td><td>{status}</td>"
                f"<td>{v.evaluated - v.failed} of {v.evaluated} met</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<p><a href='quality/'>The full Data Docs site</a> (its index table loads scripts from "
        "public CDNs; the validation pages linked above do not need them).</p></body></html>"
    )
    return "".join(parts)


def _name(v: Validation) -> str:
    """The suite, and the asset validated unless the suite is named after it (``gate.asset``)."""
    if not v.asset or v.suite.endswith(f".{v.asset}") or v.suite == v.asset:
        return v.suite
    return f"{v.suite} / {v.asset}"


def _page_link(v: Validation) -> str:
    when = html.escape(v.run_time.strftime("%Y-%m-%d %H:%M:%S"))
    return f"<a href='quality/{html.escape(v.page)}'>{when}</a>" if v.page else when


def _failed_validations(validations: Sequence[Validation]) -> str:
    """The failed validations among ``validations``, first on the page, each with its failed
    expectations and a link to its Data Docs page; or one line saying that all passed."""
    failed = [v for v in validations if not v.success]
    if not failed:
        count = len(validations)
        return f"<p id='failed-validations' class='ok'>The latest {count} validations passed.</p>"
    e = html.escape
    parts = [
        "<section id='failed-validations' class='attention'>",
        f"<h3>{len(failed)} of the latest {len(validations)} validations FAILED</h3><ul>",
    ]
    for v in failed:
        parts.append(f"<li><strong>{e(_name(v))}</strong> at {_page_link(v)}<ul>")
        parts.extend(f"<li>{e(failure)}</li>" for failure in v.failures)
        parts.append("</ul></li>")
    parts.append("</ul></section>")
    return "".join(parts)


def asset_file(asset_root: Path, local: str) -> Path | None:
    """``asset_root/local`` if ``local`` is ``<one of ASSET_PACKAGES' folders>/<file>`` without
    ``..`` and the file is there. Debian links these files across /usr/share (``font-awesome``
    is a link to ``../fonts-font-awesome``), so links are followed: the folders are the
    packages', not anyone's upload."""
    parts = Path(local).parts
    if len(parts) < 2 or parts[0] not in ASSET_PACKAGES or ".." in parts or local.startswith("/"):
        return None
    path = asset_root.joinpath(*parts)
    return path if path.is_file() else None


def missing_assets(asset_root: Path = ASSET_ROOT) -> list[str]:
    """The Debian packages whose files the Data Docs pages would otherwise take from CDNs and
    that are not installed."""
    return sorted(
        {
            ASSET_PACKAGES[local.split("/")[0]]
            for local in CDN_ASSETS.values()
            if asset_file(asset_root, local) is None
        }
    )


_ASSET_TAG = re.compile(r"<(?:link|script)\b[^>]*>", re.IGNORECASE)
_INTEGRITY = re.compile(r"\s(?:integrity|crossorigin)=(?:\"[^\"]*\"|'[^']*')", re.IGNORECASE)


def with_local_assets(page: str, to_assets: str, asset_root: Path = ASSET_ROOT) -> str:
    """A Data Docs page with its CDN links pointed at the local copies that exist (``to_assets``:
    the URL of the docs app's ``assets/`` relative to the page); the others are left as they
    are. A rewritten tag loses its ``integrity`` hash (Debian's build is not the CDN's file)."""
    used: set[str] = set()

    def local_tag(match: re.Match) -> str:
        tag = match.group(0)
        for cdn, local in CDN_ASSETS.items():
            if f'"{cdn}"' in tag and asset_file(asset_root, local):
                used.add(local)
                return _INTEGRITY.sub("", tag.replace(cdn, to_assets + local))
        return tag

    page = _ASSET_TAG.sub(local_tag, page)
    if any(local.startswith("font-awesome/") for local in used):
        page = page.replace("</head>", FONT_AWESOME_4_SHIM + "</head>", 1)
    return page


def create_app(
    data_dir: Path, dependencies: Sequence[Any] = (), asset_root: Path = ASSET_ROOT
) -> Any:
    """The docs sites as an ASGI app: ``/`` (front page), ``/dbt/<version_id or current>/``,
    ``/quality/`` (Data Docs), ``/assets/`` (the Data Docs' libraries, from ``asset_root``).
    ``dependencies`` guard every route (Airflow's login)."""
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, Response

    layout = DocsLayout(data_dir)
    app = FastAPI(
        title="Data platform docs", dependencies=list(dependencies), docs_url=None, redoc_url=None
    )
    no_cache = {"Cache-Control": "no-cache"}  # current moves to a new version atomically

    def file_response(root: Path, relative: str) -> FileResponse:
        path = safe_file(root, relative)
        if path is None:
            raise HTTPException(status_code=404, detail=f"not found: {relative}")
        return FileResponse(path, headers=no_cache)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(front_page(layout), headers=no_cache)

    @app.get("/dbt/{version_id}/{relative:path}")
    def dbt_docs(version_id: str, relative: str) -> FileResponse:
        if version_id == "current":
            version_id = current_version(layout.published) or ""
        if not VERSION_ID.match(version_id):
            raise HTTPException(status_code=404, detail="nothing published yet")
        return file_response(layout.dbt_docs(version_id), relative)

    @app.get("/quality/{relative:path}")
    def data_docs(relative: str) -> Response:
        path = safe_file(layout.data_docs, relative)
        if path is None or path.suffix != ".html":
            return file_response(layout.data_docs, relative)
        # The page's URL is quality/<relative>: back up that many folders to reach assets/.
        to_assets = "../" * (relative.count("/") + 1) + "assets/"
        page = with_local_assets(path.read_text(errors="replace"), to_assets, asset_root)
        return HTMLResponse(page, headers=no_cache)

    @app.get("/assets/{local:path}")
    def assets(local: str) -> FileResponse:
        path = asset_file(asset_root, local)
        if path is None:
            raise HTTPException(status_code=404, detail=f"not found: {local}")
        return FileResponse(path, headers={"Cache-Control": "max-age=86400"})

    return app


def serve(data_dir: Path, host: str, port: int) -> None:
    """Serve the docs sites on their own (no Airflow, no login: bind to loopback)."""
    import uvicorn

    uvicorn.run(create_app(data_dir), host=host, port=port, log_level="warning")
