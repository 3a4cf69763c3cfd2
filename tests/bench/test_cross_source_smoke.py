"""A small smoke version of the cross-source benchmark on the bundled sample: the code before matching and this code
each load the sample and train (1 epoch), the books both sources describe are measured on the map, and the wikilinks
that name a book listed."""
import json

import pytest

pytestmark = pytest.mark.slow


def test_the_bundled_sample_is_trained_before_and_after_and_its_bridged_books_measured(run_bench):
    results = run_bench("bench.quality.cross_source", "--sample", "--before", "13f16a2",
                        "--params", '{"epochs": 1, "embedding_dim": 8}')

    figures = json.loads((results / "cross_source.json").read_text())["sample"]
    assert figures["before"]["described_by"].get("goodbooks+wikipedia") is None, "no merges before matching"
    assert figures["after"]["described_by"]["goodbooks+wikipedia"] >= 100, "the sample's books both sources describe"
    assert figures["before"]["bridged_books"]["books"] >= 100, "their Wikipedia articles, measured before"
    assert 0 <= figures["summary"]["all_books_neighbours_from_other_source"][1] <= 1
    assert figures["after"]["genres"]["vocabulary_genres_used"] > 0
    assert 0 < figures["after"]["map_genres"]["placed_books"] <= figures["after"]["books_with_vectors"]
    named = figures["after"]["links_naming_books"]
    assert "links_naming_a_book" not in figures["before"]["links_naming_books"], "no link targets before"
    assert named["links_naming_a_book"] == named["by_method"]["identifier"] + named["by_method"]["title-author"] > 0
    assert any(row["link"] == "The Hobbit" and row["book"] == "The Hobbit" for row in named["title_author"])
    islands = figures["after"]["islands"]
    for graph in ("map_k10", "map_k15", "embedding_k10", "embedding_k15"):
        assert sum(islands[graph]["sizes"]) <= figures["after"]["books_with_vectors"]
        assert sum(component["books"] for component in islands[graph]["largest_described_by"]) <= sum(
            islands[graph]["sizes"])
    assert 0 <= islands["map_mixing"]["wikipedia"]["map_neighbours_described_by_other_source"] <= 1
    assert figures["summary"]["islands_map_k15_components"][1] == islands["map_k15"]["components"] >= 1
    joined = figures["after"]["vocabulary"]
    assert figures["before"]["vocabulary"] == {}, "no vocabulary before"
    assert joined["joined_wikilinks"] == sum(joined["by_rule"].values()) > 0
    assert any(row["wikilink"] == "World War II" and row["tag"] == "world-war-ii"
               for row in joined["most_books"] + joined["spelling_sample"])
