"""A small smoke version of the search benchmark: a few thousand generated books, a few queries of each kind."""
import json

import pytest

from bench.speed.http_load import free_port

pytestmark = pytest.mark.slow


def test_search_is_measured_on_a_generated_catalogue(run_bench):
    results = run_bench("bench.speed.search", "--books", "3000", "--queries", "20", "--skip-old",
                        "--port", str(free_port()))

    figures = json.loads((results / "search.json").read_text())
    assert figures["vocabulary"]["words"] > 1000 and figures["vocabulary"]["trigram_rows"] > figures["vocabulary"]["words"]
    for kind in ("plain", "prefix"):
        assert figures["served"][kind]["found_books"] == 20, kind
    misspelled = figures["served"]["misspelled"]
    assert misspelled["corrected_to_meant"] + misspelled["corrected_to_other"] + misspelled["uncorrected"] == 20
    assert misspelled["corrected_to_meant"] >= 12, "most typos are corrected back to the query meant"
    assert figures["summary"]["reference_p50_ms"] > 0
