"""The cluster targets of augmentation-consistent training (method §9, eqs. A1 and A3).

Shapes: N images, J latent dimensions, K components; the prior ``pi`` (K,),
``mu`` and ``var`` (J, K) in the published layout.
"""

from __future__ import annotations

from keras import ops

from astrovader.model import em
from astrovader.model.views import dihedral_views

__all__ = ["consistency_loss", "tied_target"]


def tied_target(model, x, *, pi, mu, var, tied=None):
    """log t (N, K): the γ of each image from its unaugmented views together (eq. A1).

    The views are the model's ``tied_views`` flips and quarter turns of ``x``
    (:func:`~astrovader.model.views.dihedral_views`), embedded by the encoder as
    it was at the start of the epoch: the target of an epoch is the E-step at its
    start, fixed while the network learns towards it (a target from the encoder
    being trained chases itself). The views' μ̃ and log σ̃² come with the batch
    (``tied``, embedded once per epoch by
    :class:`~astrovader.training.mixture.tied_views.TiedViews`) or, for data streamed
    from shards and for validation, from the model's teacher, a copy of that
    encoder (:class:`~astrovader.training.mixture.mixture_em.TeacherSnapshot`), in the
    step. Both give the same target. No gradient flows in. Before the prior is
    initialised (γ-training) t is uniform.

    Args:
        model: The :class:`~astrovader.model.vade.AstroVaDEr`.
        x: (N, S, S, B) images.
        pi: (K,) weights.
        mu: (J, K) means.
        var: (J, K) variances.
        tied: ``(μ̃, log σ̃²)`` of the images' views, each (N, V, J), or None.
    """
    n = ops.shape(x)[0]
    k = model.n_clusters

    def target():
        if tied is not None:
            zv, log_var = (ops.transpose(ops.cast(t, "float32"), (1, 0, 2)) for t in tied)
        else:
            parts = [model.teacher(v, training=False) for v in dihedral_views(x, model.tied_views)]
            zv = ops.stack([ops.cast(m, "float32") for m, _ in parts])
            log_var = ops.stack([ops.cast(lv, "float32") for _, lv in parts])
        zv, log_var = ops.stop_gradient(zv), ops.stop_gradient(log_var)
        return em.tied_log_posterior(zv, pi, mu=mu, var=var, log_var_v=log_var)

    def uniform():
        return ops.full((n, k), -ops.log(ops.cast(k, "float32")))

    initialised = model.prior.initialized > 0.5
    return ops.stop_gradient(ops.cond(initialised, target, uniform))


def consistency_loss(log_target, z_mean, *, z_log_var, pi, mu, var):
    """KL(t ‖ γ of the view) per image (eq. A3), (N,).

    γ of the view is the E-step of its own posterior N(μ̃, σ̃²) (eq. A1 with one view,
    untransformed), the same form as the target's, so a view that is the image
    itself agrees with it exactly.
    """
    view = ops.cast(z_mean, "float32")[None]
    log_gamma = em.tied_log_posterior(
        view, pi, mu=mu, var=var, log_var_v=ops.cast(z_log_var, "float32")[None]
    )
    return em.consistency(log_target, log_gamma)
