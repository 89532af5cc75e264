"""``clusters.csv``: per-object cluster, γ and latent vector (framework-free)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from astrovader._io import write_text_atomic


def write_clusters(path: str | Path, ids, gamma: np.ndarray, z: np.ndarray) -> None:
    """Write ``id, cluster, p_0…p_{K−1}, z_0…z_{J−1}`` rows atomically.

    Args:
        path: Output CSV.
        ids: N object identifiers.
        gamma: (N, K) cluster probabilities; ``cluster`` is the row argmax.
        z: (N, J) deterministic embeddings μ̃.
    """
    gamma, z = np.asarray(gamma), np.asarray(z)
    header = ["id", "cluster"]
    header += [f"p_{k}" for k in range(gamma.shape[1])]
    header += [f"z_{j}" for j in range(z.shape[1])]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for name, probs, latent in zip(ids, gamma, z, strict=True):
        writer.writerow(
            [name, int(np.argmax(probs))]
            + [f"{p:.6g}" for p in probs]
            + [f"{v:.6g}" for v in latent]
        )
    write_text_atomic(path, out.getvalue())


def read_clusters(path: str | Path) -> dict[str, np.ndarray]:
    """Read a clusters file into ``id``, ``cluster``, ``gamma`` (N, K) and ``z`` (N, J)."""
    with Path(path).open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    p_cols = [i for i, name in enumerate(header) if name.startswith("p_")]
    z_cols = [i for i, name in enumerate(header) if name.startswith("z_")]
    return {
        "id": np.array([r[0] for r in body]),
        "cluster": np.array([int(r[1]) for r in body]),
        "gamma": np.array([[float(r[i]) for i in p_cols] for r in body]).reshape(len(body), -1),
        "z": np.array([[float(r[i]) for i in z_cols] for r in body]).reshape(len(body), -1),
    }
