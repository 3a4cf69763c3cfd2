"""What the active embedding version looks like from outside: the map's data and the projector download.

* ``map_data``: every placed book of a version, column by column (compact JSON for 40,000 points), with
  each book's genre and country as an index into a short legend (the most common values; the rest
  fall under "Other"), and the sources that describe it (Wikipedia, goodbooks, both, a catalogue of one's own).
  Cached per version, rebuilt when books are added to the version; ``map_data_gzipped`` is the same as the
  gzip-compressed JSON the map page loads, cached beside it so that no request serialises and compresses it.
* ``projector_vectors_lines`` / ``projector_metadata_lines``: the TensorFlow Embedding Projector's
  ``vectors.tsv`` and ``metadata.tsv`` (same rows, same order), produced row by row from a server-side
  cursor so the download starts at once and memory stays flat.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.text import compress_string

from books.models import Book
from books.selectors import merged_sources_by_book
from recommender.models import BookVector, EmbeddingVersion
from recommender.selectors.predictions import predicted_genres_by_book, predictions_reviewed_signature

LEGEND_SIZE = 12
"""Genres (or countries) with a colour of their own on the map; the others share "Other"."""
OTHER = "Other"
UNKNOWN = "Not given"
WIKIPEDIA, GOODBOOKS = Book.Source.WIKIPEDIA, Book.Source.GOODBOOKS
SOURCE_NAMES = (Book.Source.WIKIPEDIA.label, Book.Source.GOODBOOKS.label,
                f"{Book.Source.WIKIPEDIA.label} and {Book.Source.GOODBOOKS.label}", "Own catalogue import",
                "Own catalogue import and others")
"""The map's legend by source: which sources describe a book (``Book.source`` and the sources merged into it). A
source other than the bundled two is a catalogue imported in the generic format (``import_catalogue``)."""
TEASER_POINTS = 700
CACHED_FOR_S = 24 * 3600
PROJECTOR_CHUNK = 2000


def map_data(*, version: EmbeddingVersion) -> dict:
    """The map of ``version``: ids, x, y (in [-1, 1]), titles, authors, and genre/country legend indices.

    ``genre_names``/``country_names`` list the legend entries; ``genre[i]`` is the index of book ``i``'s
    first genre in ``genre_names`` (likewise ``country``); ``genre_with_predictions[i]`` is the same, but for a
    book without a genre from its sources, that of the genre the version predicts for it (a shown prediction),
    where there is one. ``source[i]`` is the index in ``source_names`` of the sources that describe book ``i``
    (``SOURCE_NAMES``: Wikipedia alone, goodbooks alone, both, an own catalogue's import alone, an own catalogue's
    import and another source). Books without a map place are left out.
    """
    return _map_data(version, map_data_signature(version=version))


def map_data_gzipped(*, version: EmbeddingVersion) -> bytes:
    """``map_data(version=version)`` as compact JSON (UTF-8), gzip-compressed; kept until the map changes."""
    signature = map_data_signature(version=version)
    return _cached(f"map-data-gzip:{version.pk}", signature, lambda: compress_string(
        json.dumps(_map_data(version, signature), separators=(",", ":")).encode()))


def _map_data(version: EmbeddingVersion, signature: str) -> dict:
    return _cached(f"map-data:{version.pk}", signature, lambda: _build_map_data(version))


def map_data_signature(*, version: EmbeddingVersion) -> str:
    """Changes whenever the version's map changes: it gains inferred books after training, or books are edited or
    re-imported (new titles, authors, genres)."""
    state = BookVector.objects.filter(version=version).aggregate(count=Count("id"), last=Max("id"))
    changed = Book.objects.aggregate(changed=Max("updated_at"))["changed"]
    return (f"{version.pk}-{state['count']}-{state['last']}-{changed.timestamp() if changed else 0:.6f}"
            f"-{predictions_reviewed_signature()}")


def map_teaser(*, version: EmbeddingVersion) -> list[dict]:
    """A seeded sample of the map (``TEASER_POINTS`` books) for the home page's small picture."""
    def build() -> list[dict]:
        data = map_data(version=version)
        indices = list(range(len(data["ids"])))
        if len(indices) > TEASER_POINTS:
            indices = sorted(random.Random(version.pk).sample(indices, TEASER_POINTS))
        return [{"x": round((data["x"][i] + 1) * 50, 2), "y": round((1 - data["y"][i]) * 50, 2),
                 "genre": data["genre"][i]} for i in indices]

    return _cached(f"map-teaser:{version.pk}", map_data_signature(version=version), build)


