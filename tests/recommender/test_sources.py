"""Each source's books are centred on their own mean, and links on their books' (recommender/training/sources.py):
like books of two sources become each other's nearest, and a catalogue of one source is left as it is."""
import numpy as np

from recommender.training.sources import MIN_SOURCE_BOOKS, centred, link_offsets, source_offsets

DIMENSIONS = 16


def _two_sources(books_per_source: int, rng):
    """Books on topics shared by two sources, each source's books shifted by an offset of its own."""
    topics = rng.normal(size=(books_per_source, DIMENSIONS))
    offsets = {"wikipedia": rng.normal(size=DIMENSIONS) * 1.5, "goodbooks": rng.normal(size=DIMENSIONS) * 1.5}
    vectors, sources = [], []
    for source, offset in offsets.items():
        for index in range(books_per_source):
            vectors.append(topics[index] + offset + rng.normal(scale=0.05, size=DIMENSIONS))
            sources.append(source)
    vectors = np.array(vectors, np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), sources


def _nearest(vectors):
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return similarity.argmax(axis=1)


def test_like_books_of_two_sources_become_each_others_nearest_once_each_source_is_centred():
    vectors, sources = _two_sources(MIN_SOURCE_BOOKS, np.random.default_rng(3))
    wikipedia = np.arange(MIN_SOURCE_BOOKS)
    twin = wikipedia + MIN_SOURCE_BOOKS  # the goodbooks book on the same topic
    before = (_nearest(vectors)[wikipedia] == twin).mean()

    offsets, names = source_offsets(vectors, sources)
    after_vectors = centred(vectors, offsets)

    assert names == ["goodbooks", "wikipedia"]
    assert np.allclose(offsets[0], vectors[:MIN_SOURCE_BOOKS].mean(axis=0), atol=1e-6)
    assert np.allclose(np.linalg.norm(after_vectors, axis=1), 1, atol=1e-5)
    after = (_nearest(after_vectors)[wikipedia] == twin).mean()
    assert before < 0.5 < 0.9 < after, (before, after)


def test_a_catalogue_of_one_source_or_a_few_books_of_another_keeps_its_vectors():
    vectors, sources = _two_sources(MIN_SOURCE_BOOKS, np.random.default_rng(4))
    few = ["wikipedia"] * (2 * MIN_SOURCE_BOOKS - 5) + ["openlibrary"] * 5

    for labels in (["wikipedia"] * len(sources), few):
        offsets, names = source_offsets(vectors, labels)
        assert names == [] and not offsets.any()
        assert centred(vectors, offsets) is vectors


def test_a_link_moves_with_the_books_that_have_it_and_stays_close_to_them():
    vectors, sources = _two_sources(MIN_SOURCE_BOOKS, np.random.default_rng(5))
    offsets, _ = source_offsets(vectors, sources)
    # Link 0: two Wikipedia books'; link 1: a Wikipedia book's and its goodbooks twin's; link 2: nobody's.
    books, links = np.array([0, 1, 0, MIN_SOURCE_BOOKS]), np.array([0, 0, 1, 1])
    link_vectors = np.stack([vectors[0] + vectors[1], vectors[0] + vectors[MIN_SOURCE_BOOKS], vectors[2]])
    link_vectors /= np.linalg.norm(link_vectors, axis=1, keepdims=True)

    moved = link_offsets(offsets, books, links, 3)

    assert np.allclose(moved[0], offsets[0]) and np.allclose(moved[1], (offsets[0] + offsets[MIN_SOURCE_BOOKS]) / 2)
    assert not moved[2].any()
    books_after, links_after = centred(vectors, offsets), centred(link_vectors, moved)
    cosines = links_after @ books_after[0]
    assert min(cosines[0], cosines[1]) > 0.5 > cosines[2], "a book stays close to its links, not to another's"
    assert np.allclose(links_after[2], link_vectors[2], atol=1e-6)
