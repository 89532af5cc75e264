"""Nearest neighbours in the latent space: exact up to 10⁵ objects, approximate above.

:class:`LatentIndex` answers "which objects lie closest to this point" in the space
the model clusters in (μ̃, Euclidean distance). Up to :data:`EXACT_LIMIT` objects it
is scikit-learn's exact :class:`~sklearn.neighbors.NearestNeighbors`; above, an HNSW
graph of ``hnswlib`` (``pip install 'astrovader[ann]'``), the library chosen by
measurement against faiss-cpu and usearch (``experiments/benchmarks/similarity.py``,
results in ``experiments/benchmarks/results/similarity.md``). Without ``hnswlib`` a
large index stays exact and says so once in the log.

Approximate candidates (:data:`OVERSAMPLE` times the neighbours asked for) are
re-ranked by their exact distances, so every distance returned is exact and the
order is exact among the candidates. Framework-free.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from sklearn.neighbors import NearestNeighbors

from astrovader._io import atomic_path
from astrovader.errors import AstrovaderError, warn

__all__ = [
    "EXACT_LIMIT",
    "HNSW_CONSTRUCTION",
    "HNSW_M",
    "HNSW_SEARCH",
    "LatentIndex",
    "choose_backend",
    "hnsw_available",
]

log = logging.getLogger(__name__)

EXACT_LIMIT = 100_000
BACKENDS = ("auto", "exact", "hnsw")
OVERSAMPLE = 2
# HNSW settings chosen with the benchmark (recall@10 ≥ 0.99 at 10⁶ latents).
HNSW_M = 16
HNSW_CONSTRUCTION = 100
HNSW_SEARCH = 64
LATENTS, GRAPH, MANIFEST = "latents.npy", "hnsw.bin", "index.json"


def hnsw_available() -> bool:
    """Whether ``hnswlib`` (the ``[ann]`` extra) can be imported."""
    try:
        import hnswlib  # noqa: F401
    except ImportError:
        return False
    return True


def choose_backend(count: int, backend: str = "auto") -> str:
    """``"exact"`` or ``"hnsw"`` for an index of ``count`` latents.

    ``"auto"`` is exact up to :data:`EXACT_LIMIT` objects, HNSW above when
    ``hnswlib`` is installed, else exact (logged once, with how to install it).

    Raises:
        AstrovaderError: an unknown backend, or ``"hnsw"`` without ``hnswlib``.
    """
    if backend not in BACKENDS:
        raise AstrovaderError(f"index backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "hnsw" and not hnsw_available():
        raise AstrovaderError("the approximate index needs hnswlib: pip install 'astrovader[ann]'")
    if backend != "auto":
        return backend
    if count <= EXACT_LIMIT:
        return "exact"
    if hnsw_available():
        return "hnsw"
    warn(
        f"{count} objects: searching exactly (slower); pip install 'astrovader[ann]' for the "
        "approximate index"
    )
    return "exact"


class LatentIndex:
    """Exact or approximate k-nearest-neighbour search over latent vectors (N, J).

    Args:
        z: The latent vectors, one row per object.
        backend: ``"auto"``, ``"exact"`` or ``"hnsw"`` (see :func:`choose_backend`).
        seed: Seed of the HNSW graph's random levels.
        threads: Threads building the HNSW graph (-1: every core).
    """

    def __init__(self, z, backend: str = "auto", *, seed: int = 0, threads: int = -1):
        self.z = np.ascontiguousarray(z, dtype=np.float32)
        if self.z.ndim != 2 or len(self.z) == 0:
            raise AstrovaderError(f"an index needs latents (N, J) with N ≥ 1, got {self.z.shape}")
        self.backend = choose_backend(len(self.z), backend)
        self._graph = None
        self._exact = None
        if self.backend == "hnsw":
            self._graph = self._build_graph(seed, threads)
        else:
            self._exact = NearestNeighbors(algorithm="kd_tree").fit(self.z)

    def __len__(self) -> int:
        return len(self.z)

    @property
    def dim(self) -> int:
        """J, the dimension of the latent space."""
        return self.z.shape[1]

    def _build_graph(self, seed: int, threads: int):
        import hnswlib

        graph = hnswlib.Index(space="l2", dim=self.dim)
        graph.init_index(
            max_elements=len(self.z), M=HNSW_M, ef_construction=HNSW_CONSTRUCTION, random_seed=seed
        )
        graph.add_items(self.z, np.arange(len(self.z)), num_threads=threads)
        graph.set_ef(HNSW_SEARCH)
        return graph

    def kneighbors(self, queries, n_neighbors: int = 20, *, exclude=None):
        """The ``n_neighbors`` nearest indexed objects of each query, nearest first.

        Args:
            queries: (Q, J) latent vectors.
            n_neighbors: How many neighbours (at most the size of the index).
            exclude: (Q,) index of an object to leave out of each query's answer
                (the query itself, for scikit-learn's ``kneighbors(X=None)``), or None.

        Returns:
            ``(distances, indices)``: (Q, n) Euclidean distances and object indices.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise AstrovaderError(
                f"queries have {queries.shape[1]} latent dimensions, the index {self.dim}"
            )
        extra = 0 if exclude is None else 1
        n = min(int(n_neighbors), len(self) - extra)
        if n < 1:
            raise AstrovaderError(f"n_neighbors must be ≥ 1, got {n_neighbors}")
        want = min(n + extra, len(self))
        if self.backend == "hnsw":
            self._graph.set_ef(max(HNSW_SEARCH, OVERSAMPLE * want))
            found, _ = self._graph.knn_query(queries, k=min(OVERSAMPLE * want, len(self)))
            found = found.astype(np.int64)
        else:
            found = self._exact.kneighbors(queries, want, return_distance=False)
        if exclude is not None:
            found = np.where(found == np.asarray(exclude)[:, None], -1, found)
        distances = np.linalg.norm(self.z[np.maximum(found, 0)] - queries[:, None], axis=2)
        distances[found < 0] = np.inf
        order = np.argsort(distances, axis=1, kind="stable")[:, :n]
        return (
            np.take_along_axis(distances, order, axis=1),
            np.take_along_axis(found, order, axis=1),
        )

    def save(self, directory) -> Path:
        """Write ``latents.npy``, the HNSW graph (if any) and ``index.json`` atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / LATENTS) as tmp:
            np.save(tmp, self.z)
        if self._graph is not None:
            with atomic_path(directory / GRAPH) as tmp:
                self._graph.save_index(str(tmp))
        manifest = {"backend": self.backend, "count": len(self), "dim": self.dim}
        with atomic_path(directory / MANIFEST) as tmp:
            tmp.write_text(json.dumps(manifest, indent=1) + "\n")
        return directory

    @classmethod
    def load(cls, directory) -> LatentIndex:
        """An index written by :meth:`save`.

        Raises:
            AstrovaderError: a missing or damaged file, naming it.
        """
        directory = Path(directory)
        try:
            manifest = json.loads((directory / MANIFEST).read_text())
            z = np.load(directory / LATENTS)
        except (OSError, ValueError) as exc:
            raise AstrovaderError(f"{directory}: cannot read the index ({exc})") from None
        index = cls.__new__(cls)
        index.z, index.backend = z, manifest.get("backend", "exact")
        index._graph = index._exact = None
        if z.ndim != 2 or len(z) != manifest.get("count"):
            raise AstrovaderError(f"{directory / LATENTS}: does not match {MANIFEST}")
        if index.backend == "hnsw" and hnsw_available():
            import hnswlib

            graph = hnswlib.Index(space="l2", dim=z.shape[1])
            try:
                graph.load_index(str(directory / GRAPH), max_elements=len(z))
            except RuntimeError as exc:
                raise AstrovaderError(f"{directory / GRAPH}: cannot read ({exc})") from None
            graph.set_ef(HNSW_SEARCH)
            index._graph = graph
        else:
            index.backend = "exact"
            index._exact = NearestNeighbors(algorithm="kd_tree").fit(z)
        return index
