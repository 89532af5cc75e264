"""The Gaussian-mixture prior p(c) = Cat(π), p(z|c) = N(μ_c, diag σ²_c) (method eqs. 8–9)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="astrovader")
class PositiveFloor(keras.constraints.Constraint):
    """Replace values ≤ 0 by a small positive floor (published: machine epsilon).

    Args:
        floor: The value that replaces non-positive entries.
    """

    def __init__(self, floor: float = float(np.finfo(np.float32).eps)):
        if not floor > 0:
            raise ValueError(f"floor must be positive, got {floor!r}")
        self.floor = float(floor)

    def __call__(self, w):
        return ops.where(w > 0, w, ops.cast(self.floor, w.dtype))

    def get_config(self):
        return {"floor": self.floor}


@keras.saving.register_keras_serializable(package="astrovader")
class GMMPrior(keras.layers.Layer):
    """Holds π (K,), μ (J, K) and σ² (J, K) with the published weight names.

    The weights are ``theta_p`` (π), ``u_p`` (μ) and ``lambda_p`` (σ²), as in the
    published network. π and σ² are kept strictly positive by
    :class:`PositiveFloor`; π need not sum to one, unless ``simplex`` is set, when
    the layer returns π / Σπ (method §9; the paper leaves π free). The prior is frozen (its
    gradients are zero) until :meth:`set_from_sklearn` initialises it; the
    ``initialized`` flag is a weight, so it survives saving and checkpoints.

    Args:
        n_clusters: K.
        latent_dim: J.
        simplex: Return π normalised to sum to one.
        **kwargs: Standard layer arguments.

    Call arguments:
        inputs: Any tensor (ignored; it places the layer in a graph).

    Returns:
        ``(pi, mu, var)``, shapes (K,), (J, K), (J, K), with gradients blocked
        while the prior is not initialised.
    """

    def __init__(self, n_clusters: int, latent_dim: int, simplex: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(simplex, bool):
            raise ValueError(f"simplex must be True or False, got {simplex!r}")
        self.simplex = simplex
        for name, value in (("n_clusters", n_clusters), ("latent_dim", latent_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
        positive = PositiveFloor()
        k, j = n_clusters, latent_dim
        self.pi = self.add_weight(
            shape=(k,),
            initializer=keras.initializers.Constant(1.0 / k),
            constraint=positive,
            name="theta_p",
            dtype="float32",
        )
        self.mu = self.add_weight(shape=(j, k), initializer="zeros", name="u_p", dtype="float32")
        self.var = self.add_weight(
            shape=(j, k),
            initializer="ones",
            constraint=positive,
            name="lambda_p",
            dtype="float32",
        )
        self.initialized = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="initialized", dtype="float32"
        )
        self.built = True

    def call(self, inputs=None):
        gate = self.initialized

        def gated(weight):
            value = ops.convert_to_tensor(weight)
            return gate * value + (1.0 - gate) * ops.stop_gradient(value)

        pi = gated(self.pi)
        if self.simplex:
            pi = pi / ops.sum(pi)
        return pi, gated(self.mu), gated(self.var)

    def set_from_sklearn(self, mixture) -> None:
        """Write a fitted diagonal scikit-learn mixture into the prior and unfreeze it.

        π ← ``weights_``, μ ← ``means_ᵀ``, σ² ← ``covariances_ᵀ`` (method §5.2).

        Args:
            mixture: A fitted ``GaussianMixture`` or ``BayesianGaussianMixture``
                with ``covariance_type="diag"`` and K components in J dimensions.
        """
        if getattr(mixture, "covariance_type", None) != "diag":
            raise ValueError("the mixture must have covariance_type='diag'")
        means = np.asarray(mixture.means_, dtype="float32")
        if means.shape != (self.n_clusters, self.latent_dim):
            raise ValueError(
                f"the mixture has means of shape {means.shape}, expected "
                f"{(self.n_clusters, self.latent_dim)}"
            )
        self.set_mixture(mixture.weights_, means, mixture.covariances_)

    def set_mixture(self, pi, mu, var, initialized: bool = True) -> None:
        """Assign π (K,), μ (K, J), σ² (K, J) in scikit-learn's layout."""
        self.pi.assign(np.asarray(pi, dtype="float32"))
        self.mu.assign(np.asarray(mu, dtype="float32").T)
        self.var.assign(np.asarray(var, dtype="float32").T)
        self.initialized.assign(1.0 if initialized else 0.0)

    def mixture(self) -> dict[str, np.ndarray]:
        """π (K,), μ (K, J) and σ² (K, J) as NumPy arrays (scikit-learn's layout)."""
        return {
            "pi": np.asarray(self.pi.numpy()),
            "mu": np.asarray(self.mu.numpy()).T.copy(),
            "var": np.asarray(self.var.numpy()).T.copy(),
        }

    @property
    def is_initialized(self) -> bool:
        """Whether the mixture has been initialised (and so is trainable)."""
        return bool(self.initialized.numpy() > 0.5)

    def get_config(self):
        return {
            **super().get_config(),
            "n_clusters": self.n_clusters,
            "latent_dim": self.latent_dim,
            "simplex": self.simplex,
        }
