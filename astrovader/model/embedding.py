"""A model's embedding of a stream of images, written as a cluster table.

The one writer of every ``clusters.csv`` row a model computes: ``astrovader fit``
(the run's images, in memory or streamed from shards) and ``astrovader embed`` (any
data set, or one part of it) both call :func:`write_embedding`, which writes
through the one table writer (:func:`~astrovader.data.tables.clusters.write_stream`).
"""

from __future__ import annotations

from pathlib import Path

from astrovader.data.tables.clusters import write_stream

__all__ = ["DECODES_PER_PASS", "write_embedding"]

DECODES_PER_PASS = 8 * 180
"""Decoded images one likelihood pass holds at most: the default S = 8 draws of 180 images."""


def write_embedding(
    model,
    stream,
    *,
    out,
    batch_size: int = 180,
    chunk: int | None = None,
    likelihood_samples: int = 0,
    progress: bool = False,
    cards=None,
    csv_cards: bool = False,
) -> int:
    """Write ``id, [catalogue columns], cluster, γ, z[, scores]`` of every image.

    Args:
        model: A trained :class:`~astrovader.model.vade.AstroVaDEr`.
        stream: The images (:class:`~astrovader.data.pipelines.stream.ImageStream`).
        out: The ``.csv`` or ``.fits`` table (see :mod:`astrovader.data.tables.clusters`).
        batch_size: Images per batch of the model (with the min-max transform γ
            depends on the batch it is computed in, method eq. 17, so this should be
            the training batch).
        chunk: Images read from ``stream`` at a time (None: ``batch_size``). Whole
            batches of the model are embedded in order either way; the anomaly score's
            draws are those of one :meth:`~astrovader.model.api.InferenceMixin.scores`
            call per chunk (images in memory are scored in one chunk, as a whole).
        likelihood_samples: Draws S of the scores ``log_likelihood``
            (:mod:`astrovader.model.likelihood`; S decoder passes per image) and
            ``anomaly_score`` (the same corrected for input complexity,
            :mod:`astrovader.model.complexity`); 0: no scores. Images are scored in
            passes of at most :data:`DECODES_PER_PASS` decoded draws, so memory does
            not grow with S.
        progress: Show a progress bar.
        cards: FITS header cards (provenance).
        csv_cards: Write ``cards`` into a CSV table too (as leading ``#`` lines).

    Returns:
        The number of rows written.
    """

    def embed(images):
        return model.embed(images, batch_size=batch_size)

    if likelihood_samples:
        passes = max(1, min(batch_size, DECODES_PER_PASS // likelihood_samples))

        def embed(images):
            score = model.scores(images, likelihood_samples, batch_size=passes)
            return (*model.embed(images, batch_size=batch_size), score)

    return write_stream(
        Path(out),
        stream,
        embed=embed,
        shape=(model.n_clusters, model.latent_dim),
        batch_size=chunk or batch_size,
        progress=progress,
        cards=cards,
        scores=bool(likelihood_samples),
        csv_cards=csv_cards,
    )
