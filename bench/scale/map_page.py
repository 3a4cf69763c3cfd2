"""The map page on the catalogue a scale run left behind, in a real browser: how long until every book is drawn, and
how smoothly it pans and zooms.

Serves the scratch database as ``bench.scale.serving`` does (gunicorn, nothing re-imported or retrained) and opens
``/map/`` in Debian's Chromium through Playwright (as ``tests/web/test_browser.py`` does; headless, so WebGL is
drawn in software by SwiftShader on the CPU, a pessimistic stand-in for a reader's GPU). Measures: the time from
navigation to every book drawn (``#map[data-drawn-points=N]``) and, of it, the map data's answer (from the request
to its first byte, and to its last) and its size (sent, and as JSON); then the frame intervals
(``requestAnimationFrame``) while the mouse drags the map across, while the wheel zooms in and out, and while the
mouse moves across it with no button down (the library's hover); and, in each, the main thread's time in frame
callbacks (a WebGL draw waits there for the software rasteriser: ``drawImage`` of the library's frame).

With ``--before REF`` it serves that commit's code (``git archive`` into ``var/serving-code/``, its static files
collected there) and the working tree's in turn, ``--rounds`` times (before, after, before, after, …), so the two are
compared on the same shared machine in the same minutes; each run's load average is kept.

Usage: python -m bench.scale.map_page [--database bookvec_scale_fallback] [--port 8214] [--repeats 3]
       [--before REF --rounds 2]
Results: ``bench/results/scale_map.json`` (``runs``: one entry per code, each with one entry per round).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from bench.support.common import PROJECT_DIR, PYTHON, commit_tree, short_commit, write_result
from bench.support.scratch import existing_environment

CHROMIUM = "/usr/bin/chromium"
FRAMES_JS = """() => { window.__frames = []; window.__callbacks = []; const generation = (window.__generation || 0) + 1;
  window.__generation = generation; const tick = (t) => { if (window.__generation !== generation) return;
  window.__frames.push(t); if (window.__recording) requestAnimationFrame(tick); };
  window.__recording = true; requestAnimationFrame(tick); }"""
"""A frame loop of its own for each measurement: the previous one's last callback, if still pending, records nothing
(two loops would record each frame twice, intervals of 0 ms)."""
SETTLE_MS = 700
"""Recorded after each gesture too: the map draws again 120 ms after a gesture ends, and that frame counts."""
CALLBACK_TIMES_JS = """() => { const ask = window.requestAnimationFrame.bind(window); window.__callbacks = [];
  window.requestAnimationFrame = (callback) => ask((t) => { const started = performance.now();
    try { callback(t); } finally { if (window.__recording) window.__callbacks.push(performance.now() - started); } }); }"""
"""Installed before the page's scripts: each frame callback's duration (the library's draws are frame callbacks)."""
DATA_TIMING_JS = """() => { const e = performance.getEntriesByType('resource').find((e) => e.name.includes('/map/points.json'));
  return e && {first_byte_s: (e.responseStart - e.requestStart) / 1000, last_byte_s: (e.responseEnd - e.requestStart) / 1000,
               sent_bytes: e.encodedBodySize, json_bytes: e.decodedBodySize}; }"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="bookvec_scale_fallback")
    parser.add_argument("--port", type=int, default=8214)
    parser.add_argument("--repeats", type=int, default=3, help="page loads (each: open, pan, zoom, hover) a run")
    parser.add_argument("--before", help="also serve this commit's code (e.g. main), alternating with the working tree")
    parser.add_argument("--rounds", type=int, default=1, help="with --before: how many before/after pairs")
    args = parser.parse_args(argv)

    env = existing_environment(database=args.database)
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL")})
    codes = [("after", PROJECT_DIR, short_commit("HEAD") + ("+changes" if _dirty() else ""))]
    if args.before:
        commit = short_commit(args.before)
        codes.insert(0, ("before", commit_tree(commit), commit))
    runs: dict[str, dict] = {}
    for _ in range(args.rounds if args.before else 1):
        for label, folder, commit in codes:
            figures = _run(env, folder, args.port, args.repeats)
            print(label, json.dumps(figures, indent=1), flush=True)
            runs.setdefault(label, {"commit": commit, "rounds": []})["rounds"].append(figures)
    path = write_result("scale_map", {
        "books": runs["after"]["rounds"][0]["books"], "repeats": args.repeats, "runs": runs,
        "how": "headless Chromium (software WebGL, SwiftShader) through Playwright, viewport 1280 x 860; pan: the "
               "mouse drags the map 600 px across in 60 moves; zoom: 20 wheel steps in, 20 out; hover: the mouse "
               "moves 600 px across in 60 moves, no button down; frame intervals from requestAnimationFrame during "
               "each and 700 ms after it; callbacks: the main thread's time in frame callbacks over 5 ms (a WebGL "
               "draw)"})
    print(f"  -> {path}")


def _dirty() -> bool:
    return bool(subprocess.run(["git", "status", "--porcelain", "--", "static", "recommender", "templates"],
                               cwd=PROJECT_DIR, capture_output=True, text=True).stdout.strip())


def _run(env: dict[str, str], folder: Path, port: int, repeats: int) -> dict:
    """The working tree's or an archived commit's code (``folder``) served and measured."""
    from bench.speed import http_load

    served = {**env, "PYTHONPATH": str(folder)}
    subprocess.run([PYTHON, str(folder / "manage.py"), "collectstatic", "--no-input", "--verbosity", "0"],
                   env=served, cwd=folder, check=True)
    load = os.getloadavg()
    http_load.PROJECT_DIR = folder  # where gunicorn starts: its code is what it serves
    try:
        base = f"http://127.0.0.1:{port}"
        server = http_load.start_gunicorn(port, 2, env=served)
        try:
            http_load.wait_until_up(base + "/api/v1/health/", server)
            figures = measure(base, repeats)
        finally:
            http_load.stop_server(server)
    finally:
        http_load.PROJECT_DIR = PROJECT_DIR
    return {"load_average_at_start": [round(value, 2) for value in load], **figures}


def measure(base: str, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    opened, data, panning, zooming, hovering = [], [], [], [], []
    books = None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"])
        try:
            for _ in range(repeats):
                page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
                page.set_default_timeout(180_000)
                page.add_init_script(f"({CALLBACK_TIMES_JS})()")
                started = time.perf_counter()
                page.goto(base + "/map/")
                page.wait_for_function("() => +document.getElementById('map').dataset.drawnPoints > 0")
                opened.append(time.perf_counter() - started)
                books = page.evaluate("() => +document.getElementById('map').dataset.drawnPoints")
                data.append(page.evaluate(DATA_TIMING_JS))
                box = page.locator("#map-canvas").bounding_box()
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.wait_for_timeout(500)
                panning.append(_frames(page, _drag, x, y))
                zooming.append(_frames(page, _wheel, x, y))
                hovering.append(_frames(page, _hover, x, y))
                page.context.close()
        finally:
            browser.close()
    return {"books": books, "seconds_to_every_book_drawn": [round(s, 2) for s in opened],
            "map_data": {key: [round(entry[key], 2) for entry in data] for key in data[0]} if data[0] else {},
            "pan": _summary(panning), "zoom": _summary(zooming), "hover": _summary(hovering)}


def _drag(page, x: float, y: float) -> None:
    page.mouse.move(x - 300, y)
    page.mouse.down()
    for step in range(60):
        page.mouse.move(x - 300 + 10 * (step + 1), y + (step % 10))
    page.mouse.up()


def _wheel(page, x: float, y: float) -> None:
    page.mouse.move(x, y)
    for delta in [-120] * 20 + [120] * 20:
        page.mouse.wheel(0, delta)


def _hover(page, x: float, y: float) -> None:
    page.mouse.move(x + 300, y + 20)
    for step in range(60):
        page.mouse.move(x + 300 - 10 * (step + 1), y + 20 + (step % 10))


def _frames(page, action, x: float, y: float) -> tuple[list[float], list[float]]:
    """Intervals (ms) between the frames drawn while ``action(page, x, y)`` runs and ``SETTLE_MS`` after, and the frame
    callbacks' durations (ms) over 5 ms."""
    page.evaluate(FRAMES_JS)
    action(page, x, y)
    page.wait_for_timeout(SETTLE_MS)
    frames, callbacks = page.evaluate(
        "() => { window.__recording = false; return [window.__frames, window.__callbacks]; }")
    return list(np.diff(frames)), [ms for ms in callbacks if ms > 5]


def _summary(runs: list[tuple[list[float], list[float]]]) -> dict:
    intervals = np.concatenate([np.asarray(run, float) for run, _ in runs]) if runs else np.zeros(0)
    if not len(intervals):
        return {}
    draws = [ms for _, callbacks in runs for ms in callbacks]
    return {"frames": int(len(intervals)), "seconds": round(float(intervals.sum()) / 1000, 2),
            "fps": round(1000 / float(np.mean(intervals)), 1),
            "p50_frame_ms": round(float(np.percentile(intervals, 50)), 1),
            "p95_frame_ms": round(float(np.percentile(intervals, 95)), 1),
            "max_frame_ms": round(float(intervals.max()), 1),
            "share_over_50_ms": round(float((intervals > 50).mean()), 3),
            "draws_over_5_ms": len(draws), "draw_p50_ms": round(float(np.median(draws)), 1) if draws else 0.0}


if __name__ == "__main__":
    main()
