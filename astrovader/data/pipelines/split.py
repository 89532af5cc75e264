"""The seeded training/validation split of a run (framework-free)."""

from __future__ import annotations

import numpy as np

__all__ = ["split_indices"]


def split_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split into training and validation indices (both sorted).

    The validation part holds round(n · fraction) samples and never feeds gradients.
    """
    order = np.random.default_rng(seed).permutation(n)
    n_val = round(n * fraction)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