def _cached(key: str, signature: str, build):
    """``build()``, kept in the shared cache under ``key`` (one entry a version, overwritten, never piling up)
    until ``signature`` changes."""
    kept = cache.get(key)
    if kept is not None and kept[0] == signature:
        return kept[1]
    value = build()
    cache.set(key, (signature, value), timeout=CACHED_FOR_S)
    return value


def projector_vectors_lines(*, version: EmbeddingVersion) -> Iterator[str]:
    """``vectors.tsv``: one line per book, its vector's components separated by tabs."""
    rows = BookVector.objects.filter(version=version).order_by("book_id").values_list("embedding", flat=True)
    for embedding in rows.iterator(chunk_size=PROJECTOR_CHUNK):
        yield "\t".join(f"{float(component):.6g}" for component in embedding) + "\n"


PROJECTOR_COLUMNS = ("title", "author", "genre", "country", "source", "id")


def projector_metadata_lines(*, version: EmbeddingVersion) -> Iterator[str]:
    """``metadata.tsv``: a header, then one line per book in the order of ``vectors.tsv``."""
    yield "\t".join(PROJECTOR_COLUMNS) + "\n"
    rows = (
        BookVector.objects.filter(version=version).order_by("book_id")
        .values_list("book__title", "book__author", "book__genre", "book__country", "book__source", "book_id")
    )
    for row in rows.iterator(chunk_size=PROJECTOR_CHUNK):
        yield "\t".join(_tsv_cell(value) for value in row) + "\n"


def _build_map_data(version: EmbeddingVersion) -> dict:
    rows = list(
        BookVector.objects.filter(version=version, map_x__isnull=False, map_y__isnull=False)
        .order_by("book_id")
        .values_list("book_id", "map_x", "map_y", "book__title", "book__author", "book__genre", "book__country",
                     "book__source")
    )
    merged = merged_sources_by_book()
    genres = [_first_entry(row[5]) for row in rows]
    countries = [_first_entry(row[6]) for row in rows]
    genre_names, genre_index = _legend(genres)
    predicted = predicted_genres_by_book(version=version)
    other = genre_names.index(OTHER)
    country_names, country_index = _legend(countries)
    return {
        "version": version.pk,
        "ids": [row[0] for row in rows],
        "x": [round(row[1], 5) for row in rows],
        "y": [round(row[2], 5) for row in rows],
        "titles": [row[3] for row in rows],
        "authors": [row[4] for row in rows],
        "genre": [genre_index[value] for value in genres],
        "genre_with_predictions": [
            genre_index[value] if value or row[0] not in predicted else genre_index.get(predicted[row[0]], other)
            for row, value in zip(rows, genres)],
        "country": [country_index[value] for value in countries],
        "source": [_source_entry({row[7], *merged.get(row[0], ())}) for row in rows],
        "genre_names": genre_names,
        "country_names": country_names,
        "source_names": list(SOURCE_NAMES),
    }


def _source_entry(sources: set[str]) -> int:
    """The index in ``SOURCE_NAMES`` of a book that ``sources`` describe."""
    bundled = sources & {WIKIPEDIA, GOODBOOKS}
    if bundled != sources:  # an own catalogue's import, alone or with a bundled source
        return 4 if bundled else 3
    return {frozenset({WIKIPEDIA}): 0, frozenset({GOODBOOKS}): 1}.get(frozenset(bundled), 2)


def _legend(values: list[str]) -> tuple[list[str], dict[str, int]]:
    """The ``LEGEND_SIZE`` most common values, then "Other" and "Not given"; each value's legend index."""
    counts = Counter(value for value in values if value)
    names = [name for name, _ in counts.most_common(LEGEND_SIZE)]
    index = {name: i for i, name in enumerate(names)}
    other, unknown = len(names), len(names) + 1
    return [*names, OTHER, UNKNOWN], {
        value: (index.get(value, other) if value else unknown) for value in set(values)
    }


def _first_entry(value: str) -> str:
    """ "novel, realism" → "Novel": the first entry of a comma-separated field, capitalised for the legend."""
    first = (value or "").split(",")[0].strip()
    return first[:1].upper() + first[1:]


def _tsv_cell(value) -> str:
    return " ".join(str(value if value is not None else "").split())
