"""pytest plugin (``-p tests.embedded_servers`` in pyproject's addopts): the test session's entry point for the
embedded PostgreSQL + pgvector and Redis. It starts one pair per run in ``var/test-<pid>/`` and exports their URLs
before pytest-django reads the settings (which only read them), and stops them when the run ends."""
import os
import shutil

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Importing the config package loads the Celery app, which defaults the settings to the local ones: name the
    # test settings first (as pytest-django will; --ds still wins), so this process never runs on the local ones.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", early_config.getini("DJANGO_SETTINGS_MODULE"))
    from config.embedded import VAR_DIR, embedded_postgres_url, embedded_redis_url

    _sweep_servers_of_dead_runs()
    servers_dir = VAR_DIR / f"test-{os.getpid()}"
    if not os.environ.get("DATABASE_URL"):
        os.environ["BOOKVEC_TEST_SERVERS_DIR"] = str(servers_dir)
        os.environ["DATABASE_URL"] = embedded_postgres_url(servers_dir / "pgdata")
    if not os.environ.get("CELERY_BROKER_URL"):
        os.environ["CELERY_BROKER_URL"] = embedded_redis_url(servers_dir / "redis")


def pytest_unconfigure(config):
    from config.embedded import VAR_DIR, stop_embedded_servers

    servers_dir = VAR_DIR / f"test-{os.getpid()}"
    if servers_dir.exists():
        stop_embedded_servers(servers_dir / "pgdata", servers_dir / "redis")
        shutil.rmtree(servers_dir, ignore_errors=True)


def _sweep_servers_of_dead_runs():
    """A run killed hard leaves its servers behind: stop them by the pids in their pid files."""
    from config.embedded import VAR_DIR, stop_embedded_servers

    for folder in VAR_DIR.glob("test-*"):
        owner = int(folder.name.removeprefix("test-")) if folder.name.removeprefix("test-").isdigit() else None
        if owner is None or owner == os.getpid() or _alive(owner):
            continue
        stop_embedded_servers(folder / "pgdata", folder / "redis")
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
