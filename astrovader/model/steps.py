"""The training and test steps of :class:`~astrovader.model.vade.AstroVaDEr` (method §4, §9).

One loss for every phase: the s3VDC callbacks set the weights ``kl_weight``,
``gmm_weight``, ``consistency_weight`` and ``clip_value`` that it reads, so the
steps have no phase branches. Under a ``tf.distribute`` strategy a step equals the
single-device step on the same global batch (:mod:`astrovader.model.replicas`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from astrovader.config.rules import uses_tied_targets
from astrovader.model import gmm_math, replicas
from astrovader.model.contrastive import nt_xent
from astrovader.model.targets import consistency_loss, tied_target

__all__ = ["LOSS_TERMS", "TrainingMixin"]

LOSS_TERMS = ("loss", "reconstruction", "kl", "gmm_kl", "consistency", "contrast")


class TrainingMixin:
    """The loss, ``train_step`` and ``test_step`` of the model.

    Its layers and weights are set by :class:`~astrovader.model.vade.AstroVaDEr`.
    """

    def loss_terms(self, x, training=False, tied=None):
        """Batch means of every loss term (method §4) and the weighted total.

        Args:
            x: (N, S, S, B) images in [0, 1].
            training: Sample z and run layers in training mode.
            tied: The μ̃ and log σ̃² of the images' tied views, each (N, V, J), when
                the batch brings them (:func:`~astrovader.model.targets.tied_target`).

        Returns:
            Dict with scalars ``loss``, ``reconstruction``, ``kl``, ``gmm_kl``,
            ``consistency`` and ``contrast``. With views, the network sees a random
            view of each image and reconstructs its target (method §9); with the
            view-agreement term, a second view's μ̃ must agree with the first's
            (eq. A6; in training steps only).
        """
        view, goal = self._views(x, training)
        z_mean, z_log_var = self.encoder(view, training=training)
        z = self._sample(z_mean, z_log_var, training)
        x_hat = self.decoder(z, training=training)
        pi, mu, var = self.prior(z)
        log_target = None
        if uses_tied_targets(self.gamma_from, self.consistency):
            log_target = tied_target(self, x, pi=pi, mu=mu, var=var, tied=tied)
        if self.gamma_from == "target":
            log_gamma = log_target
        else:
            log_gamma = self._log_gamma(z if self.gamma_from == "sample" else z_mean, pi, mu, var)
        rec = gmm_math.reconstruction_loss(goal, x_hat, self.reconstruction)
        kl = gmm_math.unit_gaussian_kl(z_mean, z_log_var)
        gmm = gmm_math.gmm_kl(z_mean, z_log_var, log_gamma=log_gamma, pi=pi, mu=mu, var=var)
        agree = ops.zeros_like(kl)
        if self.consistency > 0:
            agree = consistency_loss(log_target, z_mean, z_log_var=z_log_var, pi=pi, mu=mu, var=var)
        contrast = ops.zeros_like(kl)
        if self.contrast > 0 and training:
            second, _ = self._views(x, training)
            z_second, _ = self.encoder(second, training=training)
            contrast = nt_xent(
                self._project(z_mean),
                self._project(z_second),
                temperature=self.contrast_temperature,
            )
        total = ops.mean(
            rec
            + self.kl_weight * kl
            + self.gmm_weight * gmm
            + self.consistency_weight * agree
            + (0.0 if self.contrast_weight is None else self.contrast_weight) * contrast
        )
        if self.losses:
            total = total + ops.cast(ops.sum(self.losses), "float32")
        return {
            "loss": total,
            "reconstruction": ops.mean(rec),
            "kl": ops.mean(kl),
            "gmm_kl": ops.mean(gmm),
            "consistency": ops.mean(agree),
            "contrast": ops.mean(contrast),
        }

    def _project(self, z_mean):
        """What the view-agreement term compares: μ̃, or its projection by the head."""
        z_mean = ops.cast(z_mean, "float32")
        return z_mean if self.projector is None else self.projector(z_mean)

    def _views(self, x, training):
        """(view, reconstruction target); the views of a replica are its rows of the global draw."""
        if self.viewer is None or not training:
            return x, x

        def draw(inputs):
            return ops.concatenate(self.viewer(inputs[0], training=True), axis=-1)

        both = replicas.replica_rows(draw, [x])
        return both[..., : self.bands], both[..., self.bands :]

    def _sample(self, z_mean, z_log_var, training):
        """z: μ̃ at inference; in training, fresh noise per row on every replica."""
        if not training:
            return self.sampler([z_mean, z_log_var], training=False)
        return replicas.replica_rows(
            lambda inputs: self.sampler(inputs, training=True), [z_mean, z_log_var]
        )

    def _log_gamma(self, z, pi, mu, var):
        """log γ; inside a multi-replica step the min-max transform is global.

        method eq. 17 takes min and max over the batch's (N, K) cost matrix. When the
        batch is split over replicas they are the min and max over every replica's
        costs (:func:`~astrovader.model.replicas.global_extrema`), which makes
        γ the one a single device computes for the whole batch. Elsewhere this is
        :class:`~astrovader.model.cluster_probability.ClusterProbability`.
        """
        context = tf.distribute.get_replica_context()
        if self.minmax_lambda is None or context is None or context.num_replicas_in_sync == 1:
            return self.gamma_layer([z, pi, mu, var], log=True)
        costs = gmm_math.cluster_costs(z, pi, mu=mu, var=var)
        low, high = replicas.global_extrema(costs)
        span = high - low + gmm_math.MINMAX_EPSILON
        return ops.log_softmax((costs - low) / span * (-self.minmax_lambda), axis=-1)

    def _clip(self, grads):
        """Clip each gradient entry to ±clip_value, in unscaled units.

        With a ``LossScaleOptimizer`` the gradients carry the loss scale S, so the
        bound is S·clip_value, and non-finite entries are kept so that the
        optimizer sees the overflow, skips the step and lowers S.
        """
        limit = self.clip_value
        if not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            return [ops.clip(g, -limit, limit) for g in grads]
        limit = limit * ops.cast(self.optimizer.scale_loss(ops.ones((), "float32")), "float32")
        return [ops.where(ops.isfinite(g), ops.clip(g, -limit, limit), g) for g in grads]

    @property
    def metrics(self):
        return [*self.trackers.values(), self.skipped_batches]

    def _record(self, terms, weight=None, **extra):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=weight)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        return replicas.step_logs({**logs, **extra})

    def train_step(self, data):
        x, tied = _unpack(data)
        share = replicas.batch_share(ops.shape(x)[0])
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, training=True, tied=tied)
            scaled = self.optimizer.scale_loss(terms["loss"] * share)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        if not self.skip_nonfinite:
            grads = self._clip(replicas.sum_over_replicas(grads))
            self.optimizer.apply(replicas.optimizer_share(grads), variables)
            return self._record(terms, share)
        # --on-nan skip-batch: drop a batch whose loss or gradients are not finite
        # (on any replica: the flag is summed with the gradients).
        # A LossScaleOptimizer handles non-finite gradients itself (skip, lower the scale).
        finite_terms = ops.all(ops.stack([ops.all(ops.isfinite(t)) for t in terms.values()]))
        *grads, bad = replicas.sum_over_replicas([*grads, 1.0 - ops.cast(finite_terms, "float32")])
        grads = self._clip(grads)
        finite = ops.equal(bad, 0.0)
        if not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            finite_grads = ops.all(ops.stack([ops.all(ops.isfinite(g)) for g in grads]))
            finite = ops.logical_and(finite, finite_grads)
        replicas.apply_if(
            finite, lambda: self.optimizer.apply(replicas.optimizer_share(grads), variables)
        )
        kept = ops.cast(finite, "float32")
        self.skipped_batches.update_state((1.0 - kept) * share)
        terms = {k: ops.where(finite, v, ops.zeros_like(v)) for k, v in terms.items()}
        return self._record(terms, kept * share, skipped_batches=self.skipped_batches.result())

    def test_step(self, data):
        x, tied = _unpack(data)
        share = replicas.batch_share(ops.shape(x)[0])
        return self._record(self.loss_terms(x, training=False, tied=tied), share)


def _unpack(data):
    """``(images, tied)`` of a batch: images alone, or ``(images, (μ̃, log σ̃²) of their views)``."""
    if not isinstance(data, tuple):
        return data, None
    tied = data[1] if len(data) > 1 and isinstance(data[1], tuple) else None
    return data[0], tied
