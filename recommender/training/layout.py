"""The 2-D map of a version's books: UMAP on cosine distance, PCA for tiny catalogues."""
from __future__ import annotations

import numpy as np

MIN_BOOKS_FOR_UMAP = 15
"""UMAP needs a neighbourhood of books; below this many the map is the first two principal components."""


def book_layout(vectors: np.ndarray, *, seed: int) -> tuple[np.ndarray, str]:
    """2-D coordinates (float32[n, 2], scaled to [-1, 1]) of L2-normalised vectors, and the method used.

    Seeded, so the same vectors give the same map.
    """
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2), np.float32), "none"
    if n < MIN_BOOKS_FOR_UMAP:
        coords, method = _pca(vectors), "pca"
    else:
        import umap  # imported here: numba compiles on import, only the worker needs it

        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), min_dist=0.1, metric="cosine",
                            random_state=seed, n_jobs=1, init="spectral" if n > 100 else "random")
        coords, method = reducer.fit_transform(vectors), "umap"
    return _scaled(np.asarray(coords, dtype=np.float64)), method


def _pca(vectors: np.ndarray) -> np.ndarray:
    centred = vectors.astype(np.float64) - vectors.mean(axis=0)
    if len(vectors) < 2:
        return np.zeros((len(vectors), 2))
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ components[:2].T
    return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))


def _scaled(coords: np.ndarray) -> np.ndarray:
    centred = coords - coords.mean(axis=0)
    extent = np.abs(centred).max()
    return (centred / extent if extent > 0 else centred).astype(np.float32)
