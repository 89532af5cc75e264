"""Stream a data set through a trained model into a cluster table (``astrovader embed``)."""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from astrovader.inference.stream import open_stream
from astrovader.inference.table import cluster_table


def embed_to_table(model, data, out, batch_size: int = 180, progress: bool = True) -> int:
    """Write ``id, cluster, γ, z`` of every image of ``data`` to ``out``, batch by batch.

    Memory is bounded by a batch, whatever the size of ``data``. With the min-max
    transform γ depends on the batch it is computed in (SPEC eq. 17), so
    ``batch_size`` should be the training batch (180 in the paper); the cluster,
    the argmax of γ, and z do not depend on it.

    Args:
        model: A trained :class:`~astrovader.model.vade.AstroVaDEr`.
        data: A folder of images, a ``.npy`` array or a TFRecord directory.
        out: The ``.csv`` or ``.fits`` table (see :mod:`astrovader.inference.table`).
        batch_size: Images per batch.
        progress: Show a progress bar.

    Returns:
        The number of rows written.
    """
    stream = open_stream(data, model.bands, model.image_size)
    shape = (stream.count, model.n_clusters, model.latent_dim, stream.id_length)
    with (
        cluster_table(Path(out), *shape) as write,
        tqdm(total=stream.count, desc="embedding", unit="img", disable=not progress) as bar,
    ):
        for ids, images in stream.batches(batch_size):
            gamma, z = model.embed(images, batch_size)
            write(ids, gamma, z)
            bar.update(len(ids))
    return stream.count
