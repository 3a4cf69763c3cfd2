"""Shared fixtures. The test settings start one embedded PostgreSQL + Redis per run; stop them here."""
import os
import shutil
from pathlib import Path

import pytest

from config.embedded import VAR_DIR, stop_embedded_servers
from tests.factories import ReaderFactory


def pytest_configure(config):
    _sweep_servers_of_dead_runs()


def pytest_unconfigure(config):
    servers_dir = os.environ.get("BOOKVEC_TEST_SERVERS_DIR")
    if servers_dir and Path(servers_dir).name == f"test-{os.getpid()}":
        stop_embedded_servers(Path(servers_dir) / "pgdata", Path(servers_dir) / "redis")
        shutil.rmtree(servers_dir, ignore_errors=True)


def _sweep_servers_of_dead_runs():
    """A run killed hard leaves its servers behind: stop them by the pids in their pid files."""
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


@pytest.fixture
def user(db):
    return ReaderFactory(username="reader")


@pytest.fixture
def other_user(db):
    return ReaderFactory(username="other-reader")


@pytest.fixture
def staff_user(db):
    return ReaderFactory(username="staff", is_staff=True)
