"""The cluster probability γ_c = p(c|z) (method eqs. 12–13 and 17)."""

from __future__ import annotations

import keras
from keras import ops

from astrovader.config.rules import parse_minmax_lambda
from astrovader.model import gmm_math

__all__ = ["ClusterProbability"]


@keras.saving.register_keras_serializable(package="astrovader")
class ClusterProbability(keras.layers.Layer):
    """γ (N, K) from latent vectors and the prior's parameters.

    Args:
        minmax_lambda: λ of the inverse min-max transform (published 50), or
            ``None``/``"none"`` for the untransformed posterior, equal to
            scikit-learn's ``GaussianMixture.predict_proba`` with weights π/Σπ.
        **kwargs: Standard layer arguments.

    Call arguments:
        inputs: ``[z, pi, mu, var]`` with shapes (N, J), (K,), (J, K), (J, K).
        log: Return log γ instead of γ.

    Returns:
        (N, K) float32 probabilities whose rows sum to one.
    """

    def __init__(self, minmax_lambda=50.0, **kwargs):
        super().__init__(**kwargs)
        self.minmax_lambda = parse_minmax_lambda(minmax_lambda)
        # No state to build (as Keras's own stateless layers): an unbuilt layer would
        # make Keras trace the whole model again before every validation pass.
        self.built = True

    def call(self, inputs, log=False):
        z, pi, mu, var = inputs
        log_gamma = gmm_math.cluster_log_probabilities(
            z, pi, mu=mu, var=var, minmax_lambda=self.minmax_lambda
        )
        return log_gamma if log else ops.exp(log_gamma)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[1][0])

    def get_config(self):
        return {**super().get_config(), "minmax_lambda": self.minmax_lambda}
