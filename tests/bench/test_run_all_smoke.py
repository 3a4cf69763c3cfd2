"""A small smoke version of every benchmark (300 books, one epoch, 2 s of load): `make bench`'s command runs
end to end on its own scratch servers and writes every results file and the tables."""
import json
import shutil

import pytest

from tests.support import PROJECT_DIR

RESULTS = ("training", "importing", "product_training", "publishing", "nearest", "http", "faults", "run_all")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("wrk") is None,
                       reason="the HTTP benchmark needs Debian's wrk (apt-get install wrk)"),
]


def test_every_benchmark_runs_on_tiny_data_and_writes_its_figures(run_bench):
    results = run_bench(
        "bench.run_all", "--books", "300", "--reference-epochs", "1", "--bookvec-epochs", "1", "--training-pairs", "2",
        "--product-params", '{"epochs": 2, "embedding_dim": 16}', "--http-duration", "2", "--http-connections", "4",
        "--goodbooks", str(PROJECT_DIR / "tests" / "fixtures" / "goodbooks"), "--skip-fault-tests")

    figures = {name: json.loads((results / f"{name}.json").read_text()) for name in RESULTS}
    for name, document in figures.items():
        assert document["machine"]["cpus"] >= 1 and document["command"], name
    assert figures["training"]["data"]["books"] == 300
    assert figures["training"]["bookvec"]["pairs_per_second"] > 0 < figures["training"]["reference"]["pairs_per_second"]
    training = figures["training"]
    assert training["bookvec_other_variant"]["params"]["variant"] != training["bookvec"]["params"]["variant"]
    assert 0 <= figures["training"]["bookvec"]["heldout_link_auc"] <= 1
    assert [run["order"] for run in training["paired_runs"]] == [["bookvec_before", "reference", "bookvec_after"]] * 2
    assert training["paired_runs"][0]["bookvec_after_pairs_per_second"] == \
        training["paired_runs"][1]["bookvec_before_pairs_per_second"]  # one Bookvec run between two references
    for run in training["paired_runs"]:
        assert run["throughput_ratio"] == min(run["throughput_ratios_before_after"]) and run["cpu_ratio"] > 0
    assert training["summary"]["throughput_ratio"] == min(run["throughput_ratio"] for run in training["paired_runs"])
    assert figures["importing"]["wikipedia_seed"]["books"] == 300
    assert figures["importing"]["goodbooks"]["books"] > 0 and figures["importing"]["goodbooks"]["shelf_entries"] > 0
    assert figures["product_training"]["summary"]["worker_peak_rss_mib"] > 0
    assert figures["publishing"]["book_vectors"] == 300 and figures["publishing"]["seconds"] > 0
    assert figures["nearest"]["methods"]["postgres_exact"]["recall_at_10"] == 1.0
    assert figures["nearest"]["methods"]["numpy_brute_force"]["recall_at_10"] >= 0.99
    http = figures["http"]["endpoints"]
    assert set(http) == {"similar", "recommendations", "book_page", "health", "static"}
    assert all(endpoint["requests"] > 0 for name, endpoint in http.items() if name != "health")
    assert figures["faults"]["faults"][0]["fault"].startswith("PostgreSQL stopped")
    assert [step["status"] for step in figures["run_all"]["steps"]] == ["ok"] * 8
    tables = (results / "BENCHMARKS.md").read_text()
    headings = ("## 1. Training", "## 3. Import", "## 4. Publishing", "## 5. Nearest", "## 6. HTTP", "## 7. Faults")
    for heading in headings:
        assert heading in tables
