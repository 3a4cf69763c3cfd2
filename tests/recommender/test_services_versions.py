"""Embedding versions (publish, activate, roll back, prune, quality gate) and inferred vectors for new books."""
import numpy as np
import pytest
from django.db import connection

from books.models import Book, BookLink, Shelf, ShelfEntry
from recommender.models import BookVector, EmbeddingVersion, LinkVector
from recommender.selectors import active_version, similar_books, similar_links
from recommender.services.inference import book_vectors_infer
from recommender.services.versions import (
    SIMILAR_LINK_MIN_BOOKS,
    AnnRecallTooLow,
    NoPreviousVersion,
    VersionNotReady,
    version_activate,
    version_check_ann_recall,
    version_discard,
    version_index_books,
    version_index_links,
    version_mark_ready,
    version_publish,
    version_rollback,
    version_write,
    versions_index_links_missing,
    versions_prune,
)
from recommender.training.quality import quality_gate
from recommender.vectors import HNSW_EF_CONSTRUCTION, book_index_name, link_index_name
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


def hnsw_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%%USING hnsw%%'")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def planted():
    return planted_catalogue(groups=4, books_per_group=15)


def test_publishing_writes_every_vector_builds_the_index_and_checks_recall(planted):
    version = publish_planted_version(planted, activate=False)

    assert version.is_ready and not version.is_active and version.ann_recall_at_10 == 1.0
    assert book_index_name(version.pk) in hnsw_indexes()
    stored = dict(BookVector.objects.filter(version=version).values_list("book_id", "embedding"))
    assert set(stored) == {b.pk for b in planted.books}
    assert all(abs(np.linalg.norm(vector) - 1) < 1e-5 for vector in stored.values())
    assert LinkVector.objects.filter(version=version).count() == len(planted.links)
    assert version_check_ann_recall(version=version, sample_size=20) == 1.0


@pytest.mark.parametrize("coords", ["all", "none", "some"])
def test_publishing_stores_each_vector_and_map_position_exactly_with_missing_positions_as_null(planted, coords):
    from recommender.services.versions import version_publish

    rng = np.random.default_rng(3)
    book_ids = np.array([book.pk for book in planted.books])
    link_ids = np.array([link.pk for link in planted.links])
    book_vectors = rng.normal(size=(len(book_ids), 8)).astype(np.float32)
    link_vectors = rng.normal(size=(len(link_ids), 8)).astype(np.float32)
    counts = np.arange(len(link_ids)) % (SIMILAR_LINK_MIN_BOOKS + 1)
    map_coords = rng.uniform(-1, 1, size=(len(book_ids), 2))
    if coords != "all":
        map_coords[: None if coords == "none" else 5] = np.nan
    version = version_publish(run=None, book_ids=book_ids, book_vectors=book_vectors, link_ids=link_ids,
                              link_vectors=link_vectors, map_coords=map_coords,
                              link_book_counts=counts)

    stored = {row[0]: row[1:] for row in BookVector.objects.filter(version=version).values_list(
        "book_id", "embedding", "map_x", "map_y", "is_inferred")}
    for book_id, vector, (x, y) in zip(book_ids.tolist(), book_vectors, map_coords):
        embedding, map_x, map_y, inferred = stored[book_id]
        assert np.array_equal(np.asarray(embedding, np.float32), vector) and not inferred
        assert (map_x, map_y) == ((None, None) if np.isnan(x) else (x, y))
    links = {row[0]: row[1:] for row in LinkVector.objects.filter(version=version).values_list(
        "link_id", "embedding", "is_listed")}
    for link_id, vector, count in zip(link_ids.tolist(), link_vectors, counts):
        assert np.array_equal(np.asarray(links[link_id][0], np.float32), vector)
        assert links[link_id][1] == (count >= SIMILAR_LINK_MIN_BOOKS)


