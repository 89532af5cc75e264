"""The Gaussian-mixture prior p(c) = Cat(π), p(z|c) = N(μ_c, diag σ²_c) (method eqs. 8–9)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from astrovader.config.rules import BOOLEAN, COVARIANCE, POSITIVE, POSITIVE_INT

__all__ = ["GMMPrior", "PositiveFloor"]


@keras.saving.register_keras_serializable(package="astrovader")
class PositiveFloor(keras.constraints.Constraint):
    """Replace values ≤ 0 by a small positive floor (published: machine epsilon).

    Args:
        floor: The value that replaces non-positive entries.
    """

    def __init__(self, floor: float = float(np.finfo(np.float32).eps)):
        POSITIVE.check("floor", floor)
        self.floor = float(floor)

    def __call__(self, w):
        return ops.where(w > 0, w, ops.cast(self.floor, w.dtype))

    def get_config(self):
        return {"floor": self.floor}


@keras.saving.register_keras_serializable(package="astrovader")
class GMMPrior(keras.layers.Layer):
    """Holds π (K,), μ (J, K) and σ² (J, K) with the published weight names.

    With ``covariance = "full"`` (method §9) each component has a full covariance
    Σ_c instead of σ²_c, held as its precision's Cholesky factor
    ``precision_cholesky`` (K, J, J) (Σ_c⁻¹ = P_c P_cᵀ, upper-triangular P_c, as
    scikit-learn keeps it); the layer then returns it in place of σ². A full
    prior is set by EM (:mod:`~astrovader.training.mixture.mixture_em`), not by gradient.

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
        covariance: ``"diag"`` (the paper) or ``"full"``.
        **kwargs: Standard layer arguments.

    Call arguments:
        inputs: Any tensor (ignored; it places the layer in a graph).

    Returns:
        ``(pi, mu, var)``, shapes (K,), (J, K) and (J, K) (diagonal) or (K, J, J)
        (full: the precision Cholesky factors), with gradients blocked while the
        prior is not initialised.
    """

    def __init__(
        self,
        n_clusters: int,
        latent_dim: int,
        *,
        simplex: bool = False,
        covariance: str = "diag",
        **kwargs,
    ):
        super().__init__(**kwargs)
        BOOLEAN.check("simplex", simplex)
        COVARIANCE.check("covariance", covariance)
        self.simplex, self.covariance = simplex, covariance
        POSITIVE_INT.check("n_clusters", n_clusters)
        POSITIVE_INT.check("latent_dim", latent_dim)
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
        self.precision_cholesky = None
        if covariance == "full":
            eye = np.broadcast_to(np.eye(j, dtype="float32"), (k, j, j))
            self.precision_cholesky = self.add_weight(
                shape=(k, j, j),
                initializer=keras.initializers.Constant(eye),
                name="precision_cholesky",
                dtype="float32",
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
        spread = self.var if self.precision_cholesky is None else self.precision_cholesky
        return pi, gated(self.mu), gated(spread)

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
        self.set_mixture(mixture.weights_, means, var=mixture.covariances_)

    def set_mixture(self, pi, mu, *, var, initialized: bool = True) -> None:
        """Assign π (K,), μ (K, J) and the covariances in scikit-learn's layout.

        ``var`` is σ² (K, J) (a full prior takes them as diagonal covariances) or,
        for a full prior, the covariances Σ (K, J, J).
        """
        var = np.asarray(var, dtype="float64")
        self.pi.assign(np.asarray(pi, dtype="float32"))
        self.mu.assign(np.asarray(mu, dtype="float32").T)
        if self.precision_cholesky is None:
            if var.ndim == 3:
                raise ValueError("a diagonal prior takes variances (K, J), not covariances")
            self.var.assign(var.astype("float32").T)
        else:
            cov = var if var.ndim == 3 else np.stack([np.diag(v) for v in var])
            self.var.assign(np.stack([np.diag(c) for c in cov]).astype("float32").T)
            chol = np.linalg.cholesky(cov)
            eye = np.eye(cov.shape[-1])
            precision = np.stack([np.linalg.solve(c, eye).T for c in chol])
            self.precision_cholesky.assign(precision.astype("float32"))
        self.initialized.assign(1.0 if initialized else 0.0)

    def mixture(self) -> dict[str, np.ndarray]:
        """π (K,), μ (K, J) and σ² (K, J) as NumPy arrays (scikit-learn's layout).

        A full prior adds ``covariance`` (K, J, J) and ``precision_cholesky``
        (K, J, J); its ``var`` is then the covariances' diagonals.
        """
        out = {
            "pi": np.asarray(self.pi.numpy()),
            "mu": np.asarray(self.mu.numpy()).T.copy(),
            "var": np.asarray(self.var.numpy()).T.copy(),
        }
        if self.precision_cholesky is not None:
            precision = np.asarray(self.precision_cholesky.numpy(), dtype="float64")
            cov = np.linalg.inv(precision @ np.transpose(precision, (0, 2, 1)))
            out["covariance"] = cov
            out["precision_cholesky"] = precision
            out["var"] = np.stack([np.diag(c) for c in cov])
        return out

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
            "covariance": self.covariance,
        }
