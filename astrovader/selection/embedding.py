"""The embedding pick-k works on: μ̃ of a run's training images or of given images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrovader.errors import AstrovaderError

__all__ = ["embed_source"]


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
    from astrovader.data.images.readers import load_images
    from astrovader.model.loading import load_model
    from astrovader.training.rundir.directory import RunDirectory

    source = Path(source)
    if source.is_dir():
        run = RunDirectory(source)
        if not run.model_path.is_file():
            raise AstrovaderError(f"{source}: not a finished run directory (no model.keras)")
        model_path, model = run.model_path, run.model()
    elif source.is_file() and source.suffix == ".keras":
        if data is None:
            raise AstrovaderError(f"{source}: a .keras model needs DATA, the images to embed")
        run, model_path, model = None, source, load_model(source)
    else:
        raise AstrovaderError(f"{source}: neither a run directory nor a .keras model file")
    if data is not None:
        images = load_images(data, options=model.read_options()).images
        what = str(Path(data))
    else:
        images = run.training_images().images
        what = f"training images of {source}"
    z, _ = model.encode(images)
    return z, {"model": str(model_path), "data": what, "images": len(images)}
