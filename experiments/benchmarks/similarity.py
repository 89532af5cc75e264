"""Nearest neighbours in the latent space: exact search against faiss-cpu, hnswlib and usearch.

For each set of N latents (J dimensions) and each library this measures, on Q held-out
queries (indexed points plus a little noise):

* ``recall@10``: the share of the exact ten nearest neighbours (scikit-learn's brute force)
  that the index returns among its ten;
* ``latency``: one query at a time, as ``astrovader similar`` asks, median and 95th
  percentile in milliseconds;
* ``build``: seconds to build the index (all cores);
* ``size``: bytes of the saved index (the graph; the latents themselves are 4·N·J bytes).

Sets: ``random``, standard normal latents (the hardest case: no structure), and
``realistic``, a 12-component Gaussian mixture with the spread of a trained model's prior.
Every HNSW library gets the same graph settings (M = 16, construction 100, search 64), the
ones :mod:`astrovader.data.latent_index` ships; ``astrovader`` rows time that module
(exact or HNSW, the candidates re-ranked by exact distance), which is what the commands use.

Usage::

    nice -n 5 python experiments/benchmarks/similarity.py                  # 10⁵ and 10⁶
    python experiments/benchmarks/similarity.py --sizes 10000 --queries 100  # seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.neighbors import NearestNeighbors

from astrovader._io import write_text_atomic
from astrovader.data.latent_index import (
    HNSW_CONSTRUCTION,
    HNSW_M,
    HNSW_SEARCH,
    LatentIndex,
    hnsw_available,
)

K = 10
THREADS = os.cpu_count() or 1


def latents(kind: str, n: int, dim: int, seed: int) -> np.ndarray:
    """``random`` (standard normal) or ``realistic`` (a 12-component mixture) latents."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.standard_normal((n, dim), dtype=np.float32)
    centres = rng.normal(0.0, 1.0, (12, dim))
    spread = rng.uniform(0.15, 0.5, (12, dim))
    label = rng.choice(12, size=n, p=rng.dirichlet(np.full(12, 3.0)))
    return (centres[label] + spread[label] * rng.standard_normal((n, dim))).astype(np.float32)


class Faiss:
    name = "faiss-cpu"

    def __init__(self, z):
        import faiss

        faiss.omp_set_num_threads(THREADS)
        self.index = faiss.IndexHNSWFlat(z.shape[1], HNSW_M)
        self.index.hnsw.efConstruction = HNSW_CONSTRUCTION
        self.index.add(z)
        self.index.hnsw.efSearch = HNSW_SEARCH
        faiss.omp_set_num_threads(1)

    def query(self, q):
        return self.index.search(q, K)[1]

    def save(self, path):
        import faiss

        faiss.write_index(self.index, str(path))


class Hnswlib:
    name = "hnswlib"

    def __init__(self, z):
        import hnswlib

        self.index = hnswlib.Index(space="l2", dim=z.shape[1])
        self.index.init_index(len(z), M=HNSW_M, ef_construction=HNSW_CONSTRUCTION)
        self.index.add_items(z, num_threads=THREADS)
        self.index.set_ef(HNSW_SEARCH)

    def query(self, q):
        return self.index.knn_query(q, K, num_threads=1)[0]

    def save(self, path):
        self.index.save_index(str(path))


class Usearch:
    name = "usearch"

    def __init__(self, z):
        from usearch.index import Index

        self.index = Index(
            ndim=z.shape[1],
            metric="l2sq",
            dtype="f32",
            connectivity=HNSW_M,
            expansion_add=HNSW_CONSTRUCTION,
            expansion_search=HNSW_SEARCH,
        )
        self.index.add(np.arange(len(z)), z, threads=THREADS)

    def query(self, q):
        return np.atleast_2d(self.index.search(q, K, threads=1).keys)

    def save(self, path):
        self.index.save(str(path))


class Astrovader:
    """The shipped index (:class:`LatentIndex`), exact or HNSW as its ``auto`` rule picks."""

    def __init__(self, z, backend="auto"):
        self.index = LatentIndex(z, backend)
        self.name = f"astrovader ({self.index.backend})"

    def query(self, q):
        return self.index.kneighbors(q, K)[1]

    def save(self, path):
        self.index.save(path)


LIBRARIES = {"faiss": Faiss, "hnswlib": Hnswlib, "usearch": Usearch, "astrovader": Astrovader}


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.name != "latents.npy")
    return path.stat().st_size


def measure(library, z, queries, truth) -> dict:
    start = time.perf_counter()
    index = library(z)
    build = time.perf_counter() - start
    found = np.stack([index.query(q[None])[0] for q in queries[:10]])  # warm up
    times = []
    found = []
    for q in queries:
        start = time.perf_counter()
        found.append(index.query(q[None])[0])
        times.append(time.perf_counter() - start)
    found = np.stack(found).astype(np.int64)
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, truth, strict=True)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        index.save(path)
        size = size_of(path)
    ms = sorted(1e3 * t for t in times)
    return {
        "library": index.name,
        "recall": recall,
        "median_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "build_s": build,
        "size_mb": size / 1e6,
    }


def run(sizes, kinds, libraries, dim, n_queries, seed) -> list[dict]:
    rows = []
    for n in sizes:
        for kind in kinds:
            z = latents(kind, n, dim, seed)
            rng = np.random.default_rng(seed + 1)
            queries = z[rng.choice(n, n_queries, replace=False)]
            queries = queries + rng.normal(0, 0.05, queries.shape).astype(np.float32)
            start = time.perf_counter()
            truth = (
                NearestNeighbors(algorithm="brute", n_jobs=-1)
                .fit(z)
                .kneighbors(queries, K, return_distance=False)
            )
            print(f"{kind} N={n}: exact truth in {time.perf_counter() - start:.1f} s", flush=True)
            for name in libraries:
                if name == "hnswlib" and not hnsw_available():
                    continue
                row = {"set": kind, "n": n, **measure(LIBRARIES[name], z, queries, truth)}
                print(row, flush=True)
                rows.append(row)
    return rows


def markdown(rows, dim, n_queries) -> str:
    lines = [
        f"J = {dim} latent dimensions, {n_queries} single queries per set, recall@{K} against "
        f"exact search, {THREADS} cores for the builds, one thread per query.",
        "",
        "| set | N | library | recall@10 | median ms | p95 ms | build s | index MB |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['n']:,} | {r['library']} | {r['recall']:.4f} | "
            f"{r['median_ms']:.3f} | {r['p95_ms']:.3f} | {r['build_s']:.1f} | {r['size_mb']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--kinds", default="realistic,random")
    parser.add_argument("--libraries", default="astrovader,hnswlib,faiss,usearch")
    parser.add_argument("--dim", type=int, default=20, help="J (the paper's 20)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="a Markdown table of the results")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    rows = run(
        sizes,
        args.kinds.split(","),
        args.libraries.split(","),
        args.dim,
        args.queries,
        args.seed,
    )
    text = markdown(rows, args.dim, args.queries)
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
