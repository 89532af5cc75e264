"""How stamps are read: bands, size, scaling, geometry and limits, as one frozen object.

:class:`ReadOptions` is built from a configuration (``[data]`` and ``[scaling]``)
for training, and from a model's saved reading settings for ``embed``,
``report`` and the Python API, so that every command reads raw flux the way the
model was trained on it. Framework-free.
"""

from __future__ import annotations

import dataclasses

from astrovader.config.rules import BANDS, NAN_PIXELS_RULE, POSITIVE_INT, SECTION_RULES
from astrovader.config.sections import CatalogConfig, ScalingConfig, StampGeometry
from astrovader.errors import InputError

__all__ = ["ReadOptions"]

SAVED = ("scaling", "crop", "crop_arcsec", "pixel_scale", "band_axis", "catalog", "mask_neighbours")
"""The reading settings a model keeps (``AstroVaDEr(reading=…)``)."""


@dataclasses.dataclass(frozen=True)
class _ReadInputs:
    """The options before the geometry (the order of :class:`ReadOptions`' arguments)."""

    bands: int = 1
    size: int = 128
    nan_pixels: str = "error"
    strict: bool = False
    scaling: ScalingConfig = dataclasses.field(default_factory=ScalingConfig)


@dataclasses.dataclass(frozen=True)
class ReadOptions(StampGeometry, _ReadInputs):
    """How every stamp is decoded (see :mod:`astrovader.data.images.readers`).

    Attributes:
        bands: 1 (grey: colour is averaged) or 3.
        size: Side of the square output in pixels.
        nan_pixels: ``"error"`` or ``"zero"``.
        strict: Refuse non-image files in a folder.
        scaling: How raw flux becomes [0, 1] (:mod:`astrovader.data.images.scaling`).
        crop: Centre crop in pixels before resizing (0: the largest centred square).
        crop_arcsec: Centre crop in arcseconds (needs a pixel scale).
        pixel_scale: Arcseconds per pixel when neither FITS WCS nor catalogue says.
        band_axis: Band axis of FITS cubes: ``"auto"``, ``"first"`` or ``"last"``.
        max_pixels: The most pixels one image may have (checked before decoding).
        max_bytes: The most bytes one image may hold as stored (checked before decoding).
        catalog: The columns of an input catalogue.
        mask_neighbours: Replace every source but the central one by sky noise.
    """

    catalog: CatalogConfig = dataclasses.field(default_factory=CatalogConfig)
    mask_neighbours: bool = False

    def __post_init__(self):
        BANDS.check("bands", self.bands, InputError)
        POSITIVE_INT.check("image size", self.size, InputError)
        NAN_PIXELS_RULE.check("nan_pixels", self.nan_pixels, InputError)
        for key in ("crop", "crop_arcsec", "pixel_scale", "band_axis", "max_pixels", "max_bytes"):
            SECTION_RULES["data"][key].check(key, getattr(self, key), InputError)

    @classmethod
    def from_config(cls, config) -> ReadOptions:
        """The reading of a run's configuration (``[data]``, ``[scaling]``)."""
        d = config.data
        return cls(
            d.bands,
            d.image_size,
            d.nan_pixels,
            d.strict,
            config.scaling,
            d.crop,
            d.crop_arcsec,
            d.pixel_scale,
            d.band_axis,
            d.max_pixels,
            d.max_bytes,
            config.catalog,
            d.mask_neighbours,
        )

    def saved(self) -> dict:
        """The settings a model keeps, as plain JSON-ready values."""
        out = {key: getattr(self, key) for key in SAVED}
        for section in ("scaling", "catalog"):
            out[section] = {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(getattr(self, section)).items()
            }
        return out

    @classmethod
    def from_saved(cls, bands: int, size: int, saved: dict | None, **given) -> ReadOptions:
        """The reading a model was trained with (defaults for a model that kept none)."""
        values = dict(saved or {})
        if "scaling" in values:
            scaling = dict(values["scaling"])
            scaling["limits"] = tuple(scaling.get("limits", ()))
            values["scaling"] = ScalingConfig(**scaling)
        if "catalog" in values:
            values["catalog"] = CatalogConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in values["catalog"].items()}
            )
        return cls(bands=bands, size=size, **{**values, **given})

    def with_limits(self, limits: tuple[float, float]) -> ReadOptions:
        """The same reading with a measured global interval."""
        return dataclasses.replace(
            self, scaling=dataclasses.replace(self.scaling, limits=tuple(limits))
        )
