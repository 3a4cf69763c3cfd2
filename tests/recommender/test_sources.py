"""The direction that only says which source described a book is taken out of the vectors (recommender/training/
sources.py): like books of two sources become each other's nearest, and a catalogue of one source is left as it is."""
import numpy as np

from recommender.training.sources import MIN_SOURCE_BOOKS, source_axes, without_axes

DIMENSIONS = 16


def _two_sources(books_per_source: int, rng):
    """Books on topics shared by two sources, each source's books shifted by an offset of its own."""
    topics = rng.normal(size=(books_per_source, DIMENSIONS))
    offsets = {"wikipedia": rng.normal(size=DIMENSIONS) * 1.5, "goodbooks": rng.normal(size=DIMENSIONS) * 1.5}
    vectors, sources, topic = [], [], []
    for source, offset in offsets.items():
        for index in range(books_per_source):
            vectors.append(topics[index] + offset + rng.normal(scale=0.05, size=DIMENSIONS))
            sources.append(source)
            topic.append(index)
    vectors = np.array(vectors, np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), sources, np.array(topic)


def _nearest(vectors):
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return similarity.argmax(axis=1)


def test_like_books_of_two_sources_become_each_others_nearest_once_the_source_axis_is_out():
    vectors, sources, topic = _two_sources(MIN_SOURCE_BOOKS, np.random.default_rng(3))
    wikipedia = np.arange(MIN_SOURCE_BOOKS)
    twin = wikipedia + MIN_SOURCE_BOOKS  # the goodbooks book on the same topic
    before = (_nearest(vectors)[wikipedia] == twin).mean()

    axes = source_axes(vectors, sources)
    after_vectors = without_axes(vectors, axes)

    assert axes.shape == (1, DIMENSIONS)
    assert np.allclose(np.linalg.norm(after_vectors, axis=1), 1, atol=1e-5)
    means = [after_vectors[np.array(sources) == source].mean(axis=0) for source in ("wikipedia", "goodbooks")]
    assert abs(float((means[0] - means[1]) @ axes[0])) < 1e-5, "the sources' means no longer differ along the axis"
    after = (_nearest(after_vectors)[wikipedia] == twin).mean()
    assert before < 0.5 < 0.9 < after, (before, after)
    assert (topic[_nearest(after_vectors)] == topic).mean() > 0.9


def test_a_catalogue_of_one_source_or_a_few_books_of_another_keeps_its_vectors():
    vectors, sources, _ = _two_sources(MIN_SOURCE_BOOKS, np.random.default_rng(4))
    few = ["wikipedia"] * (2 * MIN_SOURCE_BOOKS - 5) + ["openlibrary"] * 5

    for labels in (["wikipedia"] * len(sources), few):
        axes = source_axes(vectors, labels)
        assert axes.shape == (0, DIMENSIONS)
        assert without_axes(vectors, axes) is vectors


def test_books_and_links_go_through_one_projection():
    vectors, sources, _ = _two_sources(MIN_SOURCE_BOOKS, np.random.default_rng(5))
    links = vectors[::7] + 0.01
    axes = source_axes(vectors, sources)

    books_after, links_after = without_axes(vectors, axes), without_axes(links, axes)
    projected = vectors - (vectors @ axes.T) @ axes
    expected = projected / np.linalg.norm(projected, axis=1, keepdims=True)
    assert np.allclose(books_after, expected, atol=1e-5)
    assert np.allclose(np.abs(links_after @ axes.T), 0, atol=1e-5), "the links lose the same direction"
