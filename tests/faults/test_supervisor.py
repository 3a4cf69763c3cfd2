"""``make run`` under its supervisor: kill -9 each child (training worker, default worker, web) and the site
answers within a few seconds and the killed process is back; SIGTERM stops everything, the embedded servers
included, and ``make run`` exits 0. Real processes on a data folder and port of the test's own (the first
training is left out: BOOKVEC_FIRST_TRAINING=0)."""
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import psutil
import pytest

from config.embedded import _free_port
from tests.support import PROJECT_DIR

pytestmark = pytest.mark.slow

CHILDREN = {"worker-training": "--queues=training", "worker-default": "--queues=default", "web": "gunicorn"}


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _listening(port: int) -> list[str]:
    """The command lines of the processes listening on port, for a failure's message."""
    return [" ".join(psutil.Process(connection.pid).cmdline()) for connection in psutil.net_connections(kind="tcp")
            if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN
            and connection.pid]


def wait_for(predicate, *, timeout: float, what: str, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" +
                         (f":\n{log.read_text()[-4000:]}" if log else ""))


def supervised(supervisor: psutil.Process) -> dict[str, int]:
    """The supervisor's children by program name: pid."""
    found = {}
    for child in supervisor.children():
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        for name, marker in CHILDREN.items():
            if marker in command:
                found[name] = child.pid
    return found


def test_killed_children_come_back_and_sigterm_stops_everything(tmp_path, record_property):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/accounts/login/"
    log = tmp_path / "run.log"
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE",
                                  "BOOKVEC_TEST_SERVERS_DIR")}
    environment.update(BOOKVEC_ADDRESS=f"127.0.0.1:{port}", BOOKVEC_VAR_DIR=str(tmp_path / "var"),
                       BOOKVEC_FIRST_TRAINING="0", WEB_CONCURRENCY="2")
    with open(log, "w") as output:
        make = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=PROJECT_DIR, env=environment,
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: answers(url), timeout=600, what="the site to answer", log=log)
        supervisor = psutil.Process(make.pid).children()[0]  # scripts/run, which became supervisord
        assert "supervisord" in " ".join(supervisor.cmdline())
        before = wait_for(lambda: len(found := supervised(supervisor)) == 3 and found, timeout=60,
                          what="the three children", log=log)

        for name in CHILDREN:
            killed = before[name]
            os.kill(killed, signal.SIGKILL)
            started = time.monotonic()
            wait_for(lambda: answers(url), timeout=10, what=f"the site to answer after {name} was killed", log=log)
            record_property(f"{name}: site answered after (s)", round(time.monotonic() - started, 2))
            back = wait_for(lambda name=name, killed=killed: (pid := supervised(supervisor).get(name)) not in (None, killed) and pid,
                            timeout=30, what=f"{name} to be started again", log=log)
            record_property(f"{name}: started again after (s)", round(time.monotonic() - started, 2))
            assert psutil.pid_exists(back)
            wait_for(lambda: answers(url), timeout=30, what=f"the site to answer with {name} back", log=log)
            assert f"exited: {name} (terminated by SIGKILL; not expected)" in log.read_text()
            before[name] = back

        everything = [supervisor, *supervisor.children(recursive=True)]
        supervisor.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert make.wait(120) == 0, log.read_text()[-4000:]
        record_property("SIGTERM: everything stopped, make exited 0 after (s)", round(time.monotonic() - started, 2))
        gone, alive = psutil.wait_procs(everything, timeout=10)
        assert not alive, [process.cmdline() for process in alive]
        assert not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists()
        assert not (tmp_path / "var" / "redis" / "redis.pid").exists()
        # A web worker forked after the snapshot above can outlive its master by about a second, until it
        # sees it is orphaned and exits (gunicorn's workers check their parent once a second).
        wait_for(lambda: not answers(url), timeout=15,
                 what=f"the site to stop answering (listening: {_listening(port)})")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            from config.embedded import stop_embedded_servers

            stop_embedded_servers(tmp_path / "var" / "pgdata", tmp_path / "var" / "redis")
