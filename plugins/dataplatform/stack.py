"""``make up`` / ``make down``: Airflow for interactive use, on the embedded default.

``up`` migrates the SQLite metadata database under ``AIRFLOW_HOME`` (the same one ``make demo``
records its runs in, so they are in the UI's history), then starts the api-server (the UI, the
REST API and, through ``plugins/docs_links_plugin.py``, the docs sites), the scheduler (with
Airflow's default LocalExecutor), the DAG processor and the triggerer, each in its own process
group, logging to ``DATA_DIR/logs/stack/<component>.log``, its pid in ``DATA_DIR/run/``. ``down``
stops exactly those process groups.

Login: Airflow's simple auth manager, user ``admin`` (``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS``
to change), whose password Airflow generates on the first start into
``AIRFLOW_HOME/simple_auth_manager_passwords.json.generated``; ``up`` prints both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dataplatform.config import load_settings

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# One machine, one log folder: the api-server reads task logs from disk, so the scheduler and the
# triggerer need no log servers (which would listen on every interface, ports 8793 and 8794).
COMPONENT_ARGS = {"scheduler": ["--skip-serve-logs"], "triggerer": ["--skip-serve-logs"]}
DEFAULT_PORT = 8080
DEFAULT_USER = "admin"
STOP_SECONDS = 30


class StackError(RuntimeError):
    """The stack could not start or stop; the message says what to do."""


@dataclass(frozen=True)
class StackLayout:
    data_dir: Path

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs" / "stack"

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"


def airflow_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("AIRFLOW_HOME") or Path.home() / "airflow")


def password_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the simple auth manager keeps the passwords it generated (Airflow's default)."""
    env = os.environ if env is None else env
    configured = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    return Path(configured or airflow_home(env) / "simple_auth_manager_passwords.json.generated")


def stack_env(
    port: int, host: str = "127.0.0.1", base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The components' environment: ``base`` (default: this process's, with DATA_DIR,
    AIRFLOW_HOME, the dags and plugins folders from the Makefile) plus where the api-server
    listens; an explicit setting in ``base`` wins."""
    env = dict(os.environ if base is None else base)
    env.setdefault("AIRFLOW__API__HOST", host)
    env.setdefault("AIRFLOW__API__PORT", str(port))
    # Log links in alerts and the workers' execution API point at this api-server.
    env.setdefault("AIRFLOW__API__BASE_URL", f"http://localhost:{port}")
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://localhost:{port}/execution/")
    # LocalExecutor keeps one worker process per parallel task slot (default 32, ~130 MB each);
    # the pipeline runs at most a few tasks at once, and DuckDB uses every core for each.
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a live process (from /proc), None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (command name) "
    return None if fields[0] in ("Z", "X") else fields[19]


def running_pid(layout: StackLayout, component: str) -> int | None:
    """The component's pid while the process its pid file names is alive. The file holds the
    pid and the process's start time, so a recycled pid is not taken for ours."""
    try:
        pid_text, started = layout.pid_file(component).read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    return pid if _process_start(pid) == started else None


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _health(port: int) -> dict | None:
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(
    data_dir: Path,
    port: int = DEFAULT_PORT,
    components: Sequence[str] = COMPONENTS,
    timeout: float = 240,
    env: Mapping[str, str] | None = None,
    migrate: bool = True,
) -> dict[str, int]:
    """Start the components in the background; return their pids once the UI answers.
    ``migrate=False`` skips ``airflow db migrate`` for a database known to be current."""
    layout = StackLayout(data_dir)
    already = {c: pid for c in components if (pid := running_pid(layout, c))}
    if already:
        raise StackError(
            f"already running ({', '.join(f'{c} pid {p}' for c, p in already.items())}): "
            "make down first"
        )
    if _port_in_use("127.0.0.1", port):
        raise StackError(f"port {port} is taken; choose another: make up AIRFLOW_PORT=8090")
    components_env = stack_env(port, base=env)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        migrate_log = layout.log_file("db-migrate")
        with migrate_log.open("wb") as log:
            migrated = subprocess.run(
                [_airflow(), "db", "migrate"],
                env=components_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if migrated.returncode != 0:
            raise StackError(f"airflow db migrate failed:\n{_tail(migrate_log)}")
    # The api-server first: the scheduler's task processes talk to it (the execution API).
    pids = {}
    api = [c for c in components if c == "api-server"]
    others = [c for c in components if c != "api-server"]
    for group, api_port in ((api, port), (others, None)):
        for component in group:
            pids[component] = _spawn(layout, component, components_env)
        if group:
            _wait_until_up(layout, group, api_port, timeout)
    return pids


def _spawn(layout: StackLayout, component: str, env: dict[str, str]) -> int:
    with layout.log_file(component).open("ab") as log:
        process = subprocess.Popen(
            [_airflow(), component, *COMPONENT_ARGS.get(component, [])],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: down stops it and its children
        )
    layout.pid_file(component).write_text(f"{process.pid} {_process_start(process.pid)}\n")
    return process.pid


def _wait_until_up(
    layout: StackLayout, components: Sequence[str], port: int | None, timeout: float
) -> None:
    """Until the api-server answers (``port``), or a few seconds for the others; a component
    that exits meanwhile stops the whole stack with its log's tail."""
    deadline = time.monotonic() + (timeout if port else 5)
    while True:
        dead = [c for c in components if running_pid(layout, c) is None]
        if dead:
            stop(layout.data_dir)
            logs = "\n".join(f"--- {c}:\n{_tail(layout.log_file(c))}" for c in dead)
            raise StackError(f"{', '.join(dead)} stopped while starting:\n{logs}")
        if port is None and time.monotonic() >= deadline:
            return
        if port is not None and _health(port):
            return
        if time.monotonic() >= deadline:
            stop(layout.data_dir)
            raise StackError(
                f"the api-server did not answer within {timeout:.0f}s; "
                f"see {layout.log_file('api-server')}"
            )
        time.sleep(1)


def stop(data_dir: Path, components: Sequence[str] = COMPONENTS) -> list[str]:
    """Stop the components that ``start`` started (by their pid files); return those stopped."""
    layout = StackLayout(data_dir)
    stopping = {}
    for component in components:
        pid = running_pid(layout, component)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGTERM)
                stopping[component] = pid
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_SECONDS
    while stopping and time.monotonic() < deadline:
        if all(not _group_alive(pid) for pid in stopping.values()):
            break
        time.sleep(0.5)
    for pid in stopping.values():
        if _group_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    for component in components:
        layout.pid_file(component).unlink(missing_ok=True)
    return list(stopping)


