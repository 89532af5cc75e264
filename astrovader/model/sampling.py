"""The one convention for drawing latent vectors from the mixture prior (docs/method.md §7).

``numpy.random.SeedSequence(seed).spawn(2)`` gives two generators: the first
draws the components (with probability π/Σπ, unless one is fixed), the second
the unit normal noise ε, and z = μ_c + σ_c ε (z = μ_c + L_c ε for full
covariances Σ_c = L_c L_cᵀ). Each stream is consumed in order,
so a seed gives the same vectors whatever the batch size. The Python API
(:meth:`~astrovader.model.api.InferenceMixin.generate`), ``astrovader generate``,
the report and the benchmarks all draw through :func:`latent_batches`.
"""

from __future__ import annotations

import numpy as np

from astrovader.errors import AstrovaderError

__all__ = ["check_component", "latent_batches"]


def check_component(component: int | None, n_clusters: int) -> None:
    """A fixed component must be one of the model's.

    Raises:
        AstrovaderError: ``component`` is not in 0…K−1.
    """
    if component is not None and not 0 <= component < n_clusters:
        raise AstrovaderError(
            f"component {component} is out of range: the model has {n_clusters} "
            f"(0…{n_clusters - 1})"
        )


def latent_batches(
    mixture: dict[str, np.ndarray],
    n: int,
    *,
    component: int | None = None,
    seed: int | None = None,
    batch_size: int = 256,
):
    """Yield ``(z, components)`` batches, float32 (b, J) and int (b,), n rows in all.

    Args:
        mixture: ``pi`` (K,), ``mu`` (K, J), ``var`` (K, J) (scikit-learn's layout), and
            for a full prior ``covariance`` (K, J, J).
        n: Number of vectors.
        component: Draw every vector from this component; None draws c from π/Σπ.
        seed: Seed of the two streams; None draws fresh entropy.
        batch_size: Rows per batch (does not change the vectors).
    """
    k = len(mixture["pi"])
    check_component(component, k)
    choose, noise = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    weights = mixture["pi"] / mixture["pi"].sum()
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        comps = (
            np.full(size, component) if component is not None else choose.choice(k, size, p=weights)
        )
        eps = noise.standard_normal((size, mixture["mu"].shape[1]))
        if "covariance" in mixture:  # a full prior: z = μ_c + L_c ε with Σ_c = L_c L_cᵀ
            lower = np.linalg.cholesky(mixture["covariance"])[comps]
            z = mixture["mu"][comps] + np.einsum("bjl,bl->bj", lower, eps)
        else:
            z = mixture["mu"][comps] + np.sqrt(mixture["var"][comps]) * eps
        yield z.astype(np.float32), comps
