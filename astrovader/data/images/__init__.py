"""Images in, without TensorFlow: the readers and everything they stand on.

Owns reading galaxy cutouts from disk: the reading options (:mod:`.options`),
image files and folder trees (:mod:`.files`), FITS stamps (:mod:`.fits`), the
stamps a folder, file or catalogue holds (:mod:`.stamps`, :mod:`.catalogue`),
per-band files stacked on one grid (:mod:`.band_stack`), the decoding of one stamp
(:mod:`.decode`: bounds, 16-bit PNGs, odd geometry, crops), raw flux to [0, 1]
(:mod:`.scaling`), neighbour masking (:mod:`.neighbours`), the in-memory
:class:`ImageSet` (:mod:`.imageset`) and the readers themselves (:mod:`.readers`).
Nothing here imports TensorFlow or Keras (a test checks it).
"""

from astrovader.data.images.band_stack import stack_bands
from astrovader.data.images.catalogue import is_catalogue, read_catalogue
from astrovader.data.images.decode import (
    check_geometry,
    conform,
    decode_display,
    decode_stamp,
    prepare_raw,
    raw_stamp,
    raw_to_pixels,
    warn_odd,
)
from astrovader.data.images.files import (
    IMAGE_SUFFIXES,
    TFRECORD_MANIFEST,
    DataKind,
    check_file,
    data_kind,
    find_images,
    image_id,
    image_suffix,
    is_fits,
    one_line,
    read_bytes,
    scan_folder,
)
from astrovader.data.images.fits import (
    MAX_HEADER_BYTES,
    band_axis,
    image_hdus,
    noise_sigma,
    pixel_scale,
    read_hdu,
    read_plain_hdu,
    stamp_ids,
    to_bands_last,
)
from astrovader.data.images.imageset import Geometry, ImageSet, parallel_fill
from astrovader.data.images.neighbours import central_label, mask_neighbours, segments
from astrovader.data.images.options import ReadOptions
from astrovader.data.images.readers import find_stamps, global_limits, load_images, read_image
from astrovader.data.images.scaling import describe, measure_limits, scale
from astrovader.data.images.stamps import Stamp, file_stamps, folder_stamps, unique

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_HEADER_BYTES",
    "TFRECORD_MANIFEST",
    "DataKind",
    "Geometry",
    "ImageSet",
    "ReadOptions",
    "Stamp",
    "band_axis",
    "central_label",
    "check_file",
    "check_geometry",
    "conform",
    "data_kind",
    "decode_display",
    "decode_stamp",
    "describe",
    "file_stamps",
    "find_images",
    "find_stamps",
    "folder_stamps",
    "global_limits",
    "image_hdus",
    "image_id",
    "image_suffix",
    "is_catalogue",
    "is_fits",
    "load_images",
    "mask_neighbours",
    "measure_limits",
    "noise_sigma",
    "one_line",
    "parallel_fill",
    "pixel_scale",
    "prepare_raw",
    "raw_stamp",
    "raw_to_pixels",
    "read_bytes",
    "read_catalogue",
    "read_hdu",
    "read_image",
    "read_plain_hdu",
    "scale",
    "scan_folder",
    "segments",
    "stack_bands",
    "stamp_ids",
    "to_bands_last",
    "unique",
    "warn_odd",
]