def _group_alive(pgid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)  # reap it if this process started it (no zombie left)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def credentials(env: Mapping[str, str] | None = None) -> tuple[str, str | None, Path]:
    """The login user (the first of ``simple_auth_manager_users``), the password Airflow
    generated for it (None until the api-server's first start), and the file that keeps it."""
    env = os.environ if env is None else env
    users = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS") or f"{DEFAULT_USER}:admin"
    user = users.split(",")[0].split(":")[0].strip()
    path = password_file(env)
    try:
        password = json.loads(path.read_text()).get(user)
    except (OSError, ValueError):
        password = None
    return user, password, path


def cmd_up(args: argparse.Namespace) -> int:
    settings = load_settings()
    print(f"==> starting Airflow ({', '.join(COMPONENTS)}) on DATA_DIR={settings.data_dir}")
    start(settings.data_dir, port=args.port)
    layout = StackLayout(settings.data_dir)
    user, password, path = credentials()
    base = f"http://localhost:{args.port}"
    print(f"==> Airflow UI: {base}")
    print(f"    log in as {user!r}, password {password or '(not generated yet)'}")
    print(f"    (Airflow generated it; it is kept in {path})")
    print(f"    docs sites: {base}/platform-docs/ (in the UI: 'Metric docs', 'Data quality')")
    from dataplatform.docs_site import missing_assets  # not for make down: it imports more

    missing = missing_assets()
    if missing:
        print(
            f"    note: the Data Docs pages take their styles from CDNs until {', '.join(missing)}"
            " are installed (make system-deps)"
        )
    print(f"    logs: {layout.log_dir}/   stop with: make down")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    settings = load_settings()
    stopped = stop(settings.data_dir)
    print(f"==> stopped: {', '.join(stopped)}" if stopped else "==> nothing was running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    layout = StackLayout(load_settings().data_dir)
    states = {c: running_pid(layout, c) for c in COMPONENTS}
    for component, pid in states.items():
        print(f"  {component:<14} {'running, pid ' + str(pid) if pid else 'stopped'}")
    return 0 if all(states.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dataplatform.stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the Airflow UI, scheduler, DAG processor and triggerer")
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what up started").set_defaults(func=cmd_down)
    sub.add_parser("status", help="which components run").set_defaults(func=cmd_status)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
