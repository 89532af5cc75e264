"""Stream a data set through a trained model into a cluster table (``astrovader embed``)."""

from __future__ import annotations

import hashlib

import numpy as np
from astropy.io import fits

from astrovader._io import output_lock
from astrovader.data.pipelines.stream import ImageStream, open_stream
from astrovader.data.tables.fits_writer import provenance
from astrovader.data.tables.parts import Part
from astrovader.model.embedding import write_embedding

__all__ = ["embed_to_table", "provenance_cards", "weights_digest"]


def provenance_cards(model, model_name: str = "", command: str = "") -> list:
    """The FITS provenance of a model's outputs: file, K, J, image size, bands, scaling."""
    from astrovader.data.images.scaling import describe

    reading = model.read_options()
    return provenance(
        MODEL=(str(model_name) or None, "model file"),
        NCLUST=(model.n_clusters, "mixture components K"),
        NLATENT=(model.latent_dim, "latent dimensions J"),
        IMGSIZE=(model.image_size, "image side in pixels"),
        NBANDS=(model.bands, "image bands"),
        BANDS=(" ".join(reading.catalog.band_names) or None, "bands in order (catalogue)"),
        SCALING=(describe(reading.scaling), "raw-flux scaling of the inputs"),
        COMMAND=(command or None, "command that wrote the file"),
    )


def weights_digest(model) -> str:
    """The first 16 hex digits of the SHA-256 of a model's weights (names, shapes, values)."""
    digest = hashlib.sha256()
    for weight in model.weights:
        value = np.ascontiguousarray(weight)
        digest.update(f"{weight.path}:{value.dtype}:{value.shape};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]


def embed_to_table(
    model,
    data,
    *,
    out,
    batch_size: int = 180,
    progress: bool = True,
    model_name: str = "",
    command: str = "",
    options=None,
    likelihood_samples: int = 0,
    part: Part | None = None,
) -> int:
    """Write ``id, [catalogue columns], cluster, γ, z[, scores]`` of every image.

    Memory is bounded by a batch, whatever the size of ``data``. With the min-max
    transform γ depends on the batch it is computed in (method eq. 17), so
    ``batch_size`` should be the training batch (180 in the paper); the cluster,
    the argmax of γ, and z do not depend on it. Raw flux is read the way the
    model's training images were (:meth:`AstroVaDEr.read_options`).

    Args:
        model: A trained :class:`~astrovader.model.vade.AstroVaDEr`.
        data: A folder of images, a catalogue, a ``.npy`` array, a TFRecord directory,
            or an :class:`~astrovader.data.pipelines.stream.ImageStream`.
        out: The ``.csv`` or ``.fits`` table (see :mod:`astrovader.data.tables.clusters`).
        batch_size: Images per batch.
        progress: Show a progress bar.
        model_name: The model file, recorded in a FITS header.
        command: The command line, recorded in a FITS header.
        options: How to read ``data`` (:class:`~astrovader.data.images.options.ReadOptions`;
            default: the model's saved reading).
        likelihood_samples: Draws S of the scores ``log_likelihood``
            (:mod:`astrovader.model.likelihood`; S decoder passes per image) and
            ``anomaly_score`` (:mod:`astrovader.model.complexity`); 0: no scores.
            The images of a batch are scored in passes of at most
            :data:`~astrovader.model.embedding.DECODES_PER_PASS` decoded draws, so memory
            does not grow with S.
        part: Only this part of ``data`` (:mod:`astrovader.data.tables.parts`: contiguous,
            along whole batches of ``batch_size``, selected before decoding). The
            table records it (``SHARD``, ``SHSTART``, ``SHTOTAL``) and the model's
            ``WEIGHTS`` digest in its FITS header, or a CSV table's leading ``#`` lines.

    Returns:
        The number of rows written.
    """
    if not isinstance(data, ImageStream):
        data = open_stream(data, options or model.read_options())
    stream = data if part is None else data.part(part, batch_size)
    cards = provenance_cards(model, model_name, command)
    if part is not None:
        cards += part.cards(part.rows(data.count, batch_size), data.count)
        cards.append(fits.Card("WEIGHTS", weights_digest(model), "SHA-256 of the model weights"))
    with output_lock(out):
        return write_embedding(
            model,
            stream,
            out=out,
            batch_size=batch_size,
            likelihood_samples=likelihood_samples,
            progress=progress,
            cards=cards,
            csv_cards=part is not None,
        )
