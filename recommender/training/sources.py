"""One space whatever source described a book: each source's books centred on their own mean.

Each source describes its books in a vocabulary of its own (Wikipedia's wikilinks; goodbooks' reader tags and
readers' shelves), and only a few links are shared (people, genres, the books both describe), so training places
each source's books around a mean of their own (on the bundled sample the two means' cosine is −0.6), and the map
showed one island per source. That offset says which source described a book and nothing about the book, so each
book's vector has its source's mean taken off, and each link's vector the mean of the sources of the books that have
it, and all are L2-normalised again. It is the mean-centring that cross-lingual word embeddings get before two
languages' spaces are aligned. Books of one source keep their distances to each other (a translation), so what
the vectors say within a source is kept; a link moves with the books that have it, so a book stays close to its
links and a vector inferred later from its links' vectors lands among its source's books.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

MIN_SOURCE_BOOKS = 100
"""A source's mean counts once this many books came from it: a few books' mean is mostly their own topic."""


def source_offsets(book_vectors: np.ndarray, sources: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Each book's source's mean vector (float32[n_books, dim]; ``sources[i]``: book ``i``'s source) and the sources
    centred: none, and every offset zero, when fewer than two sources gave ``MIN_SOURCE_BOOKS`` books; the books of a
    source that gave fewer keep a zero offset."""
    labels = np.asarray(sources)
    offsets = np.zeros_like(book_vectors, dtype=np.float32)
    counted = sorted(name for name, count in Counter(sources).items() if count >= MIN_SOURCE_BOOKS)
    if len(counted) < 2:
        return offsets, []
    for name in counted:
        mine = labels == name
        offsets[mine] = book_vectors[mine].mean(axis=0)
    return offsets, counted


def link_offsets(book_offsets: np.ndarray, book_index: np.ndarray, link_index: np.ndarray, n_links: int) -> np.ndarray:
    """Each link's mean of the offsets of the books that have it (the pairs ``book_index[i]``–``link_index[i]``);
    zero for a link without a pair."""
    sums = np.zeros((n_links, book_offsets.shape[1]), np.float64)
    np.add.at(sums, link_index, book_offsets[book_index])
    counts = np.bincount(link_index, minlength=n_links)[:, None]
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def centred(vectors: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``vectors`` less ``offsets``, row by row, L2-normalised again; a row that the offset would empty keeps its
    direction. The same array when every offset is zero."""
    if not offsets.any():
        return vectors
    moved = vectors - offsets
    norms = np.linalg.norm(moved, axis=1, keepdims=True)
    kept = norms[:, 0] > 1e-6
    result = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    result[kept] = moved[kept] / norms[kept]
    return result.astype(np.float32)
