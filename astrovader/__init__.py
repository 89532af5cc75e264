"""astrovader: variational deep embedding of galaxy images (Spindler, Geach & Smith 2021).

The heavy parts (TensorFlow, Keras) are imported on first use, so that the
framework-free modules (data readers, synthetic galaxies, metrics) stay quick.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["AstroVaDEr", "Config", "import_paper_weights", "load_config", "load_model"]


def __getattr__(name: str):
    if name in ("load_model", "AstroVaDEr"):
        from astrovader.model import vade

        return getattr(vade, name)
    if name == "import_paper_weights":
        from astrovader.model.paper_weights import import_paper_weights as found

        return found
    if name in ("Config", "load_config"):
        from astrovader import config

        return getattr(config, name)
    raise AttributeError(f"module 'astrovader' has no attribute {name!r}")
