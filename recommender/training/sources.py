"""One space whatever source described a book: the directions that only say which source it was, taken out.

Each source describes its books in a vocabulary of its own (Wikipedia's wikilinks; goodbooks' reader tags and
readers' shelves), and only a few links are shared (people, genres, the books both describe), so training places
each source's books around a mean of their own (on the bundled sample the two means' cosine is −0.6), and the map
showed one island per source. That offset says which source described a book and nothing about
the book, so it is projected out of every book and link vector, which are then L2-normalised again: the direction
between the sources' mean book vectors (with more sources, the span of their differences). It is the mean-centring
that cross-lingual word embeddings get before two languages' spaces are aligned, and the removal of one direction
that a bias is (Bolukbasi et al., 2016). Books and links go through the same projection, so a book's cosine with
its links, a vector inferred later from its links' vectors and the map all stay in one space.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

MIN_SOURCE_BOOKS = 100
"""A source's mean counts once this many books came from it: a few books' mean is mostly their own topic."""


def source_axes(book_vectors: np.ndarray, sources: Sequence[str]) -> np.ndarray:
    """Orthonormal rows (float32[k, dim]) spanning the differences between the mean vectors of the books each source
    gave (``sources[i]``: book ``i``'s source); none (k = 0) when fewer than two sources gave ``MIN_SOURCE_BOOKS``."""
    labels = np.asarray(sources)
    counted = sorted(name for name, count in Counter(sources).items() if count >= MIN_SOURCE_BOOKS)
    dim = book_vectors.shape[1]
    if len(counted) < 2:
        return np.zeros((0, dim), np.float32)
    means = np.stack([book_vectors[labels == name].mean(axis=0) for name in counted]).astype(np.float64)
    basis, triangle = np.linalg.qr((means[1:] - means[0]).T)
    independent = np.abs(np.diag(triangle)) > 1e-9
    return basis.T[independent].astype(np.float32)


def without_axes(vectors: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """``vectors`` (rows) less their components along ``axes`` (orthonormal rows), L2-normalised again; a row that
    lay along the axes alone keeps its direction."""
    if not len(axes):
        return vectors
    projected = vectors - (vectors @ axes.T) @ axes
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    kept = norms[:, 0] > 1e-6
    result = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    result[kept] = projected[kept] / norms[kept]
    return result.astype(np.float32)
