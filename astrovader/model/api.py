"""The NumPy-facing inference API of :class:`~astrovader.model.vade.AstroVaDEr`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

from astrovader.config.rules import LIKELIHOOD_SAMPLES
from astrovader.model import complexity, likelihood
from astrovader.model.sampling import latent_batches
from astrovader.model.views import dihedral_views

__all__ = ["DECODE_ROWS", "InferenceMixin"]

DECODE_ROWS = 32


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


class InferenceMixin:
    """Batched encode, decode, cluster and generate on NumPy arrays.

    Inputs are float32 arrays (N, S, S, B) in [0, 1]; outputs are NumPy arrays.
    With the min-max transform (λ not None), γ depends on the batch it is
    computed in (method eq. 17 takes min and max over the batch matrix): the
    methods use consecutive batches of ``batch_size`` inputs, 180 by default as
    in training. The argmax, and so :meth:`predict_clusters`, does not depend on it.
    """

    def encode(self, x, batch_size: int = 180):
        """μ̃ and log σ̃² of each image: two (N, J) arrays."""
        x = np.asarray(x, dtype="float32")
        means, log_vars = [], []
        for part in _batches(len(x), batch_size):
            z_mean, z_log_var = self.encoder(x[part], training=False)
            means.append(ops.convert_to_numpy(ops.cast(z_mean, "float32")))
            log_vars.append(ops.convert_to_numpy(ops.cast(z_log_var, "float32")))
        if not means:
            empty = np.zeros((0, self.latent_dim), "float32")
            return empty, empty.copy()
        return np.concatenate(means), np.concatenate(log_vars)

    def decode(self, z):
        """Images (N, S, S, B) decoded from latent vectors (N, J).

        The decoder always runs on passes of :data:`DECODE_ROWS` rows, the last padded,
        so an image depends on its z alone: CPU kernels round differently for
        different batch shapes, and a generated catalogue must not change with the
        batch size it was written in.
        """
        z = np.asarray(z, dtype="float32")
        parts = []
        for part in _batches(len(z), DECODE_ROWS):
            rows = np.zeros((DECODE_ROWS, z.shape[-1]), "float32")
            rows[: part.stop - part.start] = z[part]
            images = self.decoder(rows, training=False)[: part.stop - part.start]
            parts.append(ops.convert_to_numpy(ops.cast(images, "float32")))
        shape = (0, self.image_size, self.image_size, self.bands)
        return np.concatenate(parts) if parts else np.zeros(shape, "float32")

    def latent_probabilities(self, z, batch_size: int = 180):
        """γ (N, K) for latent vectors (N, J), rows summing to one."""
        z = np.asarray(z, dtype="float32")
        pi, mu, var = self.prior(None)
        parts = [
            ops.convert_to_numpy(self.gamma_layer([z[part], pi, mu, var]))
            for part in _batches(len(z), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.n_clusters), "float32")

    def cluster_probabilities(self, x, batch_size: int = 180):
        """γ (N, K) for images: the γ of :meth:`embed`."""
        return self.embed(x, batch_size)[0]

    def predict_clusters(self, x, batch_size: int = 180):
        """The most probable component of each image, (N,) int."""
        return np.argmax(self.cluster_probabilities(x, batch_size), axis=-1)

    def embed(self, x, batch_size: int = 180):
        """γ (N, K) and the embedding (N, J) of images, in one compiled pass per batch.

        The embedding z is the mean μ̃ of the image's ``test_views`` V flips and
        quarter turns (method §9; V = 1, the paper: μ̃ itself, :meth:`encode`),
        and γ its cluster probabilities under the prior
        (:meth:`latent_probabilities`). With all 8 views (the dihedral group) a
        flip or a quarter turn of an image gives it the same z and γ.
        """
        x = np.asarray(x, dtype="float32")
        step = self._compiled(self._embed_batch, (None, *x.shape[1:]))
        gammas, means = [], []
        for part in _batches(len(x), batch_size):
            gamma, z_mean = step(tf.constant(x[part]))
            gammas.append(gamma.numpy())
            means.append(z_mean.numpy())
        if not gammas:
            return np.zeros((0, self.n_clusters), "float32"), np.zeros(
                (0, self.latent_dim), "float32"
            )
        return np.concatenate(gammas), np.concatenate(means)

    def _compiled(self, method, *shapes):
        """``method`` as a ``tf.function`` of float32 tensors of ``shapes``, kept beside the model.

        A None in a shape (the batch) is left open, so that the method is traced once
        per model and image shape, whatever the batch sizes (the last batch is smaller).
        """
        key = f"_compiled{method.__name__}{shapes}"
        if key not in self.__dict__:
            signature = [tf.TensorSpec(shape, tf.float32) for shape in shapes]
            self.__dict__[key] = tf.function(method, input_signature=signature)
        return self.__dict__[key]

    def _embed_batch(self, x):
        pi, mu, var = self.prior(None)
        if self.test_views == 1:
            z_mean, _ = self.encoder(x, training=False)
            z_mean = ops.cast(z_mean, "float32")
            return self.gamma_layer([z_mean, pi, mu, var]), z_mean
        parts = [self.encoder(v, training=False)[0] for v in dihedral_views(x, self.test_views)]
        z = ops.mean(ops.stack([ops.cast(m, "float32") for m in parts]), axis=0)
        return self.gamma_layer([z, pi, mu, var]), z

    def log_likelihood(
        self, x, samples: int = likelihood.SAMPLES, *, seed: int = 0, batch_size: int = 180
    ):
        """log p̂(x) (N,) of each image, from ``samples`` draws (eq. A4).

        See :mod:`astrovader.model.likelihood`: the decoder's density is the one
        training weighed (temperature w = the model's final ``gmm_weight``). The
        draws come from a NumPy ``default_rng(seed)`` (one documented convention),
        so a score is reproducible and does not depend on the batch size (beyond
        float32 rounding). Each batch is one compiled pass that decodes its S draws
        together.
        """
        return self._log_likelihoods(x, samples, seed=seed, batch_size=batch_size)[0]

    def anomaly_score(
        self, x, samples: int = likelihood.SAMPLES, *, seed: int = 0, batch_size: int = 180
    ):
        """The anomaly score s(x) (N,) in bits: log p̂(x) corrected for input complexity.

        s(x) = log₂ P̂(x) + L(x) (method eq. A5, :mod:`astrovader.model.complexity`),
        with P̂ from the same ``samples`` draws as :meth:`log_likelihood` under the
        calibrated decoder (:meth:`calibrate`; the trained temperature before it) and
        L(x) the image's PNG length. Low scores flag artefacts, whether they are
        simple (blank stamps, bars) or complex (noise); higher is more typical.
        """
        return self.scores(x, samples, seed=seed, batch_size=batch_size)[:, 1]

    def scores(self, x, samples: int = likelihood.SAMPLES, *, seed: int = 0, batch_size: int = 180):
        """log p̂(x) (nats) and s(x) (bits) of each image, an (N, 2) float64 array.

        The columns of a cluster table's scores
        (:data:`~astrovader.data.tables.clusters.SCORES`): :meth:`log_likelihood`
        and :meth:`anomaly_score`, from the same draws and decoder passes.
        """
        x = np.asarray(x, dtype="float32")
        log_p, calibrated = self._log_likelihoods(x, samples, seed=seed, batch_size=batch_size)
        bits = complexity.complexity_bits(x) if x.ndim == 4 else np.zeros(len(x))
        pixels = int(np.prod(x.shape[1:])) if x.ndim == 4 else 0
        corrected = complexity.complexity_corrected(calibrated, bits, pixels=pixels)
        return np.stack([np.asarray(log_p, np.float64), corrected], axis=1)

    def calibrate(self, x, batch_size: int = 180) -> float:
        """Set and return ``residual_variance``: σ̂², the mean squared residual of x̂(μ̃) on ``x``.

        The anomaly score's decoder (method §7b) is the Gaussian of the variance the
        model's reconstructions of its training images actually have (the σ-VAE's
        calibrated decoder, Rybkin et al. 2021), so that it describes a typical image
        as sharply as the data allow; ``fit`` calls this on the training images
        before saving the model. Only for ``reconstruction = "mse"``.
        """
        x = np.asarray(x, dtype="float32")
        total, count = 0.0, 0
        for part in _batches(len(x), batch_size):
            x_hat = self.decode(self.encode(x[part], batch_size)[0])
            total += float(np.sum(np.square(x_hat.astype(np.float64) - x[part])))
            count += x_hat.size
        self.residual_variance = likelihood.calibrated_variance(total, count)
        return self.residual_variance

    def _log_likelihoods(self, x, samples, *, seed, batch_size):
        """log p̂(x) at the trained temperature and under the calibrated decoder, (2, N)."""
        samples = LIKELIHOOD_SAMPLES.check("samples", int(samples))
        x = np.asarray(x, dtype="float32")
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((samples, len(x), self.latent_dim)).astype("float32")
        step = self._compiled(
            self._likelihood_batch, (None, *x.shape[1:]), (samples, None, self.latent_dim), (2,)
        )
        trained = likelihood.decoder_weight(self.gmm_weight.numpy())
        weights = tf.constant(
            [trained, likelihood.calibrated_weight(self.residual_variance, trained)], tf.float32
        )
        out = [
            step(tf.constant(x[part]), tf.constant(noise[:, part]), weights).numpy()
            for part in _batches(len(x), batch_size)
        ]
        return np.concatenate(out, axis=1) if out else np.zeros((2, 0), "float32")

    def _likelihood_batch(self, x, noise, weights):
        """log p̂(x) (2, n) of a batch x (n, S, S, B) from its draws' noise (S, n, J), one pass.

        ``weights`` are two decoder temperatures w (:mod:`astrovader.model.likelihood`),
        each scored on the same decodings.
        """
        z_mean, z_log_var = (ops.cast(t, "float32") for t in self.encoder(x, training=False))
        draws, n = ops.shape(noise)[0], ops.shape(x)[0]
        z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * noise
        flat = ops.reshape(z, (-1, self.latent_dim))
        x_hat = self.decoder(flat, training=False)
        repeat = ops.reshape(ops.tile(x[None], (draws, 1, 1, 1, 1)), ops.shape(x_hat))
        pi, mu, var = self.prior(None)
        latent = likelihood.latent_log_weights(
            flat,
            noise=ops.reshape(noise, (-1, self.latent_dim)),
            z_log_var=ops.reshape(ops.tile(z_log_var[None], (draws, 1, 1)), (-1, self.latent_dim)),
            pi=pi,
            mu=mu,
            var=var,
        )
        out = []
        for w in (weights[0], weights[1]):
            log_w = (
                likelihood.decoder_log_density(repeat, x_hat, kind=self.reconstruction, weight=w)
                + latent
            )
            out.append(likelihood.combine(ops.reshape(log_w, (draws, n))))
        return ops.stack(out)

    def mixture(self) -> dict[str, np.ndarray]:
        """The prior: ``pi`` (K,), ``mu`` (K, J), ``var`` (K, J), scikit-learn's layout."""
        return self.prior.mixture()

    def iter_latents(
        self,
        n: int,
        component: int | None = None,
        *,
        seed: int | None = None,
        batch_size: int = 180,
    ):
        """Draw z ~ N(μ_c, σ²_c) in chunks of ``batch_size``, c fixed or drawn from π/Σπ.

        The one sampling convention of :mod:`astrovader.model.sampling`: the chunks,
        concatenated, are :meth:`sample_latents` (n, component, seed) exactly.

        Yields:
            ``(z, components)``: (m, J) float32 and (m,) int arrays, m ≤ batch_size.
        """
        yield from latent_batches(
            self.mixture(), n, component=component, seed=seed, batch_size=batch_size
        )

    def sample_latents(self, n: int, component: int | None = None, seed: int | None = None):
        """Draw z ~ N(μ_c, σ²_c), with c fixed or drawn from π/Σπ (docs/method.md §7).

        Returns:
            ``(z, components)``: (n, J) float32 and (n,) int arrays.
        """
        parts = list(self.iter_latents(n, component, seed=seed, batch_size=max(n, 1)))
        if not parts:
            return np.zeros((0, self.latent_dim), "float32"), np.zeros(0, int)
        return parts[0]

    def iter_generate(
        self,
        n: int,
        component: int | None = None,
        *,
        seed: int | None = None,
        batch_size: int = 180,
    ):
        """Synthetic galaxies in chunks (bounded memory); together, :meth:`generate`'s.

        Yields:
            ``(images, components)``: (m, S, S, B) float32 and (m,) int arrays.
        """
        for z, components in self.iter_latents(n, component, seed=seed, batch_size=batch_size):
            yield self.decode(z), components

    def generate(self, n: int, component: int | None = None, seed: int | None = None):
        """Synthetic galaxies (n, S, S, B) decoded from the mixture prior.

        Equal to ``astrovader generate MODEL --n n --component c --seed seed``: both
        draw through :mod:`astrovader.model.sampling`.
        """
        z, _ = self.sample_latents(n, component, seed)
        return self.decode(z)
