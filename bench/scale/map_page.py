"""The map page on the catalogue a scale run left behind, in a real browser: how long until every book is drawn, and
how smoothly it pans and zooms.

Serves the scratch database as ``bench.scale.serving`` does (gunicorn, nothing re-imported or retrained) and opens
``/map/`` in Debian's Chromium through Playwright (as ``tests/web/test_browser.py`` does; headless, so WebGL is
drawn in software by SwiftShader on the CPU, a pessimistic stand-in for a reader's GPU). Measures: the time from
navigation to every book drawn (``#map[data-drawn-points=N]``), the map data's size, then the frame intervals
(``requestAnimationFrame``) while the mouse drags the map across and while the wheel zooms in and out.

Usage: python -m bench.scale.map_page [--database bookvec_scale_fallback] [--port 8214] [--repeats 3]
Results: ``bench/results/scale_map.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from bench.support.common import write_result
from bench.support.scratch import existing_environment

CHROMIUM = "/usr/bin/chromium"
FRAMES_JS = """() => { window.__frames = []; const tick = (t) => { window.__frames.push(t);
  if (window.__recording) requestAnimationFrame(tick); }; window.__recording = true; requestAnimationFrame(tick); }"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="bookvec_scale_fallback")
    parser.add_argument("--port", type=int, default=8214)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from bench.speed import http_load

    env = existing_environment(database=args.database)
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL")})
    http_load.manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    base = f"http://127.0.0.1:{args.port}"
    server = http_load.start_gunicorn(args.port, 2, env=env)
    try:
        http_load.wait_until_up(base + "/api/v1/health/", server)
        figures = measure(base, args.repeats)
    finally:
        http_load.stop_server(server)
    path = write_result("scale_map", figures)
    print(json.dumps(figures, indent=1))
    print(f"  -> {path}")


def measure(base: str, repeats: int) -> dict:
    import urllib.request

    from playwright.sync_api import sync_playwright

    with urllib.request.urlopen(base + "/map/points.json", timeout=120) as response:
        points = json.loads(response.read())
    books = len(points["ids"])
    opened, panning, zooming = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"])
        try:
            for _ in range(repeats):
                page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
                page.set_default_timeout(180_000)
                started = time.perf_counter()
                page.goto(base + "/map/")
                page.wait_for_selector(f"#map[data-drawn-points='{books}']")
                opened.append(time.perf_counter() - started)
                box = page.locator("#map-canvas").bounding_box()
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                panning.append(_frames(page, _drag, x, y))
                zooming.append(_frames(page, _wheel, x, y))
                page.context.close()
        finally:
            browser.close()
    return {"books": books, "map_data_bytes": len(json.dumps(points)), "repeats": repeats,
            "seconds_to_every_book_drawn": [round(s, 2) for s in opened],
            "pan": _summary(panning), "zoom": _summary(zooming),
            "how": "headless Chromium (software WebGL, SwiftShader) through Playwright, viewport 1280 x 860; pan: "
                   "the mouse drags the map 600 px across in 60 moves; zoom: 20 wheel steps in, 20 out; frame "
                   "intervals from requestAnimationFrame during each"}


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


def _frames(page, action, x: float, y: float) -> list[float]:
    """Intervals (ms) between the frames drawn while ``action(page, x, y)`` runs."""
    page.evaluate(FRAMES_JS)
    action(page, x, y)
    page.wait_for_timeout(300)
    frames = page.evaluate("() => { window.__recording = false; return window.__frames; }")
    return list(np.diff(frames))


def _summary(runs: list[list[float]]) -> dict:
    intervals = np.concatenate([np.asarray(run, float) for run in runs]) if runs else np.zeros(0)
    if not len(intervals):
        return {}
    return {"frames": int(len(intervals)), "fps": round(1000 / float(np.mean(intervals)), 1),
            "p50_frame_ms": round(float(np.percentile(intervals, 50)), 1),
            "p95_frame_ms": round(float(np.percentile(intervals, 95)), 1),
            "max_frame_ms": round(float(intervals.max()), 1),
            "share_over_50_ms": round(float((intervals > 50).mean()), 3)}


if __name__ == "__main__":
    main()
