"""The embedding pick-k works on: μ̃ of a run's training images or of given images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrovader.errors import AstrovaderError


def _load(path: Path):
    from astrovader.model.vade import load_model

    try:
        return load_model(path)
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise AstrovaderError(f"{path}: cannot load the model ({detail})") from None


def embed_source(source: str | Path, data: str | Path | None = None) -> tuple[np.ndarray, dict]:
    """Embed images with a trained model's encoder (the deterministic μ̃).

    Args:
        source: A run directory (its ``model.keras``; without ``data``, the
            run's own training images, as split by its configuration) or a
            ``.keras`` model file (then ``data`` is required).
        data: Images to embed (a folder, a ``.npy`` array or an image), all of them.

    Returns:
        ``(z, description)``: the (N, J) embedding and what was embedded.

    Raises:
        AstrovaderError: a path that is neither, a model file without data,
            or a model or data that cannot be read.
    """
    from astrovader.data.readers import load_images

    source = Path(source)
    if source.is_dir():
        model_path = source / "model.keras"
        if not model_path.is_file():
            raise AstrovaderError(f"{source}: not a finished run directory (no model.keras)")
    elif source.is_file() and source.suffix == ".keras":
        model_path = source
        if data is None:
            raise AstrovaderError(f"{source}: a .keras model needs DATA, the images to embed")
    else:
        raise AstrovaderError(f"{source}: neither a run directory nor a .keras model file")
    model = _load(model_path)
    if data is not None:
        images = load_images(data, bands=model.bands, size=model.image_size).images
        what = str(Path(data))
    else:
        from astrovader.config import load_config
        from astrovader.data.pipeline import split_indices
        from astrovader.data.sources import load_data

        config = load_config(source / "config.toml")
        images = load_data(config).images
        train_idx, _ = split_indices(
            len(images), config.data.validation_fraction, config.training.seed
        )
        images = images[train_idx]
        what = f"training images of {source}"
    z, _ = model.encode(images)
    return z, {"model": str(model_path), "data": what, "images": len(images)}