def test_only_links_used_by_enough_books_are_listed_and_indexed_and_both_tables_have_statistics(planted):
    counts = np.where(np.arange(len(planted.links)) % 2 == 0, SIMILAR_LINK_MIN_BOOKS, SIMILAR_LINK_MIN_BOOKS - 1)
    version = publish_planted_version(planted, link_book_counts=counts)
    listed = {link.pk for link, count in zip(planted.links, counts) if count >= SIMILAR_LINK_MIN_BOOKS}

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN (%s, %s)",
                       [book_index_name(version.pk), link_index_name(version.pk)])
        definitions = dict(cursor.fetchall())
        # Statistics that know the new version's rows: without them the planner takes it for a handful of
        # rows and sorts them instead of using its index.
        cursor.execute("SELECT tablename, most_common_vals::text FROM pg_stats"
                       " WHERE tablename IN (%s, %s) AND attname = 'version_id'",
                       [BookVector._meta.db_table, LinkVector._meta.db_table])
        versions_in_statistics = dict(cursor.fetchall())
    assert f"ef_construction='{HNSW_EF_CONSTRUCTION}'" in definitions[book_index_name(version.pk)]
    assert "is_listed" in definitions[link_index_name(version.pk)]
    assert LinkVector.objects.filter(version=version).count() == len(planted.links), "every link keeps its vector"
    assert set(LinkVector.objects.filter(version=version, is_listed=True).values_list("link_id", flat=True)) == listed
    rare = next(link for link in planted.links if link.pk not in listed)
    similar = similar_links(link=rare, k=5)
    assert len(similar) == 5 and {s.link.pk for s in similar} <= listed, "a rare link still finds listed links"
    assert versions_in_statistics == {BookVector._meta.db_table: f"{{{version.pk}}}",
                                      LinkVector._meta.db_table: f"{{{version.pk}}}"}


