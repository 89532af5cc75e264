"""Stream a data set through a trained model into a cluster table (``astrovader embed``)."""

from __future__ import annotations

import functools
from pathlib import Path

from astrovader.data.catalogue import write_stream
from astrovader.data.stream import open_stream


def embed_to_table(model, data, out, batch_size: int = 180, progress: bool = True) -> int:
    """Write ``id, cluster, γ, z`` of every image of ``data`` to ``out``, batch by batch.

    Memory is bounded by a batch, whatever the size of ``data``. With the min-max
    transform γ depends on the batch it is computed in (method eq. 17), so
    ``batch_size`` should be the training batch (180 in the paper); the cluster,
    the argmax of γ, and z do not depend on it.

    Args:
        model: A trained :class:`~astrovader.model.vade.AstroVaDEr`.
        data: A folder of images, a ``.npy`` array or a TFRecord directory.
        out: The ``.csv`` or ``.fits`` table (see :mod:`astrovader.data.catalogue`).
        batch_size: Images per batch.
        progress: Show a progress bar.

    Returns:
        The number of rows written.
    """
    stream = open_stream(data, model.bands, model.image_size)
    shape = (model.n_clusters, model.latent_dim)
    embed = functools.partial(model.embed, batch_size=batch_size)
    return write_stream(Path(out), stream, embed, shape, batch_size, progress)
