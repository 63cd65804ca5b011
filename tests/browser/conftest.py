"""A small world run through the pipeline, the Airflow api-server on it, and a headless Chromium.

Everything is real: the generator, the pipeline through Airflow (``python -m dataplatform demo``,
which also builds the dbt docs and the Data Docs), ``airflow api-server`` started the way
``make up`` starts it (``dataplatform.stack``) on a free loopback port, and Debian's Chromium
driven by Playwright. Screenshots go to a temporary folder, and also to ``UI_SCREENSHOTS_DIR``
when it is set (that is how ``docs/screenshots/`` for the README are made).

The world has two days: the first publishes; on the second a fifth of the collector's lines
arrive cut in half, so its raw gate fails (the quarantine ratio) and the UI has a failed gate to
show, with its alert and its Data Docs page.
"""

from __future__ import annotations

import gzip
import os
import random
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
DAYS, USERS, SEED = 2, 800, 5
GOOD_DAY, BAD_DAY = "2026-11-01", "2026-11-02"
TRUNCATED_SHARE = 0.2


@dataclass(frozen=True)
class UiWorld:
    data_dir: Path
    env: dict[str, str]
    base_url: str
    user: str
    password: str
    good_day: str = GOOD_DAY  # published
    bad_day: str = BAD_DAY  # stopped at the raw gate of ingest_events


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def platform_env(data_dir: Path) -> dict[str, str]:
    """What the Makefile exports, for a world under ``data_dir``."""
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "AIRFLOW_HOME": str(data_dir / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "PYTHONPATH": str(REPO / "plugins"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def truncate_some_lines(landing_day: Path, share: float = TRUNCATED_SHARE) -> None:
    """Cut about ``share`` of a landing day's lines in half (written back as plain JSONL): the
    records fail the contract, and the raw gate's quarantine ratio fails."""
    rng = random.Random(7)
    for path in sorted(landing_day.glob("*.jsonl*")):
        data = path.read_bytes()
        lines = (gzip.decompress(data) if path.name.endswith(".gz") else data).split(b"\n")[:-1]
        cut = [line[: len(line) // 2] if rng.random() < share else line for line in lines]
        path.unlink()
        path.with_name(path.name.removesuffix(".gz")).write_bytes(b"\n".join(cut) + b"\n")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="session")
def ui_world(tmp_path_factory) -> Iterator[UiWorld]:
    from dataplatform import stack

    data_dir = tmp_path_factory.mktemp("ui-world")
    env = platform_env(data_dir)
    world = _run(
        [
            "-m",
            "dataplatform.generator",
            "--data-dir",
            str(data_dir),
            "--days",
            str(DAYS),
            "--users",
            str(USERS),
            "--seed",
            str(SEED),
        ],
        env,
    )
    assert world.returncode == 0, world.stderr[-3000:]
    truncate_some_lines(data_dir / "landing" / "events" / f"dt={BAD_DAY}")
    demo = _run(["-m", "dataplatform", "demo"], env)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    # The good day's three DAG runs, then the bad day's ingest_events, failed at its raw gate.
    assert "3 of 4 DAG runs succeeded" in demo.stdout, demo.stdout
    assert re.search(rf"FAILED {BAD_DAY}\s+ingest_events", demo.stdout), demo.stdout
    assert "quarantine_ratio" in demo.stdout, demo.stdout
    port = _free_port()
    # The demo's in-process Airflow created the metadata database: no migration needed here.
    stack.start(data_dir, port=port, components=("api-server",), env=env, migrate=False)
    try:
        user, password, path = stack.credentials(env)
        assert password, f"Airflow wrote no password for {user!r} into {path}"
        yield UiWorld(data_dir, env, f"http://127.0.0.1:{port}", user, password)
    finally:
        stopped = stack.stop(data_dir, components=("api-server",))
        assert stopped == ["api-server"], "the api-server had died before the end of the tests"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Iterator[Callable[..., Path]]:
    folder = tmp_path_factory.mktemp("screenshots")
    extra = os.environ.get("UI_SCREENSHOTS_DIR")

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path))
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(extra) / path.name)
        return path

    yield save
    print(f"screenshots: {folder}")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make test installs it (Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's sandbox cannot run as root (CI runs as root).
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(browser, ui_world: UiWorld) -> Iterator:
    """One browser tab, logged in as the user ``make up`` names, through the login form."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # No internet here: the Data Docs pages ask public CDNs for their styles; fail those at
    # once instead of waiting for a timeout (the pages are plain HTML without them).
    local = ui_world.base_url
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(local) else route.abort(),
    )
    context.set_default_timeout(60_000)
    tab = context.new_page()
    tab.goto(f"{local}/")
    tab.get_by_label("Username").fill(ui_world.user)
    tab.get_by_label("Password").fill(ui_world.password)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("link", name="Dags").first.wait_for()
    try:
        yield tab
    finally:
        context.close()
