"""Inference at survey scale: stream images through a trained model into files.

Owns embedding a data set, or one part of it, into a cluster table on this machine
(:mod:`.embed`) or as Spark tasks whose part tables are merged (:mod:`.spark`), drawing
synthetic galaxies into FITS cubes or PNG folders (:mod:`.generate`) and similarity
searches by id, image or sky position (:mod:`.similar`). The names are re-exported lazily.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "FITS_SUFFIXES": "generate",
    "Query": "similar",
    "RADIUS_ARCSEC": "similar",
    "Search": "similar",
    "TABLE": "similar",
    "by_id": "similar",
    "by_image": "similar",
    "by_sky": "similar",
    "embed_part": "spark",
    "embed_parts_spark": "spark",
    "embed_to_table": "embed",
    "generate_files": "generate",
    "neighbours": "similar",
    "open_search": "similar",
    "provenance_cards": "embed",
    "weights_digest": "embed",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
