"""What a user does in a real browser: log in to Airflow, see the DAGs and their runs, open the
dbt docs from the UI to find a metric's definition and lineage, open the latest validation and
the failed gate's Data Docs page."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from dataplatform.docs_site import LATEST_VALIDATIONS, DocsLayout
from dataplatform.publish.versions import current_version

pytestmark = pytest.mark.slow
expect.set_options(timeout=60_000)  # a loaded 2-core machine renders slowly

METRIC = "active_users_daily"


def test_the_ui_and_the_docs_sites_require_a_login(ui_world, browser):
    with httpx.Client(base_url=ui_world.base_url, follow_redirects=False) as client:
        assert client.get("/api/v2/dags").status_code == 401
        docs = client.get("/platform-docs/")
        assert docs.status_code == 307
        assert docs.headers["location"].startswith("/auth/login?next=")
        assert client.get("/platform-docs/dbt/current/").status_code == 307
        assert client.get("/platform-docs/quality/index.html").status_code == 307
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{ui_world.base_url}/")
        tab.get_by_label("Username").fill(ui_world.user)
        tab.get_by_label("Password").fill(ui_world.password + "-wrong")
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_text(re.compile("invalid credentials", re.IGNORECASE)).first.wait_for()
        assert "/auth/login" in tab.url
    finally:
        context.close()


def test_the_dags_and_their_runs_are_listed(page, ui_world, screenshots):
    page.goto(f"{ui_world.base_url}/dags")
    for dag_id in ("ingest_events", "extract_operational", "transform"):
        page.get_by_role("link", name=dag_id, exact=True).wait_for()
    screenshots(page, "airflow-dags")
    page.get_by_role("link", name="transform", exact=True).click()
    page.wait_for_url("**/dags/transform**")
    # The run make demo recorded (in-process DAG.test), with the docs task after publish.
    page.get_by_text("dbt_docs").first.wait_for()
    page.get_by_text("publish").first.wait_for()
    screenshots(page, "airflow-transform-runs")

    # make demo's runs are in the history, each triggered by DAG.test(): the good day's three
    # successes, then the bad day's ingest_events, failed (its raw gate).
    page.goto(f"{ui_world.base_url}/dag_runs")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(4)
    for dag_id, states in (
        ("ingest_events", ["Success", "Failed"]),
        ("extract_operational", ["Success"]),
        ("transform", ["Success"]),
    ):
        runs = rows.filter(has_text=dag_id)
        expect(runs).to_have_count(len(states))
        for state in states:
            run = runs.filter(has_text=state)
            expect(run).to_have_count(1)
            for shown in ("Manual", "dag_test"):
                expect(run).to_contain_text(shown)


def test_the_asset_graph_goes_from_the_lake_to_the_published_layer(page, ui_world, screenshots):
    page.goto(f"{ui_world.base_url}/assets")
    for asset in ("raw_events", "raw_operational", "published_trusted_layer"):
        page.get_by_role("link", name=asset, exact=True).wait_for()
    page.get_by_role("link", name="published_trusted_layer", exact=True).click()
    page.wait_for_url("**/assets/**")
    graph = page.locator(".react-flow")
    for node in ("raw_events", "raw_operational", "transform", "published_trusted_layer"):
        graph.get_by_text(node, exact=True).first.wait_for()
    screenshots(page, "airflow-asset-graph")


def test_a_metrics_definition_and_lineage_from_the_ui(page, ui_world, screenshots):
    # What dbt wrote for the docs is what the docs site must show.
    manifest_path = DocsLayout(ui_world.data_dir).dbt_target / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    model = manifest["nodes"][f"model.dataplatform.{METRIC}"]
    first_sentence = model["description"].split(". ")[0].replace("`", "")
    upstream = [manifest["nodes"][n]["name"] for n in model["depends_on"]["nodes"]]
    assert first_sentence and upstream

    page.goto(f"{ui_world.base_url}/dags")
    page.get_by_role("link", name="Metric docs").click()
    page.wait_for_url("**/plugin/metric-docs/**")
    docs = page.frame_locator("iframe[title='Metric docs']")
    docs.get_by_placeholder("Search for models...").fill(METRIC)
    docs.locator(f".search-result[href$='model.dataplatform.{METRIC}']").click()
    docs.get_by_text(first_sentence).first.wait_for()
    body = docs.locator("body").inner_text()
    assert "Depends On" in body and "Referenced By" in body
    for name in upstream:
        assert name in body, f"{name} (upstream of {METRIC}) is not on its docs page"
    screenshots(page, "dbt-docs-metric")

    docs.locator(".launcher-btn").click()  # dbt docs' lineage graph of this model
    docs.locator("#cy canvas").first.wait_for()
    docs.locator("a[title='View Fullscreen']").first.click()
    page.wait_for_timeout(1500)  # the graph's layout animation
    screenshots(page, "dbt-docs-lineage")


def _results(ui_world) -> list[dict]:
    """Every validation result the gates stored, oldest first."""
    stored = DocsLayout(ui_world.data_dir).validations.rglob("*.json")
    return sorted(
        (json.loads(path.read_text()) for path in stored),
        key=lambda result: result["meta"]["run_id"]["run_time"],
    )


def _open_data_quality(page, ui_world):
    page.goto(f"{ui_world.base_url}/dags")
    page.get_by_role("link", name="Data quality").click()
    page.wait_for_url("**/plugin/data-quality**")
    return page.frame_locator("iframe[title='Data quality']")


def test_the_latest_validation_from_the_ui(page, ui_world, screenshots):
    published = current_version(DocsLayout(ui_world.data_dir).published)
    results = _results(ui_world)
    assert results, "the pipeline's gates left no validation result"
    newest = results[-1]["meta"]["run_id"]["run_time"]  # one gate run validates several suites
    newest_suites = {r["suite_name"] for r in results if r["meta"]["run_id"]["run_time"] == newest}

    front = _open_data_quality(page, ui_world)
    front.get_by_text(published).first.wait_for()  # the published version is named
    rows = front.locator("#validations tr")
    rows.nth(1).wait_for()
    assert rows.count() == min(len(results), LATEST_VALIDATIONS) + 1  # with the header row
    latest_suite = rows.nth(1).locator("td").first.inner_text().strip()
    assert latest_suite in newest_suites
    screenshots(page, "data-quality")

    rows.nth(1).get_by_role("link").click()
    front.get_by_text("Success Percent").first.wait_for()  # Great Expectations' own page
    assert latest_suite in front.locator("body").inner_text()
    screenshots(page, "data-docs-validation")


def test_a_failed_gate_from_the_ui(page, ui_world, screenshots):
    # The bad day's raw gate: one validation failed, on one expectation (the quarantine ratio).
    failed = [r for r in _results(ui_world) if not r["success"]]
    assert [r["suite_name"] for r in failed] == ["raw_events_batch.batch_metrics"]
    (outcome,) = [o for o in failed[0]["results"] if not o["success"]]
    column = outcome["expectation_config"]["kwargs"]["column"]
    passed = next(o for o in failed[0]["results"] if o["success"])
    passed_column = passed["expectation_config"]["kwargs"]["column"]
    observed = outcome["result"]["observed_value"]
    assert column == "quarantine_ratio" and observed > 0.1

    # Data quality names the failure first, with what was observed, and links its page.
    front = _open_data_quality(page, ui_world)
    box = front.locator("#failed-validations")
    expect(box).to_contain_text("1 of the latest")
    expect(box).to_contain_text("FAILED")
    expect(box).to_contain_text(failed[0]["suite_name"])
    expect(box).to_contain_text(f"on {column}: observed {observed!r}")
    expect(front.locator("#validations tr.failed")).to_have_count(1)

    box.get_by_role("link").first.click()
    # Great Expectations' own page of that validation: the failed expectation's row, marked
    # failed, with the observed value.
    section = front.locator(".ge-section").filter(has=front.locator("h5", has_text=column))
    failed_rows = section.locator("tbody tr").filter(has=front.locator("i.fa-times.text-danger"))
    expect(failed_rows).to_have_count(1)
    expect(failed_rows).to_contain_text(str(observed)[:6])
    assert failed[0]["suite_name"] in front.locator("body").inner_text()

    # Styled although this browser reaches nothing but the api-server (as offline): bootstrap's
    # colours on the section's header, Font Awesome's glyph for the failed mark.
    header = section.locator(".alert-secondary").first
    expect(header).to_have_css("background-color", "rgb(226, 227, 229)")  # bootstrap 4's #e2e3e5
    icon = failed_rows.locator("i.fa-times").first
    expect(icon).to_have_css("font-family", re.compile("FontAwesome"))
    glyph = icon.evaluate("icon => getComputedStyle(icon, '::before').content")
    assert glyph not in ("none", "normal", ""), glyph

    # The page's own filter (jQuery, served locally too): only what failed stays.
    front.get_by_text("Failed Only").click()
    passing = front.locator(".ge-section").filter(has=front.locator("h5", has_text=passed_column))
    expect(passing).to_be_hidden()
    expect(failed_rows).to_be_visible()
    screenshots(page, "data-docs-failed-gate")
