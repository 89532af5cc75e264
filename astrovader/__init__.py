"""astrovader: variational deep embedding of galaxy images (Spindler, Geach & Smith 2021).

The heavy parts (TensorFlow, Keras) are imported on first use, so that the
framework-free modules (data readers, synthetic galaxies, metrics) stay quick.
"""

from __future__ import annotations

import os

from astrovader._quiet import quiet_on_tensorflow_import
from astrovader._version import __version__

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
quiet_on_tensorflow_import()

__all__ = [
    "AstroVaDEr",
    "Clusterer",
    "Config",
    "__version__",
    "import_paper_weights",
    "load_config",
    "load_model",
]


def __getattr__(name: str):
    if name == "load_model":
        from astrovader.model.loading import load_model

        return load_model
    if name == "Clusterer":
        from astrovader.api.clusterer import Clusterer

        return Clusterer
    if name == "AstroVaDEr":
        from astrovader.model.vade import AstroVaDEr

        return AstroVaDEr
    if name == "import_paper_weights":
        from astrovader.model.paper_weights import import_paper_weights as found

        return found
    if name in ("Config", "load_config"):
        from astrovader import config

        return getattr(config, name)
    raise AttributeError(f"module 'astrovader' has no attribute {name!r}")
