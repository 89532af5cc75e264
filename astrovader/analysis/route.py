"""The shortest closed route through points: the travelling-salesperson tour (paper Fig. 10).

Exact by Held–Karp dynamic programming up to :data:`EXACT_LIMIT` points
(O(2ⁿ n²) time, vectorised over the last stop); above that, nearest-neighbour
tours from every start improved by 2-opt, the shortest kept. Framework-free.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

__all__ = [
    "EXACT_LIMIT",
    "held_karp",
    "heuristic_tour",
    "nearest_neighbour",
    "shortest_tour",
    "tour_length",
    "two_opt",
]

EXACT_LIMIT = 15


def tour_length(order, distances: np.ndarray) -> float:
    """Length of the closed tour visiting ``order`` and returning to its start."""
    order = np.asarray(order)
    return float(distances[order, np.roll(order, -1)].sum())


def held_karp(distances: np.ndarray) -> list[int]:
    """The exact shortest closed tour for a (n, n) distance matrix, starting at 0.

    Args:
        distances: Symmetric or asymmetric non-negative distances.

    Returns:
        The visiting order, a permutation of range(n) with ``order[0] == 0``.
    """
    d = np.asarray(distances, dtype=float)
    n = len(d)
    if n <= 2:
        return list(range(n))
    m = n - 1
    cost = np.full((1 << m, m), np.inf)
    parent = np.zeros((1 << m, m), dtype=int)
    bits = 1 << np.arange(m)
    cost[bits, np.arange(m)] = d[0, 1:]
    inner = d[1:, 1:]
    for mask in range(1, 1 << m):
        ends = np.flatnonzero(mask & bits)
        if len(ends) < 2:
            continue
        previous = cost[mask ^ bits[ends]] + inner[:, ends].T
        best = np.argmin(previous, axis=1)
        cost[mask, ends] = previous[np.arange(len(ends)), best]
        parent[mask, ends] = best
    full = (1 << m) - 1
    last = int(np.argmin(cost[full] + d[1:, 0]))
    order, mask = [], full
    for _ in range(m):
        order.append(last + 1)
        last, mask = int(parent[mask, last]), mask ^ (1 << last)
    return [0, *order[::-1]]


def two_opt(order, distances: np.ndarray) -> list[int]:
    """Improve a closed tour by reversing segments while any reversal shortens it."""
    d = np.asarray(distances, dtype=float)
    tour = list(order)
    n = len(tour)
    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            for j in range(i + 2, n if i > 0 else n - 1):
                a, b, c, e = tour[i], tour[i + 1], tour[j], tour[(j + 1) % n]
                if d[a, c] + d[b, e] < d[a, b] + d[c, e] - 1e-12:
                    tour[i + 1 : j + 1] = tour[i + 1 : j + 1][::-1]
                    improved = True
    return tour


def nearest_neighbour(distances: np.ndarray, start: int = 0) -> list[int]:
    """The greedy tour that always moves to the closest unvisited point."""
    d = np.asarray(distances, dtype=float)
    tour, left = [start], set(range(len(d))) - {start}
    while left:
        here = tour[-1]
        tour.append(min(left, key=lambda j: d[here, j]))
        left.remove(tour[-1])
    return tour


def heuristic_tour(distances: np.ndarray) -> list[int]:
    """Nearest neighbour from every start plus 2-opt; the shortest, rotated to start at 0."""
    d = np.asarray(distances, dtype=float)
    tours = [two_opt(nearest_neighbour(d, start), d) for start in range(len(d))]
    best = min(tours, key=lambda t: tour_length(t, d))
    zero = best.index(0)
    return best[zero:] + best[:zero]


def shortest_tour(points: np.ndarray) -> tuple[list[int], float]:
    """The shortest closed route through points in Euclidean space.

    Args:
        points: (n, J) coordinates (e.g. latent vectors).

    Returns:
        The visiting order starting at point 0 (exact for n ≤ 15, heuristic
        above) and its closed length.
    """
    points = np.asarray(points, dtype=float)
    d = cdist(points, points)
    order = held_karp(d) if len(points) <= EXACT_LIMIT else heuristic_tour(d)
    return order, tour_length(order, d)
