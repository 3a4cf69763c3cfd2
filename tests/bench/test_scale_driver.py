"""The scale driver's bookkeeping, without running a size: a generated folder is reused only for its own size and
seed, and the report says when each size was measured and how the largest one stands against issue 22's targets."""
import json

from bench.scale import stages
from bench.scale.generate import generate


def test_a_generated_folder_is_reused_for_its_own_size_and_seed_only(tmp_path):
    figures = generate(60, tmp_path, seed=22)

    assert stages._generated(tmp_path, 60)["shelf_entries"] == figures.shelf_entries
    assert stages._generated(tmp_path, 61) is None
    assert stages._generated(tmp_path / "not-there", 60) is None
    generate(60, tmp_path, seed=5)
    assert stages._generated(tmp_path, 60) is None  # another seed writes other files


def test_an_endpoint_measured_in_several_windows_is_reported_over_them_together():
    def window(requests, per_second, cpu_ms, p50_ms, errors):
        return {"requests": requests, "requests_per_second": per_second, "p50_ms": p50_ms, "p90_ms": 2 * p50_ms,
                "p99_ms": 3 * p50_ms, "max_ms": 4 * p50_ms, "errors": errors, "seconds": 10,
                "error_breakdown": {"timeouts": errors, "status_errors": 0}, "cpu_ms_per_request": cpu_ms,
                "largest_worker_peak_rss_mib": 100.0 + requests / 100}
    busy, quiet, middle = window(500, 50.0, 8.0, 600.0, 0), window(1500, 150.0, 6.0, 200.0, 2), window(1000, 100.0, 7.0, 300.0, 0)

    together = stages._windows_together([busy, quiet, middle])

    assert together["requests"] == 3000 and together["seconds"] == 30
    assert together["requests_per_second"] == 100.0, "all the requests over all the windows' time"
    assert together["cpu_ms_per_request"] == round((500 * 8 + 1500 * 6 + 1000 * 7) / 3000, 2)
    assert together["p50_ms"] == 300.0 and together["max_ms"] == 1200.0, "latencies: the median window's"
    assert together["errors"] == 2 and together["error_breakdown"] == {"timeouts": 2, "status_errors": 0}
    assert together["largest_worker_peak_rss_mib"] == 115.0 and together["windows"] == [busy, quiet, middle]
    assert stages._windows_together([busy]) == busy, "one window's figures as they are"


def _run(books: int, stamp: dict) -> dict:
    served = {"p50_ms": 10.0, "requests_per_second": 100.0, "errors": 0, "cpu_ms_per_request": 5.0}
    return {
        "measured": stamp, "generated": {"books": books, "readers": 5 * books, "shelf_entries": 100 * books,
                                         "book_tag_pairs": 25 * books}, "generate_seconds": 1.0,
        "import": {"wall_seconds": 2.0, "cpu_seconds": 1.0, "peak_rss_mib": 100.0, "stages_seconds": {}},
        "training": {"seconds_request_to_done": 600.0, "stages_seconds": {"train": 5.0},
                     "stages_cpu_seconds": {"train": 240.0}, "worker_peak_rss_mib": 2048.0},
        "index_build": {"bookvector": 1.0}, "disk": {"version_mib": 10.0, "tables": {"bookvector": {"indexes_mib": 1}}},
        "serving": {**{endpoint: dict(served) for endpoint in stages.SERVED},
                    "map_points": {"p50_ms": 500.0, "bytes": 2**20, "cpu_ms_per_request": 50.0}},
    }


def test_the_report_says_when_each_size_was_measured_and_the_largest_against_the_targets():
    sweep = {"date": "2026-12-07T12:13:07+00:00", "git_commit": "83f5ab51f9b7", "load_average_at_start": [8.2, 9.5, 11]}
    alone = {"date": "2026-12-07T13:55:03+00:00", "git_commit": "0eef0fb0aaaa", "load_average_at_start": [7.7, 4.9, 2.8]}
    runs = {"1000": _run(1000, sweep), "2000": _run(2000, sweep), "200000": _run(200000, alone)}
    result = {"sizes_books": [1000, 2000, 200000], "params": {"epochs": 5}, "http_duration_seconds": 10,
              "connections": 32, "runs": runs, "machine": {"cpus": 2, **alone},
              "cpu_seconds": {size: stages.stage_seconds(run) for size, run in runs.items()},
              "wall_seconds": {size: stages.wall_seconds(run) for size, run in runs.items()},
              "growth_exponents_cpu": stages._growth(runs), "growth_exponents_wall": stages._growth(runs, stages.wall_seconds)}

    text = stages.render_markdown(json.loads(json.dumps(result)), None)

    assert "1,000–2,000 books from 2026-12-07 12:13 at `83f5ab51f9` (load average at the start 8.2 / 9.5 / 11)" in text
    assert "200,000 books from 2026-12-07 13:55 at `0eef0fb0aa`" in text
    assert "At the largest size, 200,000 books" in text and "**10.0 min** from request to live" in text
    assert "**2.0 GiB** (≤ 12)" in text and "**1.00×** the health endpoint's" in text and "0 errors" in text


def test_an_unfinished_size_is_reported_stage_by_stage_as_far_as_it_got():
    run = _run(200000, {"date": "2026-12-07T13:55:03+00:00", "git_commit": "42a5ac7aaaa", "load_average_at_start": [7.7]})
    run["import"] |= {"importer_cpu_seconds": 0.4, "database_cpu_seconds": 0.6, "stages_seconds": {"commit": 1.0}}
    del run["training"]
    run["training_so_far"] = {"stages_seconds": {"train": 379.0, "read_pairs": 223.0, "pairs_per_second": 3.0},
                              "stages_cpu_seconds": {"read_pairs": 136.0, "train": 312.0}, "seconds_so_far": 608.0,
                              "worker_peak_rss_mib_so_far": 7414.4}
    run["stopped"] = "stopped in the shelf model at 15:30 (the deadline)"

    lines = stages.render_partial("200000", run)

    assert "200,000 books, 1,000,000 readers" in lines[1] and lines[1].endswith("stopped in the shelf model at 15:30 (the deadline)")
    rows = [line for line in lines if line.startswith("| run:")]
    assert rows == ["| run: read_pairs | 223 | 136 | |", "| run: train | 379 | 312 | |"]
    assert lines[-1] == "| training run, request to last stage ended | 608 | 448 | 7.2 GiB (worker) |"


def test_regenerating_section_15_keeps_its_reading_written_by_hand(tmp_path, monkeypatch):
    from bench.support import common

    stamp = {"date": "2026-12-07T12:13:07+00:00", "git_commit": "83f5ab51f9b7", "load_average_at_start": [8.2]}
    runs = {"1000": _run(1000, stamp), "2000": _run(2000, stamp)}
    (tmp_path / "scale.json").write_text(json.dumps({
        "sizes_books": [1000, 2000], "params": {}, "http_duration_seconds": 8, "connections": 4, "runs": runs,
        "machine": {"cpus": 2, **stamp}}))
    (tmp_path / "BENCHMARKS.md").write_text(f"# Benchmarks\n\n{stages.SECTION}\n\nold table\n\n"
                                            "Reading it (by hand, today): kept.\n\n## 16. Next\n\nuntouched\n")
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(stages, "PROJECT_DIR", tmp_path)

    text = stages.write_markdown("scale").read_text()

    assert "old table" not in text and "| run: train |" in text
    assert text.index("| run: train |") < text.index("Reading it (by hand, today): kept.\n\n## 16. Next\n\nuntouched\n")