def valid_indexes() -> dict[str, bool]:
    """Every index of the vector tables by name: whether it is valid (a concurrent build cut short is not)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                       " WHERE i.indrelid IN ('recommender_bookvector'::regclass, 'recommender_linkvector'::regclass)")
        return dict(cursor.fetchall())


def publish_without_link_index(planted) -> EmbeddingVersion:
    """What a training run has made live when its worker dies before indexing the links."""
    rng = np.random.default_rng(0)
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    version = version_publish(
        run=None, book_ids=np.array([book.pk for book in planted.books]),
        book_vectors=rng.normal(size=(len(planted.books), 8)).astype(np.float32),
        link_ids=np.array([link.pk for link in planted.links]),
        link_vectors=rng.normal(size=(len(planted.links), 8)).astype(np.float32))
    return version_activate(version=version)


def test_a_version_goes_live_before_its_link_index_and_serves_similar_links_exactly_meanwhile(planted):
    version = publish_without_link_index(planted)
    link = planted.links[0]
    stored = dict(LinkVector.objects.filter(version=version).values_list("link_id", "embedding"))
    unit = {pk: np.asarray(vector) / np.linalg.norm(vector) for pk, vector in stored.items()}
    exact = sorted((pk for pk in unit if pk != link.pk), key=lambda pk: -float(unit[pk] @ unit[link.pk]))[:5]

    assert version.is_active and book_index_name(version.pk) in valid_indexes()
    assert link_index_name(version.pk) not in valid_indexes()
    assert [s.link.pk for s in similar_links(link=link, k=5)] == exact, "a scan of the listed links, exact"

    assert version_index_links(version=version) is True
    assert valid_indexes()[link_index_name(version.pk)] is True
    assert version_index_links(version=version) is False, "built once"
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [link_index_name(version.pk)])
        (definition,) = cursor.fetchone()
    assert "hnsw" in definition and "is_listed" in definition and f"version_id = {version.pk}" in definition


def test_a_version_discarded_meanwhile_gets_no_link_index(planted):
    version = publish_planted_version(planted, activate=False)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {link_index_name(version.pk)}")
    version_discard(version=version)

    assert version_index_links(version=version) is False
    assert link_index_name(version.pk) not in valid_indexes()


@pytest.mark.django_db(transaction=True)
def test_a_link_index_build_cut_short_is_built_again_concurrently_by_the_next_worker_while_the_version_serves():
    planted = planted_catalogue(groups=4, books_per_group=15)
    version = publish_without_link_index(planted)
    with connection.cursor() as cursor:
        # What a killed CREATE INDEX CONCURRENTLY leaves: an invalid index of that name (here a unique one that
        # fails on the version's repeated version_id).
        with pytest.raises(Exception, match="could not create unique index"):
            cursor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {link_index_name(version.pk)}"
                           " ON recommender_linkvector (version_id)")
    assert valid_indexes()[link_index_name(version.pk)] is False
    assert len(similar_links(link=planted.links[0], k=5)) == 5, "the live version serves meanwhile"

    assert versions_index_links_missing() == [version.pk]

    assert valid_indexes()[link_index_name(version.pk)] is True
    assert link_index_name(version.pk) in hnsw_indexes()
    assert versions_index_links_missing() == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_maintenance_workers")
        assert cursor.fetchone()[0] == "2" and not connection.in_atomic_block, "the session's settings reset"


def test_a_book_or_link_deleted_while_the_version_trained_has_no_vector_in_it_and_deleting_one_later_deletes_its_vectors(
        planted):
    gone_book, gone_link = planted.books[0], planted.links[0]
    rng = np.random.default_rng(0)
    book_ids = np.array([book.pk for book in planted.books])
    link_ids = np.array([link.pk for link in planted.links])
    gone_book.delete()
    gone_link.delete()  # as a merge does while a run trains on the ids it read

    version = version_publish(run=None, book_ids=book_ids,
                              book_vectors=rng.normal(size=(len(book_ids), 8)).astype(np.float32),
                              link_ids=link_ids, link_vectors=rng.normal(size=(len(link_ids), 8)).astype(np.float32))

    assert version.is_ready
    assert set(BookVector.objects.filter(version=version).values_list("book_id", flat=True)) == set(book_ids[1:])
    assert set(LinkVector.objects.filter(version=version).values_list("link_id", flat=True)) == set(link_ids[1:])
    later = planted.books[1]
    later.delete()
    assert not BookVector.objects.filter(book_id=later.pk).exists(), "Django's cascade still deletes them"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN"
                       " ('recommender_bookvector'::regclass, 'recommender_linkvector'::regclass)")
        assert cursor.fetchone()[0] == 0, "no row-by-row foreign-key checks at the COPY's commit (BENCHMARKS §4)"


def test_the_recall_check_gives_the_same_figure_from_the_vectors_in_hand_as_from_the_stored_ones(planted):
    version = publish_planted_version(planted, activate=False, noise=1.5)
    stored = dict(BookVector.objects.filter(version=version).values_list("book_id", "embedding"))
    ids = np.array(list(stored))[::-1]  # any order: the check sorts by id, as the stored vectors are read
    vectors = np.stack([np.asarray(stored[book_id]) for book_id in ids])

    from_database = version_check_ann_recall(version=version, sample_size=30)
    in_hand = version_check_ann_recall(version=version, sample_size=30, ids=ids, vectors=vectors)

    assert in_hand == from_database
    links = version_check_ann_recall(version=version, sample_size=30, model=LinkVector)
    assert 0.5 < links <= 1.0


def written_version(planted, *, seed: int = 0) -> tuple[EmbeddingVersion, np.ndarray, np.ndarray]:
    """A version whose vectors are written (``version_write``), not made ready; with its book ids and vectors."""
    rng = np.random.default_rng(seed)
    book_ids = np.array([book.pk for book in planted.books])
    book_vectors = rng.normal(size=(len(book_ids), 8)).astype(np.float32)
    version = version_write(run=None, book_ids=book_ids, book_vectors=book_vectors,
                            link_ids=np.array([link.pk for link in planted.links]),
                            link_vectors=rng.normal(size=(len(planted.links), 8)).astype(np.float32))
    return version, book_ids, book_vectors


def test_a_written_version_is_ready_only_once_its_book_index_is_built_and_checked_and_it_is_marked(planted):
    live = publish_planted_version(planted, seed=1)
    version, book_ids, book_vectors = written_version(planted)

    assert not version.is_ready and book_index_name(version.pk) not in hnsw_indexes()
    assert BookVector.objects.filter(version=version).count() == len(book_ids)
    with pytest.raises(VersionNotReady):
        version_mark_ready(version=version)  # no checked index

    assert version_index_books(version=version, ids=book_ids, vectors=book_vectors) == 1.0
    version.refresh_from_db()
    assert version.ann_recall_at_10 == 1.0 and book_index_name(version.pk) in hnsw_indexes()
    assert not version.is_ready, "a run marks it ready at its end, not the build"
    with pytest.raises(VersionNotReady):
        version_activate(version=version)

    assert version_mark_ready(version=version) is version
    version.refresh_from_db()
    assert version.is_ready and active_version().pk == live.pk, "ready is not live"


def test_a_book_index_failing_its_recall_check_deletes_the_version_and_leaves_the_live_one_serving(planted):
    live = publish_planted_version(planted, seed=1)
    version, book_ids, _ = written_version(planted)
    # The check's truth is other vectors than those indexed: as an index that misses the exact neighbours.
    unrelated = np.random.default_rng(9).normal(size=(len(book_ids), 8)).astype(np.float32)

    with pytest.raises(AnnRecallTooLow):
        version_index_books(version=version, ids=book_ids, vectors=unrelated)

    assert not EmbeddingVersion.objects.filter(pk=version.pk).exists()
    assert not BookVector.objects.filter(version_id=version.pk).exists()
    assert book_index_name(version.pk) not in hnsw_indexes()
    assert active_version().pk == live.pk


@pytest.mark.django_db(transaction=True)
def test_a_run_builds_the_book_index_on_a_thread_of_its_own_and_a_run_that_stops_meanwhile_leaves_nothing():
    from recommender.services.training_pipeline import _BookIndexBuild

    planted = planted_catalogue(groups=4, books_per_group=15)
    live = publish_planted_version(planted, seed=3)
    version, book_ids, book_vectors = written_version(planted)
    build = _BookIndexBuild(version, ids=book_ids, vectors=book_vectors)
    assert build.thread is not None, "outside a transaction, on its own connection"
    assert len(similar_books(book=planted.books[0], k=5)) == 5, "the live version serves meanwhile"
    build.wait()
    assert active_version().pk == live.pk
    version.refresh_from_db()
    assert version.ann_recall_at_10 == 1.0 and book_index_name(version.pk) in hnsw_indexes()
    assert not version.is_ready, "marked ready by the run at its end"

    stopped, book_ids, book_vectors = written_version(planted, seed=1)
    _BookIndexBuild(stopped, ids=book_ids, vectors=book_vectors).abandon()
    assert not EmbeddingVersion.objects.filter(pk=stopped.pk).exists()
    assert book_index_name(stopped.pk) not in hnsw_indexes()

    failing, book_ids, _ = written_version(planted, seed=2)
    unrelated = np.random.default_rng(9).normal(size=(len(book_ids), 8)).astype(np.float32)
    with pytest.raises(AnnRecallTooLow):
        _BookIndexBuild(failing, ids=book_ids, vectors=unrelated).wait()
    assert not EmbeddingVersion.objects.filter(pk=failing.pk).exists()
    assert book_index_name(failing.pk) not in hnsw_indexes()


def test_activation_switches_the_live_version_and_rollback_goes_back(planted):
    first = publish_planted_version(planted, seed=1)
    second = publish_planted_version(planted, seed=2)

    assert active_version().pk == second.pk
    assert version_rollback().pk == first.pk
    assert active_version().pk == first.pk
    assert EmbeddingVersion.objects.filter(is_active=True).count() == 1
    version_activate(version=second)
    assert active_version().pk == second.pk


def test_rollback_goes_back_to_the_version_that_served_last_not_one_tried_and_rolled_back_from(planted):
    good = publish_planted_version(planted, seed=0)
    rejected = publish_planted_version(planted, seed=1, activate=False)  # held back by the quality gate
    version_activate(version=rejected)  # staff try it ...
    assert version_rollback().pk == good.pk  # ... and go back
    publish_planted_version(planted, seed=2)  # the newest

    assert version_rollback().pk == good.pk, "the version live before the newest, not the rejected one"
    assert active_version().pk == good.pk


def test_rollback_without_an_older_version_is_refused(planted):
    publish_planted_version(planted)

    with pytest.raises(NoPreviousVersion):
        version_rollback()


def test_a_version_that_is_not_ready_cannot_go_live(planted):
    version = EmbeddingVersion.objects.create(dimensions=16)

    with pytest.raises(VersionNotReady):
        version_activate(version=version)
    assert active_version() is None


def test_pruning_keeps_the_newest_versions_and_the_live_one_and_drops_the_rest(planted, settings):
    settings.EMBEDDING_VERSIONS_KEPT = 2
    versions = [publish_planted_version(planted, seed=seed, activate=seed == 0) for seed in range(4)]
    half_written = EmbeddingVersion.objects.create(dimensions=16)

    pruned = versions_prune()

    assert sorted(pruned) == sorted([versions[1].pk, half_written.pk])
    remaining = set(EmbeddingVersion.objects.values_list("pk", flat=True))
    assert remaining == {versions[0].pk, versions[2].pk, versions[3].pk}
    assert book_index_name(versions[1].pk) not in hnsw_indexes()
    assert not BookVector.objects.filter(version_id=versions[1].pk).exists()
    assert active_version().pk == versions[0].pk


def test_pruning_keeps_the_version_a_rollback_needs_however_many_newer_ones_never_went_live(planted, settings):
    settings.EMBEDDING_VERSIONS_KEPT = 2
    served_before, live = (publish_planted_version(planted, seed=seed) for seed in range(2))
    held_back = [publish_planted_version(planted, seed=seed, activate=False) for seed in range(2, 5)]

    pruned = versions_prune()

    assert sorted(pruned) == [held_back[0].pk]
    assert active_version().pk == live.pk
    assert version_rollback().pk == served_before.pk


def test_discarding_leaves_a_live_version_alone_as_one_staff_activated_while_pruning(planted):
    old, new = (publish_planted_version(planted, seed=seed) for seed in range(2))
    version_activate(version=old)

    assert version_discard(version=old) is False
    assert active_version().pk == old.pk and EmbeddingVersion.objects.get(pk=old.pk).is_ready
    assert version_discard(version=new) is True
    assert not EmbeddingVersion.objects.filter(pk=new.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_pruning_drops_the_indexes_concurrently_and_deletes_every_row(settings):
    settings.EMBEDDING_VERSIONS_KEPT = 1
    planted = planted_catalogue(groups=4, books_per_group=15)
    old, new = (publish_planted_version(planted, seed=seed) for seed in range(2))

    assert versions_prune() == [old.pk]

    assert not {book_index_name(old.pk), link_index_name(old.pk)} & hnsw_indexes()
    assert book_index_name(new.pk) in hnsw_indexes()
    assert not BookVector.objects.filter(version_id=old.pk).exists()
    assert not LinkVector.objects.filter(version_id=old.pk).exists()
    assert not EmbeddingVersion.objects.filter(pk=old.pk).exists()
    assert active_version().pk == new.pk


def test_the_quality_gate_refuses_a_clearly_worse_version_only():
    live = {"shelf_recall@20": 0.30, "same_author_precision@5": 0.50, "heldout_auc": 0.90}

    assert quality_gate(new=dict(live), live=live) == (True, [])
    assert quality_gate(new={**live, "shelf_recall@20": 0.29}, live=live)[0]
    passed, reasons = quality_gate(new={**live, "same_author_precision@5": 0.30}, live=live)
    assert not passed and "same_author_precision@5" in reasons[0]
    # The book vectors' own shelf figure counts too: collapsed vectors leave the shelf model's figure unchanged.
    passed, reasons = quality_gate(new={**live, "votes_recall@20": 0.08}, live={**live, "votes_recall@20": 0.31})
    assert not passed and "votes_recall@20" in reasons[0]
    assert quality_gate(new={"heldout_auc": 0.5}, live=None) == (True, [])


def test_a_new_book_gets_an_inferred_vector_from_its_links_right_away(planted):
    version = publish_planted_version(planted)
    group_links = planted.links[8:12]  # links of group 1
    newcomer = Book.objects.create(external_id="wikipedia:Newcomer", source="wikipedia", title="Newcomer")
    BookLink.objects.bulk_create([BookLink(book=newcomer, link=link) for link in group_links])

    assert book_vectors_infer(book_ids=[newcomer.pk]) == [newcomer.pk]

    vector = BookVector.objects.get(version=version, book=newcomer)
    assert vector.is_inferred and vector.map_x is not None and vector.map_y is not None
    neighbours = similar_books(book=newcomer, k=5)
    assert [planted.group_of_book[n.book.pk] for n in neighbours] == [1] * 5
    assert book_vectors_infer(book_ids=[newcomer.pk]) == [], "a book with a vector keeps it"


def test_a_book_imported_while_a_version_trained_gets_its_inferred_vector_when_that_version_goes_live(planted):
    publish_planted_version(planted)
    newer = publish_planted_version(planted, seed=1, activate=False)  # trained before the book arrived
    newcomer = Book.objects.create(external_id="wikipedia:Newcomer", source="wikipedia", title="Newcomer")
    BookLink.objects.bulk_create([BookLink(book=newcomer, link=link) for link in planted.links[8:12]])
    book_vectors_infer()  # as the import does: a vector in the live version

    version_activate(version=newer)

    assert BookVector.objects.get(version=newer, book=newcomer).is_inferred
    assert [planted.group_of_book[n.book.pk] for n in similar_books(book=newcomer, k=5)] == [1] * 5


def test_a_new_book_on_shelves_only_is_inferred_from_its_shelf_neighbours(planted, user):
    publish_planted_version(planted)
    newcomer = Book.objects.create(external_id="wikipedia:Shelved", source="wikipedia", title="Shelved")
    shelf = Shelf.objects.create(user=user, name="Want", kind="want-to-read")
    for book in [newcomer, *planted.books_of_group(2)[:3]]:
        ShelfEntry.objects.create(shelf=shelf, book=book, added_at="2024-01-01T00:00:00Z")

    assert book_vectors_infer() == [newcomer.pk]
    assert {planted.group_of_book[n.book.pk] for n in similar_books(book=newcomer, k=3)} == {2}


def test_inference_without_a_live_version_does_nothing(planted):
    assert book_vectors_infer(book_ids=[planted.books[0].pk]) == []


def test_same_author_precision_is_also_reported_per_source():
    from recommender.training.data import TrainingData
    from recommender.training.dataset import PairSet
    from recommender.training.quality import embeddings_evaluate

    # Books 0-3: wikipedia, two authors whose books sit together. Books 4-7: goodbooks.
    vectors = np.array([[1, 0, 0], [0.99, 0.1, 0], [0, 1, 0], [0.1, 0.99, 0],
                        [0, 0, 1], [0.7, 0, 0.7], [0, 0.7, 0.7], [0.6, 0.6, 0.5]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = TrainingData(
        pairs=PairSet.build([0], [0], n_books=8, n_links=1), content=PairSet.build([0], [0], n_books=8, n_links=1),
        shelves=PairSet.build([], [], n_books=8, n_links=0), book_ids=np.arange(8), link_ids=np.arange(1),
        n_readers=0, shelf_cases=[], shelf_popularity=np.zeros(8),
        authors=["a", "a", "b", "b", "c", "c", "d", "d"], genres=[""] * 8, countries=[""] * 8,
        sources=["wikipedia"] * 4 + ["goodbooks"] * 4,
    )

    metrics = embeddings_evaluate(data=data, book_vectors=vectors, heldout_auc=None)

    assert metrics["wikipedia:same_author_precision@5"] == pytest.approx(1 / 5)  # each finds its co-author
    # Both sources have 4 eligible books, so the overall figure is the mean of the two.
    assert metrics["same_author_precision@5"] == pytest.approx(
        (metrics["wikipedia:same_author_precision@5"] + metrics["goodbooks:same_author_precision@5"]) / 2)


def test_a_neighbourhood_shelf_models_chosen_tail_blend_is_kept_with_the_versions_figures():
    import scipy.sparse as sp

    from recommender.training.data import TrainingData
    from recommender.training.dataset import PairSet
    from recommender.training.quality import embeddings_evaluate
    from recommender.training.shelf_model import ShelfModel

    vectors = np.eye(4, dtype=np.float32)
    data = TrainingData(
        pairs=PairSet.build([0], [0], n_books=4, n_links=1), content=PairSet.build([0], [0], n_books=4, n_links=1),
        shelves=PairSet.build([], [], n_books=4, n_links=0), book_ids=np.arange(4), link_ids=np.arange(1),
        n_readers=0, shelf_cases=[], shelf_popularity=np.zeros(4),
        authors=[""] * 4, genres=[""] * 4, countries=[""] * 4, sources=["goodbooks"] * 4,
    )
    neighbourhood = ShelfModel(book_index=np.arange(4), shelf_vectors=sp.csr_matrix(np.eye(4, dtype=np.float32)),
                               tail_blend=0.5, tail_scale=0.1)
    exact = ShelfModel(book_index=np.arange(4), shelf_vectors=np.eye(4, dtype=np.float32))

    metrics = embeddings_evaluate(data=data, book_vectors=vectors, heldout_auc=None, shelf_model=neighbourhood)
    assert (metrics["shelf_model_tail_blend"], metrics["shelf_model_tail_scale"]) == (0.5, 0.1)
    assert "shelf_model_tail_blend" not in embeddings_evaluate(data=data, book_vectors=vectors, heldout_auc=None,
                                                               shelf_model=exact)
