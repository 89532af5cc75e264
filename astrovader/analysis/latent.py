"""Latent-space walks and object selections for the figures (method §7; framework-free).

These functions return latent vectors or indices; the report decodes them with
the model. Routes, traversals and deblending pairs follow paper §5.3.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "deblending_pairs",
    "interpolate",
    "per_object_mse",
    "random_members",
    "route_latents",
    "top_gamma",
    "top_members",
    "traversal_latents",
]


def per_object_mse(images: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Mean squared error of each image's reconstruction, (N,)."""
    diff = np.asarray(images, dtype=float) - np.asarray(reconstructions, dtype=float)
    return np.mean(diff.reshape(len(diff), -1) ** 2, axis=1)


def top_gamma(gamma: np.ndarray, component: int, n: int) -> np.ndarray:
    """Indices of the ``n`` objects with the highest γ in ``component``, best first."""
    column = np.asarray(gamma)[:, component]
    return np.argsort(-column, kind="stable")[:n]


def top_members(gamma: np.ndarray, labels: np.ndarray, *, component: int, n: int) -> np.ndarray:
    """Up to ``n`` members of ``component`` (argmax γ), highest γ first."""
    members = np.flatnonzero(np.asarray(labels) == component)
    order = np.argsort(-np.asarray(gamma)[members, component], kind="stable")
    return members[order][:n]


def random_members(labels: np.ndarray, component: int, *, n: int, rng) -> np.ndarray:
    """Up to ``n`` random indices of the objects labelled ``component``."""
    members = np.flatnonzero(np.asarray(labels) == component)
    return rng.choice(members, size=min(n, len(members)), replace=False)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points from ``a`` to ``b`` inclusive, evenly spaced on the line."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1.0 - t) * np.asarray(a)[None] + t * np.asarray(b)[None]


def route_latents(points: np.ndarray, order, steps: int) -> np.ndarray:
    """Linear interpolation along a closed route: one row of ``steps`` vectors per leg.

    Args:
        points: (n, J) vectors of the route's stops.
        order: The visiting order (a permutation of range(n)).
        steps: Vectors per leg, both stops included.

    Returns:
        (n, steps, J): leg i runs from ``points[order[i]]`` to ``points[order[i+1]]``
        (the last leg closes the loop).
    """
    points = np.asarray(points)
    order = list(order)
    legs = [
        interpolate(points[a], points[b], steps)
        for a, b in zip(order, order[1:] + order[:1], strict=True)
    ]
    return np.stack(legs)


def traversal_latents(z: np.ndarray, steps: int) -> np.ndarray:
    """Each latent variable from its minimum to its maximum, the others at their mean.

    The values run evenly from the minimum to the mean and on from the mean to
    the maximum, so that with an odd ``steps`` the centre column is the mean
    vector (paper Fig. 11's "mean galaxy").

    Args:
        z: (N, J) embeddings giving the range and the mean.
        steps: Values per variable (at least 2).

    Returns:
        (J, steps, J) vectors; row j varies variable j.
    """
    z = np.asarray(z, dtype=float)
    mean, low, high = z.mean(axis=0), z.min(axis=0), z.max(axis=0)
    half = steps // 2
    out = np.repeat(np.tile(mean, (steps, 1))[None], z.shape[1], axis=0)
    for var in range(z.shape[1]):
        out[var, :, var] = np.concatenate(
            [
                np.linspace(low[var], mean[var], half, endpoint=False),
                np.linspace(mean[var], high[var], steps - half),
            ]
        )
    return out


def deblending_pairs(
    images: np.ndarray, gamma: np.ndarray, *, morph, n_pairs: int
) -> list[dict[str, int | float]]:
    """Pairs (object with companions, lookalike in its morphological component) (Fig. 12).

    The sources are the highest-γ objects of the components that are not
    morphological (of every component when ``morph`` is empty), taken in turn:
    the best of each such component, then the second best of each, and so on
    (an object is used once). A source's
    target component is its most probable morphological component other than
    its own; the target is the member of that component (by argmax γ; the 20
    highest-γ objects if it has none) with the lowest pixel MSE to the source.

    Args:
        images: (N, S, S, B) images.
        gamma: (N, K) cluster probabilities.
        morph: Morphological component indices (may be empty).
        n_pairs: At most this many pairs.

    Returns:
        Dicts with ``source``, ``source_component``, ``target``,
        ``target_component`` and ``mse``.
    """
    gamma = np.asarray(gamma)
    k = gamma.shape[1]
    labels = np.argmax(gamma, axis=1)
    morph = sorted(set(morph))
    sources = [c for c in range(k) if c not in morph] or list(range(k))
    flat = np.asarray(images, dtype=float).reshape(len(gamma), -1)
    ranked = [
        (rank, c, int(i)) for c in sources for rank, i in enumerate(top_gamma(gamma, c, n_pairs))
    ]
    pairs, used = [], set()
    for _, comp, source in sorted(ranked):
        if len(pairs) == n_pairs or source in used:
            continue
        used.add(source)
        candidates = [c for c in (morph or range(k)) if c != comp]
        if not candidates:
            continue
        target_comp = int(candidates[int(np.argmax(gamma[source, candidates]))])
        pool = np.flatnonzero(labels == target_comp)
        if len(pool) == 0:
            pool = top_gamma(gamma, target_comp, 20)
        pool = pool[pool != source]
        if len(pool) == 0:
            continue
        mse = np.mean((flat[pool] - flat[source]) ** 2, axis=1)
        best = int(np.argmin(mse))
        pairs.append(
            {
                "source": source,
                "source_component": comp,
                "target": int(pool[best]),
                "target_component": target_comp,
                "mse": float(mse[best]),
            }
        )
    return pairs
