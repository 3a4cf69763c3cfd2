"""What every benchmark shares: where files go, the machine it ran on, and writing its results."""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Smoke tests point both elsewhere (child processes inherit the variables).
RESULTS_DIR = Path(os.environ.get("BOOKVEC_BENCH_RESULTS", PROJECT_DIR / "bench" / "results"))
WORK_DIR = Path(os.environ.get("BOOKVEC_BENCH_DIR", PROJECT_DIR / "var" / "bench"))
PYTHON = sys.executable


def machine() -> dict:
    """The machine and code a figure was measured on."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "git_commit": _git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, figures: dict, *, command: list[str] | None = None) -> Path:
    """Writes ``bench/results/<name>.json`` with the figures, the machine, the date and the command."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {"benchmark": name, "command": " ".join(command or _command_line()), "machine": machine(), **figures}
    path.write_text(json.dumps(document, indent=2, default=_json_default) + "\n")
    return path


def own_peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """Samples the resident memory of a process and its children in a thread.

    ``peak_mib`` is the largest total seen (the process and all its children at one moment),
    ``largest_process_mib`` the largest single process seen (e.g. one gunicorn worker).
    """

    def __init__(self, pid: int, *, interval: float = 0.2, children: bool = True):
        self.pid, self.interval, self.children = pid, interval, children
        self.peak_mib = 0.0
        self.largest_process_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        try:
            process = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            try:
                processes = [process] + (process.children(recursive=True) if self.children else [])
                sizes = [p.memory_info().rss / 2**20 for p in processes if p.is_running()]
                self.peak_mib = max(self.peak_mib, sum(sizes))
                self.largest_process_mib = max(self.largest_process_mib, *sizes)
            except psutil.Error:
                pass
            time.sleep(self.interval)


def percentiles_ms(seconds: list[float]) -> dict:
    """p50, p90, p99 and mean of latencies given in seconds, in milliseconds."""
    import numpy as np

    values = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 3), "p90_ms": round(float(np.percentile(values, 90)), 3),
            "p99_ms": round(float(np.percentile(values, 99)), 3), "mean_ms": round(float(values.mean()), 3),
            "n": len(values)}


def export_commit(commit: str, folder: Path) -> Path:
    """Writes the tree of ``commit`` (as ``git archive`` gives it: tracked files only) into ``folder``, for a
    "before" run of that code in the same session; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit], cwd=PROJECT_DIR, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def short_commit(ref: str) -> str:
    """``ref``'s abbreviated commit id."""
    return subprocess.run(["git", "rev-parse", "--short", ref], cwd=PROJECT_DIR, capture_output=True, text=True,
                          check=True).stdout.strip()


def commit_tree(commit: str) -> Path:
    """The tree of ``commit``, written once into ``var/serving-code/COMMIT`` and kept for later runs."""
    folder = PROJECT_DIR / "var" / "serving-code" / commit
    if not folder.exists():
        export_commit(commit, folder.with_name(commit + ".partial")).rename(folder)
    return folder


def _command_line() -> list[str]:
    """This process's command line, a module run with -m written as such."""
    script = Path(sys.argv[0]).resolve()
    if script.suffix == ".py" and PROJECT_DIR in script.parents:
        module = ".".join(script.relative_to(PROJECT_DIR).with_suffix("").parts)
        return ["python", "-m", module, *sys.argv[1:]]
    return sys.argv


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_DIR,
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
