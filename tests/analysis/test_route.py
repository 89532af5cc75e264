"""The travelling-salesperson route: Held–Karp against brute force, the heuristic on known tours."""

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from astrovader.analysis import route


def _brute_force(d):
    n = len(d)
    return min(route.tour_length((0, *p), d) for p in itertools.permutations(range(1, n)))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_held_karp_equals_brute_force(n, seed):
    points = np.random.default_rng(seed).normal(size=(n, 3))
    d = cdist(points, points)
    order = route.held_karp(d)
    assert sorted(order) == list(range(n)) and order[0] == 0
    assert route.tour_length(order, d) == pytest.approx(_brute_force(d) if n > 1 else 0.0)


def test_held_karp_on_asymmetric_distances():
    d = np.random.default_rng(9).uniform(1, 10, size=(6, 6))
    np.fill_diagonal(d, 0)
    assert route.tour_length(route.held_karp(d), d) == pytest.approx(_brute_force(d))


def test_held_karp_at_the_exact_limit_beats_the_heuristic():
    points = np.random.default_rng(4).uniform(size=(route.EXACT_LIMIT, 2))
    d = cdist(points, points)
    exact = route.tour_length(route.held_karp(d), d)
    assert exact <= route.tour_length(route.heuristic_tour(d), d) + 1e-9


def test_heuristic_finds_the_polygon_and_stays_close_to_optimal():
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    circle = np.c_[np.cos(angles), np.sin(angles)]
    shuffled = np.random.default_rng(0).permutation(24)
    order, length = route.shortest_tour(circle[shuffled])
    assert sorted(order) == list(range(24)) and order[0] == 0
    assert length == pytest.approx(24 * 2 * np.sin(np.pi / 24))
    points = np.random.default_rng(7).uniform(size=(10, 2))
    d = cdist(points, points)
    heuristic = route.tour_length(route.heuristic_tour(d), d)
    assert heuristic <= 1.1 * route.tour_length(route.held_karp(d), d)
    assert heuristic <= route.tour_length(route.nearest_neighbour(d), d) + 1e-9


def test_two_opt_removes_a_crossing():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    d = cdist(square, square)
    crossed = [0, 2, 1, 3]
    assert route.tour_length(crossed, d) > 4.5
    assert route.tour_length(route.two_opt(crossed, d), d) == pytest.approx(4.0)


def test_shortest_tour_length_is_the_closed_route_length():
    points = np.random.default_rng(3).normal(size=(6, 4))
    order, length = route.shortest_tour(points)
    legs = [
        np.linalg.norm(points[a] - points[b])
        for a, b in zip(order, order[1:] + order[:1], strict=True)
    ]
    assert length == pytest.approx(sum(legs))
