"""A small world run through the pipeline, the Airflow api-server on it, and a headless Chromium.

Everything is real: the generator, the pipeline through Airflow (``python -m dataplatform demo``,
which also builds the dbt docs and the Data Docs), ``airflow api-server`` started the way
``make up`` starts it (``dataplatform.stack``) on a free loopback port, and Debian's Chromium
driven by Playwright. Screenshots go to a temporary folder, and also to ``UI_SCREENSHOTS_DIR``
when it is set (that is how ``docs/screenshots/`` for the README are made).
"""

from __future__ import annotations

import os
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
DAYS, USERS, SEED = 1, 800, 5


@dataclass(frozen=True)
class UiWorld:
    data_dir: Path
    env: dict[str, str]
    base_url: str
    user: str
    password: str


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
    demo = _run(["-m", "dataplatform", "demo"], env)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert f"{DAYS * 3} of {DAYS * 3} DAG runs succeeded" in demo.stdout, demo.stdout
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
