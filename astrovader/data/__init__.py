"""Data in and out, by job (docs/architecture.md draws the map).

- :mod:`astrovader.data.images`: reading cutouts from disk (framework-free);
- :mod:`astrovader.data.simulated`: labelled simulated galaxies (framework-free);
- :mod:`astrovader.data.tables`: cluster tables, FITS streams, parts, merge (framework-free);
- :mod:`astrovader.data.pipelines`: ``tf.data`` pipelines, TFRecord shards, streams, split;
- :mod:`astrovader.data.sources`: the images a run's configuration names;
- :mod:`astrovader.data.prepare`: the paper's preprocessing (``astrovader prepare``);
- :mod:`astrovader.data.latent_index`: nearest neighbours in the latent space.

The names of the last three are re-exported here lazily; the sub-packages export
their own.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "EXACT_LIMIT": "latent_index",
    "HNSW_CONSTRUCTION": "latent_index",
    "HNSW_M": "latent_index",
    "HNSW_SEARCH": "latent_index",
    "LatentIndex": "latent_index",
    "PrepareOptions": "prepare",
    "Prepared": "prepare",
    "choose_backend": "latent_index",
    "fit_to_images": "sources",
    "hnsw_available": "latent_index",
    "load_data": "sources",
    "objid_of": "prepare",
    "prepare_directory": "prepare",
    "prepare_pixels": "prepare",
    "with_data_path": "sources",
    "with_measured_limits": "sources",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
