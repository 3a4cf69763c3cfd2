"""Fault fixtures: real Celery workers on the suite's own database and Redis, and control of that Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from config.embedded import VAR_DIR, embedded_redis_url, stop_embedded_servers
from tests.support import PROJECT_DIR, terminate, worker_environment


class Worker:
    """A real ``celery worker`` process on the training and default queues, as scripts/run starts it."""

    def __init__(self, hostname: str, log: Path):
        self.hostname = hostname
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> Worker:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--queues=training,default",
                 "--pool=solo", "--concurrency=1", f"--hostname={self.hostname}", "--loglevel=INFO",
                 "--without-mingle", "--without-gossip"],
                cwd=PROJECT_DIR, env=worker_environment(), stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            if " ready." in self.log.read_text():
                return self
            time.sleep(0.25)
        raise RuntimeError(f"the worker did not become ready:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when the machine or the OOM killer takes the worker."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(hostname) -> a ready Worker; every worker started is stopped at the end."""
    workers: list[Worker] = []

    def start(hostname: str) -> Worker:
        worker = Worker(hostname, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


class Broker:
    """The suite's own embedded Redis (var/test-<pid>/redis): stopped and started again on the same port."""

    def __init__(self):
        self.folder = VAR_DIR / f"test-{os.getpid()}" / "redis"
        self.port = int((self.folder / "port").read_text())
        self.url = settings.CELERY_BROKER_URL

    def stop(self) -> None:
        stop_embedded_servers(self.folder / "no-postgres-here", self.folder)

    def start(self) -> None:
        assert embedded_redis_url(self.folder, port=self.port) == self.url

    def queue_length(self, queue: str) -> int:
        return redis.Redis.from_url(self.url).llen(queue)

    def flush(self) -> None:
        redis.Redis.from_url(self.url).flushdb()


@pytest.fixture
def broker():
    """The test broker, emptied after the test (and started again if the test left it stopped)."""
    folder = VAR_DIR / f"test-{os.getpid()}" / "redis"
    if not (folder / "port").exists():
        pytest.skip("the broker is not this test run's own embedded Redis")
    broker = Broker()
    yield broker
    broker.start()
    broker.flush()


class WebServer:
    """A real gunicorn (several worker processes) on the suite's database and Redis, at ``url``."""

    def __init__(self, log: Path, extra_environment: dict[str, str]):
        from config.embedded import _free_port

        self.url = f"http://127.0.0.1:{_free_port()}"
        with open(log, "a") as handle:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers=3",
                 f"--bind={self.url.removeprefix('http://')}"],
                cwd=PROJECT_DIR, env={**worker_environment(), **extra_environment}, stdout=handle,
                stderr=subprocess.STDOUT)
        self.log = log

    def wait_ready(self, timeout: float = 60.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.url}/api/v1/health/", timeout=2)
                return
            except OSError as error:
                if getattr(error, "code", None):  # an HTTP answer (503 while starting up): it serves
                    return
                time.sleep(0.25)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        terminate(self.process)


@pytest.fixture
def start_web_server(tmp_path):
    """start_web_server(**environment) -> a serving WebServer (gunicorn); stopped at the end of the test."""
    servers: list[WebServer] = []

    def start(**environment: str) -> WebServer:
        server = WebServer(tmp_path / f"gunicorn-{len(servers)}.log", environment)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()
